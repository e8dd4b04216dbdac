import { readFailureEvidence } from '../buildbot/failing-step.js';
import type { BuildbotRest } from '../buildbot/rest.js';
import { classifyFailure, type FailureCause } from './failure-kind.js';
import {
  analyzeBuildLog,
  type BuildLogAnalysis,
  type BuildRef,
  type LogSource,
  NoTestLogError,
} from './reader.js';

/**
 * Results whose failure is classified from the build's steps (src/logs/failure-kind.ts): red and
 * purple; and RETRY, the result of a build whose worker went away, when `!why` asks about one.
 */
export const CLASSIFIED: ReadonlySet<number | null> = new Set([2, 4, 5]);

export interface BuildRead {
  /** The test log's analysis; undefined when the build has no test log (it never got that far). */
  result?: BuildLogAnalysis;
  /** Why it failed, for a build whose result is classified. */
  cause?: FailureCause;
}

/**
 * What a finished build's logs say, as the live analyzer and the back-fill read them: the test log
 * (tail first), and why it failed (its steps and the end of the failing one's log, unless `cause`
 * is known already) side by side. A build that never got to its test step (a compile failure) has
 * no test log, which costs one request; that is an error (NoTestLogError) only when there is no
 * cause either.
 */
export async function readBuild(
  rest: BuildbotRest,
  build: BuildRef,
  logs: LogSource,
  opts: {
    /** How it ended, when known: the cause is read only then. */
    ended?: { results: number | null; stateString: string } | undefined;
    cause?: FailureCause | undefined;
    wantTracebacks?: boolean;
    signal?: AbortSignal;
  } = {},
): Promise<BuildRead> {
  const { ended, signal } = opts;
  const [evidence, read] = await Promise.all([
    !opts.cause && ended && CLASSIFIED.has(ended.results)
      ? readFailureEvidence(rest, build, signal)
      : Promise.resolve(undefined),
    analyzeBuildLog(rest, build, logs, {
      ...(opts.wantTracebacks ? { wantTracebacks: true } : {}),
      ...(signal ? { signal } : {}),
    }).catch((err: unknown) => {
      if (err instanceof NoTestLogError) return err;
      throw err;
    }),
  ]);
  if (read instanceof NoTestLogError && !evidence && !opts.cause) throw read;
  const result = read instanceof NoTestLogError ? undefined : read;
  let cause = opts.cause;
  if (evidence && ended) {
    cause = classifyFailure({
      build: { results: ended.results, stateString: ended.stateString },
      evidence,
      testStep: logs.step,
      ...(result ? { running: result.analysis.running } : {}),
    });
  }
  return { ...(result ? { result } : {}), ...(cause ? { cause } : {}) };
}
