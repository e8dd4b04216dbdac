import type { RegrtestAnalysis } from '../logs/regrtest.js';
import { failingMethod, failureReason } from './reason.js';
import type { SearchTarget } from './search.js';

/** Failing tests searched per build: the first few are the news; the rest are in the log. */
export const MAX_TARGETS = 3;

/**
 * What to search the tracker for, per failing test of a build (its failed tests, else its flaky
 * ones): the test file, the failing method and its class when the log names them, and the
 * normalised error line.
 */
export function searchTargets(
  a: RegrtestAnalysis,
  builder: string,
  workers: readonly string[] = [],
  limit = MAX_TARGETS,
): SearchTarget[] {
  const tests = a.failed.length > 0 ? a.failed : a.flaky;
  return tests.slice(0, limit).map((test) => {
    const cases = a.cases[test] ?? [];
    const trace = a.tracebacks[test] ?? [];
    const method = failingMethod(cases, trace);
    // The class the log printed with the method (`FAIL: test_x (test.test_posix.TestPosixSpawn.test_x)`).
    const classes = a.caseClasses?.[test];
    // A case written `Class.test_x` (a `-m` match) names it too.
    const dotted = cases.find((c) => c.includes('.') && c.endsWith(`.${method}`));
    const klass =
      method && classes && Object.hasOwn(classes, method)
        ? classes[method]
        : dotted?.split('.').slice(-2, -1)[0];
    const reason = failureReason(test, cases, trace, workers);
    return {
      test,
      ...(method ? { method } : {}),
      ...(klass ? { klass } : {}),
      ...(reason.normalised ? { errorLine: reason.normalised } : {}),
      builder,
    };
  });
}

/** The reasons (reason.ts) of a build's failed tests, as keys: two builds share a failure when they share a key. */
export function reasonKeys(a: RegrtestAnalysis, workers: readonly string[] = []): string[] {
  return failureReasons(a, workers).map((r) => r.key);
}

/** The reasons of a build's failed tests, each with its test file; one per distinct key. */
export function failureReasons(
  a: RegrtestAnalysis,
  workers: readonly string[] = [],
): Array<{ test: string; key: string }> {
  const out = new Map<string, string>();
  for (const test of a.failed) {
    const { key } = failureReason(test, a.cases[test] ?? [], a.tracebacks[test] ?? [], workers);
    if (!out.has(key)) out.set(key, test);
  }
  return [...out].map(([key, test]) => ({ test, key }));
}
