import { isCodeVerdict, isVerdict, Results } from '../buildbot/results.js';
import type { NotifyEvent } from '../config/schema.js';

/** The minimum a transition rule needs of a build. */
export interface ResultOnly {
  results: number | null;
}

const GOOD: ReadonlySet<number | null> = new Set([Results.SUCCESS, Results.WARNINGS]);

/**
 * The builder's colour before the current build: the newest of `previous` (newest first) that is a
 * verdict on the code. EXCEPTION (purple) is infrastructure trouble, so green → purple → red still
 * counts as turning red, and red → purple → green as a recovery.
 */
export function previousVerdict<T extends ResultOnly>(previous: readonly T[]): T | undefined {
  return previous.find((b) => isCodeVerdict(b.results));
}

/**
 * The builds Buildbot retried (RETRY: a lost worker, mostly) just before the current one, from
 * `previous` (newest first) up to the last verdict: not announced themselves, they are worth a line
 * in the announcement of the build that ended the retries red or purple.
 */
export function retriedBefore<T extends ResultOnly>(previous: readonly T[]): T[] {
  const retried: T[] = [];
  for (const build of previous) {
    if (isVerdict(build.results)) break;
    if (build.results === Results.RETRY) retried.push(build);
  }
  return retried;
}

/**
 * Which event a finished build is, given the builds before it (newest first), or undefined when it
 * is nothing to announce. Pure: the tables in test/unit/transitions.test.ts are its specification.
 * - failure: red after green or orange (red after red is not announced again);
 * - exception: purple after anything but purple;
 * - recovery: green or orange after red.
 */
export function classify(current: ResultOnly, previous: readonly ResultOnly[]): NotifyEvent | undefined {
  if (current.results === Results.EXCEPTION) {
    const last = previous.find((b) => isVerdict(b.results));
    return last?.results === Results.EXCEPTION ? undefined : 'exception';
  }
  const before = previousVerdict(previous);
  if (!before) return undefined;
  if (current.results === Results.FAILURE && GOOD.has(before.results)) return 'failure';
  if (GOOD.has(current.results) && before.results === Results.FAILURE) return 'recovery';
  return undefined;
}

/** How a transition is routed: `infra` for a red whose failure is not a test's (a compile, a checkout). */
export type Route = 'infra';

/**
 * Which event a finished build is and how it is routed (pure), given the builds before it (newest
 * first) and `infra`, which says whether a red build is known to have failed for something other
 * than a test (from its record alone: see kindFromState in src/logs/failure-kind.ts):
 * - a red that is `infra` is routed as `infra`, not `failure`;
 * - a recovery from a red streak that was all `infra` is routed as `infra` too (those who heard
 *   only test failures never heard that it was red);
 * - a red that is not `infra` after reds that all were is a `failure`: those who hear only test
 *   failures heard nothing of that streak, and now a test fails.
 * The tables in test/unit/transitions.test.ts are its specification.
 */
export function decideEvent<T extends ResultOnly>(
  current: T,
  previous: readonly T[],
  infra: (build: T) => boolean,
): { event: NotifyEvent; route?: Route } | undefined {
  const event = classify(current, previous);
  const reds = redsBefore(previous);
  if (event === 'failure') return infra(current) ? { event, route: 'infra' } : { event };
  if (event === 'recovery') return reds.every(infra) ? { event, route: 'infra' } : { event };
  if (event) return { event };
  if (current.results === Results.FAILURE && !infra(current) && reds.length > 0 && reds.every(infra))
    return { event: 'failure' };
  return undefined;
}

/** The red verdicts `previous` (newest first) starts with, purple and non-verdicts skipped. */
function redsBefore<T extends ResultOnly>(previous: readonly T[]): T[] {
  const reds: T[] = [];
  for (const build of previous) {
    if (!isCodeVerdict(build.results)) continue;
    if (build.results !== Results.FAILURE) break;
    reds.push(build);
  }
  return reds;
}

/**
 * The oldest build of the unbroken streak that `previous` (newest first) starts with, counting
 * only verdicts whose result is in `colour`: when the builder turned that colour. `complete` is
 * false when the history ran out first (the streak is at least that long).
 */
export function streakStart<T extends ResultOnly>(
  previous: readonly T[],
  colour: ReadonlySet<number | null>,
): { first: T; complete: boolean } | undefined {
  let first: T | undefined;
  for (const build of previous) {
    if (!isCodeVerdict(build.results)) continue;
    if (!colour.has(build.results)) return first ? { first, complete: true } : undefined;
    first = build;
  }
  return first ? { first, complete: false } : undefined;
}

export const GREEN_OR_ORANGE = GOOD;
export const RED: ReadonlySet<number | null> = new Set([Results.FAILURE]);
