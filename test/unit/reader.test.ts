/**
 * The test log read from the master tail first (src/logs/reader.ts), over builds recorded on the
 * lab master (test/fixtures/failures/): Buildbot's own header lines (`h`) are read as such, never as
 * regrtest's output nor as the command, wherever the window starts.
 */
import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/buildbot/budget.js';
import { BuildbotRest } from '../../src/buildbot/rest.js';
import { analyzeBuildLog } from '../../src/logs/reader.js';
import { silentLog } from '../support/fleet.js';
import { type RecordedBuild, recordedBuild, serveRecorded } from '../support/recorded-master.js';

async function read(rec: RecordedBuild) {
  const server = await serveRecorded([rec]);
  try {
    const rest = new BuildbotRest({
      baseUrl: server.url,
      budget: new RequestBudget(100, 1000),
      timeoutMs: 2000,
      log: silentLog,
      maxAttempts: 1,
    });
    const result = await analyzeBuildLog(rest, rec.build, { step: 'test', log: 'stdio' });
    return { ...result, requests: [...server.requests] };
  } finally {
    await server.close();
  }
}

/**
 * The recorded build's test log made 66 lines long, its summary 20 lines from the end: the first
 * window (16 lines from the end) has no summary, the next (64) starts at its third line, inside
 * Buildbot's opening header lines (` watching logfiles {}`).
 */
function headerWindow(): RecordedBuild {
  const rec = recordedBuild('fail');
  const testStep = rec.steps.find((s) => s.name === 'test');
  const log = testStep ? rec.logs[String(testStep.stepid)]?.[0] : undefined;
  if (!testStep || !log) throw new Error('the recording has no test log');
  const lines = rec.contents[String(log.logid)] ?? [];
  const opening = lines.findIndex((l) => !l.startsWith('h'));
  expect(opening).toBe(6);
  const trailing = Array.from({ length: 20 }, (_, i) => `otrailing line ${i}`);
  const kept = [
    ...lines.slice(0, 6 + 22),
    // "o    test_ssl_lab" (under "1 test failed again:") to "oTests result: FAILURE then FAILURE"
    ...lines.slice(-18, -2),
    ...trailing,
    // "hprogram finished with exit code 2", "helapsedTime=..."
    ...lines.slice(-2),
  ];
  expect(kept).toHaveLength(66);
  return {
    ...rec,
    logs: { ...rec.logs, [String(testStep.stepid)]: [{ ...log, num_lines: kept.length }] },
    contents: { ...rec.contents, [String(log.logid)]: kept },
  };
}

describe('the test log read tail first from the master', () => {
  it("reads Buildbot's closing header lines in a tail window: the step's exit code", async () => {
    const r = await read(recordedBuild('fail'));
    // The summary is in the first window from the end: no need for the raw log.
    expect(r.requests.some((q) => q.includes('/raw'))).toBe(false);
    expect(r.analysis.failed).toEqual(['test_ssl_lab']);
    expect(r.analysis.exitCode).toBe(2);
    // The command is the log's first line, read with the head.
    expect(r.analysis.command).toMatch(/regrtest_step\.sh 'AMD64 Debian root 3\.x'$/);
  });

  it("skips Buildbot's opening header lines when a window starts among them", async () => {
    const r = await read(headerWindow());
    expect(r.requests.some((q) => q.includes('/raw'))).toBe(false);
    expect(r.analysis.failed).toEqual(['test_ssl_lab']);
    expect(r.analysis.result).toBe('FAILURE then FAILURE');
    expect(r.analysis.command).toMatch(/regrtest_step\.sh 'AMD64 Debian root 3\.x'$/);
    expect(r.analysis.exitCode).toBe(2);
  });
});
