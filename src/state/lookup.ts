import type { ArgSpec } from '../chat/command.js';
import { UsageError, UserError } from '../errors.js';
import { type Tone, TONE_COLOUR, toneOf } from '../messages/message.js';
import { onBranch } from './branches.js';
import type { BuilderStatus } from './fleet.js';

/**
 * The one way text names builders: `<master>:` first narrows to that master's builders (when it
 * has any); a name equal to the text (any case) wins; otherwise, as `also` says, the builders
 * whose name contains the text (`contains`), the group the text names, a tag or a name suffix
 * (`group`: `custom` → `... custom`), or none (`none`: exact names only).
 */
export function resolveBuilders<T extends Pick<BuilderStatus, 'master' | 'name' | 'tags'>>(
  builders: readonly T[],
  text: string,
  also: 'contains' | 'group' | 'none',
): { builders: T[]; exact: boolean } {
  const wanted = text.trim().toLowerCase();
  const colon = wanted.indexOf(':');
  const scoped = colon > 0 ? builders.filter((b) => b.master.toLowerCase() === wanted.slice(0, colon)) : [];
  const [pool, query] = scoped.length > 0 ? [scoped, wanted.slice(colon + 1).trim()] : [builders, wanted];
  const exact = pool.filter((b) => b.name.toLowerCase() === query);
  if (exact.length > 0) return { builders: exact, exact: true };
  if (also === 'contains')
    return { builders: pool.filter((b) => b.name.toLowerCase().includes(query)), exact: false };
  if (also === 'group' && query !== '' && !/\s/.test(query))
    return { builders: pool.filter((b) => onBranch(b.name, b.tags, query)), exact: false };
  return { builders: [], exact: false };
}

/**
 * Finds the one builder a person means: an exact name (any case), or `<master>:<name>`, or text
 * that only one builder's name contains. Otherwise says what matched, briefly.
 */
export function findBuilder(builders: readonly BuilderStatus[], text: string): BuilderStatus {
  if (text.trim() === '') throw new UserError('Which builder?');
  const { builders: partial, exact: isExact } = resolveBuilders(builders, text, 'contains');
  const exact = isExact ? partial : [];
  if (partial.length === 1) return partial[0] as BuilderStatus;
  const shown = text.trim().slice(0, 60);
  if (partial.length === 0) throw new UserError(`No builder matches '${shown}'.`);
  const names = partial.slice(0, 4).map((b) => (exact.length > 1 ? `${b.master}:${b.name}` : b.name));
  const more = partial.length > 4 ? ` and ${partial.length - 4} more` : '';
  throw new UserError(
    `'${shown}' matches ${partial.length} builders: ${names.join(', ')}${more}. Be more specific.`,
  );
}

/** Results a build lookup may default to, and how to say them. */

/**
 * `<builder> [build]` as !why and !repro take it: the named build, or the builder's latest build
 * whose result is one of `defaults` (red or orange unless said otherwise).
 */
export function pickBuild(
  builders: readonly BuilderStatus[],
  words: readonly string[],
  defaults: readonly Tone[] = ['failure', 'warnings'],
): {
  builder: BuilderStatus;
  build: { buildid: number; builderid: number; number: number; results: number | null };
} {
  const { words: args, number } = trailingBuildNumber(words);
  if (args.length === 0) throw new UsageError('Which builder?');
  const builder = findBuilder(builders, args.join(' '));
  const build =
    number === undefined
      ? builder.recent.find((b) => b.results !== null && defaults.includes(toneOf(b.results)))
      : builder.recent.find((b) => b.number === number);
  if (!build) {
    const colours = defaults.map((tone) => TONE_COLOUR[tone]);
    const said = colours.length > 1 ? `${colours.slice(0, -1).join(', ')} or ${colours.at(-1)}` : colours[0];
    throw new UserError(
      number === undefined
        ? `${builder.name} has no ${said} build in its recent history.`
        : `${builder.name} #${number} is not among the builds the bot knows (the last ${builder.recent.length}).`,
    );
  }
  return { builder, build };
}

/** The arguments of commands about one build: `<builder> [build]` (see pickBuild). */
export const BUILD_ARGS: readonly ArgSpec[] = [
  { name: 'builder', description: 'the builder', kind: 'builder', required: true },
  { name: 'build', description: 'the build number (default: the latest red or orange one)', kind: 'integer' },
];

/** `<builder name words> [#]<number>` → the name's words and the build number, when one ends them. */
export function trailingBuildNumber(words: readonly string[]): {
  words: string[];
  number: number | undefined;
} {
  const last = words.at(-1);
  if (words.length > 1 && last && /^#?\d+$/.test(last)) {
    return { words: words.slice(0, -1), number: Number(last.replace('#', '')) };
  }
  return { words: [...words], number: undefined };
}
