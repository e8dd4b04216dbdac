import type { RegrtestAnalysis } from './regrtest.js';
import { reproCommands } from './repro.js';

/** `bbwatch analyze`'s human-readable report of an analysis. */
export function formatReport(a: RegrtestAnalysis): string[] {
  if (!a.summaryFound && a.failed.length === 0 && a.seed === undefined) return ['no test summary found'];
  const out: string[] = [];
  out.push(
    `Result: ${a.result ?? '(none)'}${a.partial ? '  — partial: the log ends before the final result' : ''}`,
  );
  const facts = [
    a.seed !== undefined ? `seed ${a.seed}` : undefined,
    a.workers !== undefined ? (a.workers === 0 ? 'sequential' : `${a.workers} workers`) : undefined,
    a.duration ? `duration ${a.duration}` : undefined,
    a.python ? `Python ${a.python}` : undefined,
    a.filtered ? 'filtered (only the test cases matching -m ran)' : undefined,
    a.exitCode !== undefined ? `exit code ${a.exitCode}` : undefined,
  ].filter(Boolean);
  if (facts.length > 0) out.push(facts.join(', '));
  if (a.command) out.push(`Command: ${a.command}`);
  const list = (label: string, tests: string[], withCases = false) => {
    if (tests.length === 0) return;
    out.push(`${label} (${tests.length}):`);
    for (const t of tests) {
      const cases = withCases ? (a.cases[t] ?? []) : [];
      const leak = a.leaks[t] ? ` — leaked ${a.leaks[t]}` : '';
      const detail = a.details?.[t] ? ` — ${a.details[t]}` : '';
      out.push(`  ${t}${detail}${cases.length > 0 ? ` — ${cases.join(', ')}` : ''}${leak}`);
    }
  };
  list('Failed', a.failed, true);
  list('Flaky (failed, then passed on re-run)', a.flaky, true);
  list('Env changed', a.envChanged);
  list('Crashed', a.crashed);
  list('Timed out', a.timedOut);
  list('Leaked', a.leaked);
  list('Still running when the log ended', a.running ?? []);
  list('Skipped, resource denied', a.resourceDenied ?? []);
  list('Ran no tests', a.noTestsRun ?? []);
  if (
    a.failed.length +
      a.flaky.length +
      a.envChanged.length +
      a.crashed.length +
      a.timedOut.length +
      a.leaked.length +
      (a.running?.length ?? 0) ===
    0
  ) {
    out.push('No failing, flaky or environment-changing test.');
  }
  for (const t of [...a.failed, ...a.flaky]) {
    const tb = a.tracebacks[t];
    if (!tb) continue;
    out.push(`First traceback of ${t}:`);
    for (const l of tb) out.push(`  ${l}`);
  }
  const failing = a.failed.length > 0 ? a.failed : a.flaky;
  if (failing.length > 0) {
    const r = reproCommands(a, failing);
    out.push('Reproduce:', `  ${r.alone}`, `  ${r.inOrder}`);
  }
  return out;
}

/**
 * How a failing test ended when it did not just fail: `crashed: Exit code -6 (SIGABRT)`, `timed out
 * after 0:20:00`; undefined for a plain failure. What announcements and `!why` say next to its name.
 */
export function howItEnded(a: RegrtestAnalysis, test: string): string | undefined {
  const detail = a.details?.[test];
  if (a.timedOut.includes(test)) {
    if (!detail) return 'timed out';
    if (detail.startsWith('timeout ')) return `timed out after ${detail.slice(8)}`;
    // Buildbot killed the step while the test ran: "command timed out: 1200 seconds without output".
    const killed = /^command timed out: (\d+) seconds (without output|elapsed)/.exec(detail);
    if (killed) return `killed after ${killed[1]} s${killed[2] === 'elapsed' ? '' : ' without output'}`;
    // regrtest's main process killed the worker ("killed after 25 min").
    return detail.startsWith('killed after ') ? `timed out, ${detail}` : `timed out: ${detail}`;
  }
  if (a.crashed.includes(test)) return detail ? `crashed: ${detail}` : 'crashed';
  return undefined;
}

/** The `--json` object: the keys scripts rely on first, then the rest of the analysis. */
export function jsonReport(a: RegrtestAnalysis): Record<string, unknown> {
  return {
    result: a.result ?? null,
    partial: a.partial,
    seed: a.seed ?? null,
    failed: a.failed,
    flaky: a.flaky,
    envChanged: a.envChanged,
    crashed: a.crashed,
    timedOut: a.timedOut,
    leaked: a.leaked,
    running: a.running ?? [],
    details: a.details ?? {},
    resourceDenied: a.resourceDenied ?? [],
    noTestsRun: a.noTestsRun ?? [],
    filtered: a.filtered ?? false,
    exitCode: a.exitCode ?? null,
    summaryFound: a.summaryFound,
    command: a.command ?? null,
    python: a.python ?? null,
    workers: a.workers ?? null,
    failedFirstRun: a.failedFirstRun,
    cases: a.cases,
    tracebacks: a.tracebacks,
    leaks: a.leaks,
    duration: a.duration ?? null,
    counts: a.counts,
  };
}
