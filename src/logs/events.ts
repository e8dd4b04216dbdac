import { Results } from '../buildbot/results.js';
import type { NotifyEvent } from '../config/schema.js';
import type { RegrtestAnalysis } from './regrtest.js';

/**
 * The events a build's test log adds to its result, given the previous verdict's result and
 * analysis (pure; the tables in test/unit/log-events.test.ts are its specification):
 * - newfailure: red after red, and a test fails that did not fail in the previous red build;
 * - flaky: orange, with tests that passed only on re-run and none that failed for good.
 */
export function testEvents(
  results: number,
  analysis: RegrtestAnalysis,
  previous: { results: number | null; analysis: RegrtestAnalysis | undefined } | undefined,
): Array<{ event: NotifyEvent; newFailures?: string[] }> {
  if (results === Results.WARNINGS && analysis.flaky.length > 0 && analysis.failed.length === 0)
    return [{ event: 'flaky' }];
  if (results === Results.FAILURE && previous?.results === Results.FAILURE && previous.analysis) {
    const before = new Set(previous.analysis.failed);
    const fresh = analysis.failed.filter((t) => !before.has(t));
    if (fresh.length > 0) return [{ event: 'newfailure', newFailures: fresh }];
  }
  return [];
}
