import type { FleetView } from '../state/fleet.js';
import { builderBranch } from '../state/branches.js';
import type { ArgKind, CommandInfo } from './command.js';

/** Names the fleet does not hold: tests with history, found by prefix in the store. */
export interface CompletionSources {
  tests?(prefix: string): string[];
}

/**
 * Completions for an argument being typed (Discord autocomplete, the console's Tab): names that
 * start with the prefix first, then names that contain it, each group sorted, at most `limit`.
 */
export function completions(
  fleet: FleetView,
  commands: readonly CommandInfo[],
  kind: ArgKind,
  prefix: string,
  limit = 25,
  sources: CompletionSources = {},
): string[] {
  let pool: string[];
  switch (kind) {
    case 'builder':
      pool = fleet.builders().map((b) => b.name);
      break;
    case 'branch':
      pool = fleet.builders().flatMap((b) => builderBranch(b.name, b.tags) ?? []);
      break;
    case 'tag':
      pool = fleet.builders().flatMap((b) => b.tags);
      break;
    case 'command':
      pool = commands.map((c) => c.name);
      break;
    case 'test':
      pool = sources.tests?.(prefix.trim()) ?? [];
      break;
    default:
      return [];
  }
  // A test may be typed as `test.test_ssl`; the store knows it as `test_ssl`.
  const wanted = (kind === 'test' ? prefix.trim().replace(/^test\./, '') : prefix.trim()).toLowerCase();
  const unique = [...new Set(pool)].sort((a, b) => a.localeCompare(b));
  const starts = unique.filter((n) => n.toLowerCase().startsWith(wanted));
  const contains = unique.filter(
    (n) => !n.toLowerCase().startsWith(wanted) && n.toLowerCase().includes(wanted),
  );
  return [...starts, ...contains].slice(0, limit);
}
