import type { ArgKind, CommandInfo } from '../../src/chat/command.js';

/** The core's completion service (AdapterServices.complete). */
export type Complete = (kind: ArgKind, prefix: string, limit?: number) => string[];

/** Kinds the core completes from its state (the Discord adapter offers the same). */
const COMPLETED: ReadonlySet<ArgKind> = new Set(['builder', 'branch', 'tag', 'command', 'test']);
/** Enough for a double Tab to list a whole fleet's builders. */
const LIMIT = 200;

/**
 * Tab completion of a console line up to the cursor, as readline's completer returns it: the
 * candidates, and the text at the end of the line that they replace. The first word completes to a
 * command name (a leading `!` is kept); then each argument by its kind, as the command's metadata
 * declares it. A builder name may have spaces, so a builder argument in first place takes the rest
 * of the line: `last amd64 deb` → `last AMD64 Debian root 3.x `.
 */
export function completeLine(
  line: string,
  commands: readonly CommandInfo[],
  complete: Complete,
): [string[], string] {
  const body = line.replace(/^\s*!?/, '');
  const nameEnd = body.search(/\s/);
  if (nameEnd < 0) return finish(complete('command', body, LIMIT), body);

  const name = body.slice(0, nameEnd).toLowerCase();
  const command = commands.find((c) => c.name === name || c.aliases?.includes(name));
  const args = command?.args ?? [];
  const rest = body.slice(nameEnd).replace(/^\s+/, '');
  if (args[0]?.kind === 'builder') return finish(complete('builder', rest, LIMIT), rest);

  const words = rest.split(/\s+/);
  const typed = words.at(-1) ?? '';
  const index = words.length - 1;
  const restAt = args.findIndex((a) => a.rest);
  const arg = restAt >= 0 && index >= restAt ? args[restAt] : args[index];
  if (!arg) return [[], typed];
  if (arg.choices) return finish([...arg.choices], typed);
  // The store knows `test.test_ssl` as `test_ssl`: candidates are matched against that.
  const bare = arg.kind === 'test' ? typed.replace(/^test\./, '') : typed;
  if (COMPLETED.has(arg.kind)) return finish(complete(arg.kind, typed, LIMIT), typed, bare);
  return [[], typed];
}

/**
 * The candidates readline can use: those that start with the typed text (any case: readline then
 * replaces it, `amd` → `AMD64 `), or else the one name that contains it. A unique one gets a
 * space after it, ready for the next argument.
 */
function finish(candidates: readonly string[], typed: string, match = typed): [string[], string] {
  const lower = match.toLowerCase();
  const starting = candidates.filter((c) => c.toLowerCase().startsWith(lower));
  // Several names that only contain the text have no common start to put in its place.
  const hits = starting.length > 0 ? starting : candidates.length === 1 ? [...candidates] : [];
  return [hits.length === 1 ? [`${hits[0]} `] : hits, typed];
}
