/**
 * Buildbot's result codes (`buildbot.process.results`), named, and the questions the bot asks of
 * them. The one place outside of which no code compares a build's `results` with a number.
 */
export const Results = {
  SUCCESS: 0,
  WARNINGS: 1,
  FAILURE: 2,
  SKIPPED: 3,
  EXCEPTION: 4,
  RETRY: 5,
  CANCELLED: 6,
} as const;
export type ResultCode = (typeof Results)[keyof typeof Results];

/** The results that are a verdict on the code (green, orange, red): see `isCodeVerdict`. */
export const CODE_VERDICTS: readonly ResultCode[] = [Results.SUCCESS, Results.WARNINGS, Results.FAILURE];

/** Buildbot's own word for each result (`Results[code]` in buildbot.process.results). */
export const RESULT_NAMES: Readonly<Record<number, string>> = {
  [Results.SUCCESS]: 'success',
  [Results.WARNINGS]: 'warnings',
  [Results.FAILURE]: 'failure',
  [Results.SKIPPED]: 'skipped',
  [Results.EXCEPTION]: 'exception',
  [Results.RETRY]: 'retry',
  [Results.CANCELLED]: 'cancelled',
};

type Result = number | null | undefined;

/** Results that say nothing about the code: a skipped, retried or cancelled build (or none yet). */
const NOT_A_VERDICT: ReadonlySet<Result> = new Set([
  null,
  undefined,
  Results.SKIPPED,
  Results.RETRY,
  Results.CANCELLED,
]);

/**
 * Whether a finished build's result says something about the code or its infrastructure: green,
 * orange, red or purple; not skipped, retried, cancelled or unfinished.
 */
export function isVerdict(results: Result): results is number {
  return !NOT_A_VERDICT.has(results);
}

/**
 * Whether a result is a verdict on the code itself: green, orange or red. EXCEPTION (purple) is
 * infrastructure trouble, so green → purple → red still counts as turning red.
 */
export function isCodeVerdict(results: Result): results is number {
  return isVerdict(results) && results !== Results.EXCEPTION;
}

/** Green or orange: the code is fine. */
export function isGood(results: Result): boolean {
  return results === Results.SUCCESS || results === Results.WARNINGS;
}

/** Red: the build failed. */
export function isRed(results: Result): boolean {
  return results === Results.FAILURE;
}

/** Buildbot's word for a result (`failure`), `result 9` for a code this bot does not know. */
export function resultName(results: number): string {
  return RESULT_NAMES[results] ?? `result ${results}`;
}
