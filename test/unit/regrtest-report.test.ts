import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { completeAnalysis, parseRegrtest, type RegrtestAnalysis } from '../../src/logs/regrtest.js';
import { formatReport, howItEnded, jsonReport } from '../../src/logs/report.js';
import { reproCommands } from '../../src/logs/repro.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/regrtest/${name}`, import.meta.url), 'utf8');

describe('what bbwatch analyze and !repro make of the new findings', () => {
  it('a hung run: the test still running, how it ended, the exit code', () => {
    const report = formatReport(parseRegrtest(fixture('excerpts/buildbot-silence-kill.log')));
    expect(report).toContain('Still running when the log ended (1):');
    expect(report).toContain(
      '  test_concurrent_futures.test_deadlock — command timed out: 1200 seconds without output',
    );
    expect(report[1]).toMatch(/, exit code -1$/);
    // The build's own flags, from the command regrtest ran (--slow-ci means -u all).
    expect(report).toContain(
      '  ./python -m test -u all --timeout 0 --randseed 1123581 -v test_concurrent_futures.test_deadlock test_ssl',
    );
  });

  it('a crash says the signal next to the test', () => {
    const report = formatReport(parseRegrtest(fixture('logs/3.13.0/abort-par.log')));
    expect(report).toContain('Crashed (1):');
    expect(report).toContain('  test_abort — Exit code -6 (SIGABRT)');
  });

  it('--json carries the new fields', () => {
    const json = jsonReport(parseRegrtest(fixture('logs/3.13.0/filtered-par.log')));
    expect(json).toMatchObject({
      running: [],
      details: {},
      resourceDenied: [],
      filtered: true,
      exitCode: null,
      noTestsRun: [
        'test_crasher',
        'test_envchange',
        'test_flaky',
        'test_hard',
        'test_pass_b',
        'test_sleeper',
      ],
    });
  });

  it('!repro keeps regrtest options, not the interpreter options before "-m test"', () => {
    const a = parseRegrtest(fixture('excerpts/windows-crash.log'));
    expect(reproCommands(a, ['test_winconsoleio']).alone).toBe(
      './python -m test -u all --timeout 1200 --fail-env-changed --randseed 1618033 -v test_winconsoleio',
    );
  });

  it('an analysis stored before running and details existed reads with them empty', () => {
    const stored = JSON.parse(
      JSON.stringify({ ...parseRegrtest(''), running: undefined, details: undefined }),
    ) as RegrtestAnalysis;
    expect(stored.running).toBeUndefined();
    expect(completeAnalysis(stored)).toMatchObject({ running: [], details: {} });
    expect(formatReport(completeAnalysis(stored))).toEqual(['no test summary found']);
  });
});

describe('how a failed test ended, as announcements and !why say it next to its name', () => {
  const said = (name: string) => {
    const a = parseRegrtest(fixture(name));
    return Object.fromEntries(a.failed.map((t) => [t, howItEnded(a, t)]));
  };
  it.each([
    ['logs/3.13.0/abort-par.log', { test_abort: 'crashed: Exit code -6 (SIGABRT)' }],
    ['logs/3.8.18/crash-par.log', { test_crasher: 'crashed: Exit code -11' }],
    ['logs/3.11.2-debian/timeout-par.log', { test_sleeper: 'timed out after 0:00:03' }],
    ['logs/3.13.0/timeout-par.log', { test_sleeper: 'timed out after 0:00:03' }],
    [
      'excerpts/windows-crash.log',
      { test_winconsoleio: 'crashed: Exit code 3221225477 (STATUS_ACCESS_VIOLATION)' },
    ],
    [
      'excerpts/py312-process-crashed.log',
      { test_socket: 'timed out after 0:20:00', test_ssl: 'crashed: Exit code -6 (SIGABRT)' },
    ],
    [
      'excerpts/py313-worker-killed.log',
      { test_multiprocessing_spawn: 'timed out, killed after 25 min', test_socket: undefined },
    ],
    [
      'excerpts/buildbot-silence-kill.log',
      { 'test_concurrent_futures.test_deadlock': 'killed after 1200 s without output', test_ssl: undefined },
    ],
    ['logs/3.12.1/hard-par.log', { test_hard: undefined }],
  ])('%s', (name, expected) => {
    expect(said(name)).toEqual(expected);
  });
});
