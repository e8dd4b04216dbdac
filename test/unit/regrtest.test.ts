import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/logs/lines.js';
import {
  parseRegrtest,
  qualifiedCases,
  type RegrtestAnalysis,
  RegrtestParser,
} from '../../src/logs/regrtest.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/regrtest/${name}`, import.meta.url), 'utf8');

/** The outcome sets of an analysis, for exact comparisons. */
function outcomes(a: RegrtestAnalysis) {
  return {
    result: a.result,
    partial: a.partial,
    failed: a.failed,
    flaky: a.flaky,
    envChanged: a.envChanged,
    crashed: a.crashed,
    timedOut: a.timedOut,
    leaked: a.leaked,
    running: a.running,
  };
}

/** What the bot reads from a big log: the line splitter with the parser's fast skip. */
function streamed(text: string): RegrtestAnalysis {
  const parser = new RegrtestParser();
  const split = new LineSplitter((l) => parser.line(l), 4096, parser.canSkip);
  split.text(text);
  split.end();
  return parser.finish();
}

const none = { failed: [], flaky: [], envChanged: [], crashed: [], timedOut: [], leaked: [], running: [] };

/** The interpreters test/fixtures/regrtest/generate.sh ran (logs/<version>/). */
const OLD = ['3.8.18', '3.9.18', '3.10.13', '3.11.2-debian'] as const;
const NEW = ['3.11.7', '3.12.1', '3.13.0'] as const;
type Version = (typeof OLD)[number] | (typeof NEW)[number];
const isOld = (v: Version) => (OLD as readonly string[]).includes(v);

interface Golden {
  outcomes: Partial<ReturnType<typeof outcomes>>;
  details?: Record<string, string>;
  resourceDenied?: string[];
  noTestsRun?: string[];
  filtered?: boolean;
  seed: number;
  workers: number;
}

/**
 * What each genuine log says, per scenario (see generate.sh), read from the logs themselves:
 * ≤3.11.2 re-runs failed tests in the main process, so a crash or a timeout there kills the run
 * (partial); 3.11.7+ re-runs in workers, re-runs env-changed tests too, and names the signal.
 */
function golden(v: Version, scenario: string): Golden {
  const old = isOld(v);
  const par = scenario.endsWith('-par') || scenario === 'slowci';
  const base = { seed: 0, workers: par ? 2 : 0 };
  switch (scenario) {
    case 'pass-seq':
    case 'pass-par':
      return { ...base, seed: 1234, outcomes: { result: 'SUCCESS' } };
    case 'hard-seq':
    case 'hard-par':
      return { ...base, seed: 4321, outcomes: { result: 'FAILURE then FAILURE', failed: ['test_hard'] } };
    case 'flaky-seq':
    case 'flaky-par':
      return { ...base, seed: 777, outcomes: { result: 'FAILURE then SUCCESS', flaky: ['test_flaky'] } };
    case 'env-par':
      return {
        ...base,
        seed: 99,
        outcomes: {
          result: old ? 'ENV CHANGED' : 'ENV CHANGED then ENV CHANGED',
          envChanged: ['test_envchange'],
        },
      };
    case 'mixed-par':
      return {
        ...base,
        seed: 2024,
        outcomes: {
          result: 'FAILURE then FAILURE',
          failed: ['test_hard'],
          flaky: ['test_flaky'],
          envChanged: ['test_envchange'],
        },
      };
    case 'envonce-par':
      // 3.11.7+ re-runs test_envonce, which passes clean: still env changed, never flaky.
      return {
        ...base,
        seed: 31,
        outcomes: { result: 'FAILURE then FAILURE', failed: ['test_hard'], envChanged: ['test_envonce'] },
      };
    case 'crash-par':
      return {
        ...base,
        seed: 5,
        outcomes: {
          result: old ? undefined : 'FAILURE then FAILURE',
          partial: old,
          failed: ['test_crasher'],
          crashed: ['test_crasher'],
        },
        details: { test_crasher: old ? 'Exit code -11' : 'Exit code -11 (SIGSEGV)' },
      };
    case 'crash-seq':
      return {
        ...base,
        seed: 5,
        outcomes: { result: undefined, partial: true, failed: ['test_crasher'], crashed: ['test_crasher'] },
        details: { test_crasher: 'Fatal Python error: Segmentation fault' },
      };
    case 'abort-par':
      return {
        ...base,
        seed: 8,
        outcomes: {
          result: old ? undefined : 'FAILURE then FAILURE',
          partial: old,
          failed: ['test_abort'],
          crashed: ['test_abort'],
        },
        details: { test_abort: old ? 'Exit code -6' : 'Exit code -6 (SIGABRT)' },
      };
    case 'timeout-par':
      return {
        ...base,
        seed: 6,
        outcomes: {
          result: old ? undefined : 'FAILURE then FAILURE',
          partial: old,
          failed: ['test_sleeper'],
          timedOut: ['test_sleeper'],
        },
        details: { test_sleeper: 'timeout 0:00:03' },
      };
    case 'timeout-seq':
      return {
        ...base,
        seed: 6,
        outcomes: { result: undefined, partial: true, failed: ['test_sleeper'], timedOut: ['test_sleeper'] },
        details: { test_sleeper: 'timeout 0:00:03' },
      };
    case 'resource-par':
      return { ...base, seed: 12, outcomes: { result: 'SUCCESS' }, resourceDenied: ['test_needsnet'] };
    case 'empty-par':
      return { ...base, seed: 13, outcomes: { result: 'SUCCESS' }, noTestsRun: ['test_empty'] };
    case 'filtered-par':
      return {
        ...base,
        seed: 14,
        outcomes: { result: 'SUCCESS' },
        noTestsRun: [
          'test_crasher',
          'test_envchange',
          'test_flaky',
          'test_hard',
          'test_pass_b',
          'test_sleeper',
        ],
        // ≤3.11.2 prints no totals to say so.
        filtered: !old,
      };
    case 'interrupted-seq':
    case 'interrupted-par':
      // Ctrl-C while test_sleeper sleeps: no test failed, none is still running.
      return { ...base, seed: 15, outcomes: { result: 'INTERRUPTED' } };
    case 'failrerun-par':
      return { ...base, seed: 16, outcomes: { result: 'FAILURE then SUCCESS', flaky: ['test_flaky'] } };
    case 'slowci':
      return {
        ...base,
        seed: 17,
        outcomes: {
          result: 'FAILURE then FAILURE',
          failed: ['test_hard'],
          flaky: ['test_flaky'],
          envChanged: ['test_envchange'],
        },
      };
    default:
      throw new Error(`no golden entry for ${scenario}`);
  }
}

const SCENARIOS = [
  'pass-seq',
  'pass-par',
  'hard-par',
  'hard-seq',
  'flaky-par',
  'flaky-seq',
  'env-par',
  'mixed-par',
  'envonce-par',
  'crash-par',
  'crash-seq',
  'abort-par',
  'timeout-par',
  'timeout-seq',
  'resource-par',
  'empty-par',
  'filtered-par',
  'interrupted-seq',
  'interrupted-par',
];
const CASES: Array<[Version, string]> = [
  ...[...OLD, ...NEW].flatMap((v) => SCENARIOS.map((s): [Version, string] => [v, s])),
  // --fail-rerun and --slow-ci exist from 3.11.7 (the new libregrtest) on.
  ...NEW.flatMap((v) => ['failrerun-par', 'slowci'].map((s): [Version, string] => [v, s])),
];

describe('golden: genuine regrtest logs of CPython 3.8 to 3.13 (test/fixtures/regrtest/generate.sh)', () => {
  it.each(CASES)('%s %s', (version, scenario) => {
    const text = fixture(`logs/${version}/${scenario}.log`);
    const want = golden(version, scenario);
    const a = parseRegrtest(text);
    expect(outcomes(a)).toEqual({ partial: false, ...none, ...want.outcomes });
    expect(a.details).toEqual(want.details ?? {});
    expect(a.resourceDenied ?? []).toEqual(want.resourceDenied ?? []);
    expect(a.noTestsRun ?? []).toEqual(want.noTestsRun ?? []);
    expect(a.filtered ?? false).toBe(want.filtered ?? false);
    expect(a.seed).toBe(want.seed);
    expect(a.workers).toBe(want.workers);
    // The bot streams big logs through a fast skip: it must see the same.
    expect(streamed(text)).toEqual(a);
  });

  it('every log was generated with the exit code its result implies', () => {
    // 0 success, 2 failure, 3 env changed (--fail-env-changed), 5 flaky with --fail-rerun, 130
    // interrupted; a crash or timeout in ≤3.11.2's in-process re-run kills the run (signal or 1).
    const exit = (v: string, s: string) => fixture(`logs/${v}/${s}.exit`).trim();
    expect(exit('3.13.0', 'failrerun-par')).toBe('exit code 5');
    expect(exit('3.13.0', 'flaky-par')).toBe('exit code 0');
    expect(exit('3.13.0', 'env-par')).toBe('exit code 3');
    expect(exit('3.13.0', 'interrupted-seq')).toBe('exit code 130');
    expect(exit('3.8.18', 'crash-par')).toBe('exit code 139');
    expect(exit('3.13.0', 'crash-par')).toBe('exit code 2');
  });

  it('names the failing test cases and keeps the first traceback, trimmed', () => {
    const a = parseRegrtest(fixture('logs/3.11.2-debian/mixed-par.log'));
    expect(a.cases).toEqual({ test_flaky: ['test_timing'], test_hard: ['test_error', 'test_handshake'] });
    expect(a.tracebacks.test_flaky).toEqual([
      'Traceback (most recent call last):',
      '  File "/tmp/bbwatch-regrtest/tests/test_flaky.py", line 13, in test_timing',
      '    raise TimeoutError("timed out waiting for the server")',
      'TimeoutError: timed out waiting for the server',
    ]);
    expect(a.failedFirstRun).toEqual(['test_flaky', 'test_hard']);
  });

  it('keeps the class of each failing case, in the 3.8-3.10 id form and the 3.11+ one', () => {
    // 3.8-3.10 print `FAIL: test_handshake (test_hard.HardTests)`, 3.11+ `(test_hard.HardTests.test_handshake)`.
    for (const v of [...OLD, ...NEW]) {
      const text = fixture(`logs/${v}/hard-seq.log`);
      const a = parseRegrtest(text);
      expect(a.cases.test_hard, v).toEqual(['test_error', 'test_handshake']);
      expect(qualifiedCases(a, 'test_hard'), v).toEqual(['HardTests.test_error', 'HardTests.test_handshake']);
      expect(streamed(text), v).toEqual(a);
    }
  });

  it('takes a case and its class from the verbose "... FAIL" line when the log ends before the FAIL: block', () => {
    const lines = fixture('logs/3.13.0/hard-seq.log').split('\n');
    const at = lines.indexOf('test_handshake (test_hard.HardTests.test_handshake) ... FAIL');
    expect(at).toBeGreaterThan(0);
    const cut = `${lines.slice(0, at + 1).join('\n')}\n`;
    for (const a of [parseRegrtest(cut), streamed(cut)]) {
      expect(a.caseClasses).toEqual({ test_hard: { test_error: 'HardTests', test_handshake: 'HardTests' } });
    }
  });

  it('a case printed without a class (an older analysis, a -m match) stays the method alone', () => {
    const a = parseRegrtest(fixture('excerpts/py311-flaky-summary.log'));
    expect(qualifiedCases(a, 'test_tools')).toEqual(['test_freeze_simple_script']);
    expect(qualifiedCases({ cases: { test_x: ['test_y'] } }, 'test_x')).toEqual(['test_y']);
  });

  it('keeps the crash site of a crashed test', () => {
    const a = parseRegrtest(fixture('logs/3.13.0/abort-par.log'));
    expect(a.tracebacks.test_abort?.[0]).toBe('Fatal Python error: Aborted');
    const seq = parseRegrtest(fixture('logs/3.8.18/crash-seq.log'));
    expect(seq.tracebacks.test_crasher?.join('\n')).toContain('test_crasher.py", line 8 in test_segv');
  });

  it('reference leaks from a debug build (python3.11-dbg -R 3:3), sequential and parallel', () => {
    for (const name of ['refleak-seq', 'refleak-par']) {
      const a = parseRegrtest(fixture(`logs/3.11.2-debian-dbg/${name}.log`));
      expect(outcomes(a)).toMatchObject({ failed: ['test_leaky'], leaked: ['test_leaky'], flaky: [] });
      expect(a.leaks.test_leaky).toMatch(/^\[\d+, \d+, \d+\] references, sum=\d+$/);
      expect(streamed(fixture(`logs/3.11.2-debian-dbg/${name}.log`))).toEqual(a);
    }
  });

  it('--slow-ci re-executes itself: the "+ python ... -m test" line is the command', () => {
    const a = parseRegrtest(fixture('logs/3.13.0/slowci.log'));
    expect(a.command).toMatch(
      /^\/root\/\.pyenv\/versions\/3\.13\.0\/bin\/python3\.13 -W default -bb -E -m test /,
    );
    expect(a.command).toContain('--slow-ci');
  });
});

describe('hand-checked excerpts of forms this machine cannot produce (shapes from libregrtest; see each file)', () => {
  it('3.13 parallel run with a re-run in subprocesses, a timeout, env changed', () => {
    const a = parseRegrtest(fixture('excerpts/py313-parallel-rerun.log'));
    expect(outcomes(a)).toEqual({
      ...none,
      result: 'FAILURE then FAILURE',
      partial: false,
      failed: ['test_concurrent_futures'],
      flaky: ['test_ctypes', 'test_ssl'],
      envChanged: ['test_tempfile'],
      timedOut: ['test_concurrent_futures'],
    });
    expect(a.details).toEqual({ test_concurrent_futures: 'timeout 20 min' });
    expect(a.resourceDenied).toEqual(['test_asyncio.test_events']);
    expect(a.seed).toBe(2319473);
    expect(a.workers).toBe(10);
    expect(a.python).toBe('3.13.0 (main, Oct  7 2024, 10:00:00) [GCC 12.2.0]');
    expect(a.cases.test_ctypes).toEqual(['test_find_on_libpath', 'test_null_dlsym']);
    expect(a.counts).toMatchObject({ 'tests.run': '42576', 'tests.failures': '3', 'files.rerun': '3' });
    expect(a.duration).toBe('41 min 10 sec');
  });

  it('reference leaks', () => {
    const a = parseRegrtest(fixture('excerpts/py313-refleak.log'));
    expect(outcomes(a)).toEqual({
      ...none,
      result: 'FAILURE',
      partial: false,
      failed: ['test_os'],
      leaked: ['test_os'],
    });
    expect(a.leaks.test_os).toBe('[6, 6, 6] references, sum=18');
  });

  it('the ≤3.11 "Tests result:" form with a re-run test', () => {
    const a = parseRegrtest(fixture('excerpts/py311-flaky-summary.log'));
    expect(outcomes(a)).toEqual({
      ...none,
      result: 'FAILURE then SUCCESS',
      partial: false,
      flaky: ['test_tools'],
    });
    expect(a.cases.test_tools).toEqual(['test_freeze_simple_script']);
  });

  it('a log cut short after a worker was killed past its worker timeout reports only what it saw', () => {
    const a = parseRegrtest(fixture('excerpts/py313-worker-killed.log'));
    expect(outcomes(a)).toEqual({
      ...none,
      result: undefined,
      partial: true,
      failed: ['test_multiprocessing_spawn', 'test_socket'],
      timedOut: ['test_multiprocessing_spawn'],
    });
    expect(a.details).toEqual({ test_multiprocessing_spawn: 'killed after 25 min' });
    expect(a.tracebacks.test_socket?.at(-1)).toBe('ConnectionRefusedError: [Errno 111] Connection refused');
  });

  it('3.12 development "process crashed (Exit code 1)" with faulthandler\'s "Timeout (0:20:00)!"', () => {
    const a = parseRegrtest(fixture('excerpts/py312-process-crashed.log'));
    expect(outcomes(a)).toEqual({
      ...none,
      result: 'FAILURE',
      partial: false,
      failed: ['test_socket', 'test_ssl'],
      crashed: ['test_ssl'],
      timedOut: ['test_socket'],
    });
    expect(a.details).toEqual({ test_socket: 'timeout 0:20:00', test_ssl: 'Exit code -6 (SIGABRT)' });
    expect(a.tracebacks.test_socket?.[0]).toBe('Timeout (0:20:00)!');
  });

  it('env-changed summary with per-test reasons under each name', () => {
    const a = parseRegrtest(fixture('excerpts/main-env-changed-reasons.log'));
    expect(outcomes(a)).toEqual({
      ...none,
      result: 'FAILURE',
      partial: false,
      failed: ['test_os'],
      envChanged: ['test_tempfile', 'test_threading'],
    });
  });

  it('Windows: the rt.bat command after the prompt, access violation, Windows paths, CRLF', () => {
    const text = fixture('excerpts/windows-crash.log');
    expect(text).toContain('\r\n');
    const a = parseRegrtest(text);
    expect(outcomes(a)).toEqual({
      ...none,
      result: 'FAILURE then FAILURE',
      partial: false,
      failed: ['test_winconsoleio'],
      flaky: ['test_os'],
      crashed: ['test_winconsoleio'],
    });
    expect(a.details).toEqual({ test_winconsoleio: 'Exit code 3221225477 (STATUS_ACCESS_VIOLATION)' });
    expect(a.tracebacks.test_winconsoleio?.[0]).toBe('Windows fatal exception: access violation');
    expect(a.tracebacks.test_os?.at(-1)).toBe('AssertionError: False is not true');
    expect(a.command).toBe(
      '"D:\\buildarea\\3.13.example-win\\build\\PCbuild\\amd64\\python_d.exe"  -u -Wd -E -bb -m test -uall -rwW --slowest --timeout=1200 --fail-env-changed -j1 -j2 --junit-xml test-results.xml -j40',
    );
    expect(a.python).toBe('3.13.0 (main, Oct  7 2024, 10:00:00) [MSC v.1940 64 bit (AMD64)]');
    expect(streamed(text)).toEqual(a);
  });

  it('a hung run killed by Buildbot for silence names the test that was running', () => {
    const text = fixture('excerpts/buildbot-silence-kill.log');
    const a = parseRegrtest(text);
    expect(outcomes(a)).toEqual({
      ...none,
      result: undefined,
      partial: true,
      failed: ['test_concurrent_futures.test_deadlock', 'test_ssl'],
      timedOut: ['test_concurrent_futures.test_deadlock'],
      running: ['test_concurrent_futures.test_deadlock'],
    });
    expect(a.details).toEqual({
      'test_concurrent_futures.test_deadlock': 'command timed out: 1200 seconds without output',
    });
    expect(a.exitCode).toBe(-1);
    // The command regrtest ran (after --slow-ci re-executed it), not make's.
    expect(a.command).toBe(
      './python -u -W default -bb -E -m test --slow-ci --timeout=0 -j2 --junit-xml test-results.xml -j10 --dont-add-python-opts',
    );
    expect(streamed(text)).toEqual(a);
  });
});

describe('genuine logs cut or tailed the way the bot meets them', () => {
  const lines = (path: string) => fixture(path).replace(/\n$/, '').split('\n');
  const cutAfter = (all: string[], pred: (l: string) => boolean) => all.slice(0, all.findIndex(pred) + 1);

  it('summary lists without their "== Tests result" header still decide (3.13, 3.8)', () => {
    for (const path of ['logs/3.13.0/mixed-par.log', 'logs/3.8.18/mixed-par.log']) {
      const all = lines(path);
      const header = all.lastIndexOf('== Tests result: FAILURE then FAILURE ==');
      expect(header).toBeGreaterThan(0);
      // Drop the header and stop right after the lists (before the totals and the result line).
      const withoutHeader = [...all.slice(0, header), ...all.slice(header + 1)];
      const end = withoutHeader.findIndex((l) => l.startsWith('Total duration'));
      const a = parseRegrtest(withoutHeader.slice(0, end).join('\n'));
      expect(outcomes(a)).toEqual({
        ...none,
        result: undefined,
        partial: true,
        failed: ['test_hard'],
        flaky: ['test_flaky'],
        envChanged: ['test_envchange'],
      });
    }
  });

  it('a log cut after "test test_x failed -- Traceback" reports that failure, as partial', () => {
    const all = lines('logs/3.10.13/flaky-par.log');
    const cut = cutAfter(all, (l) => l.startsWith('test test_flaky failed -- Traceback'));
    expect(cut.length).toBeGreaterThan(2);
    const a = parseRegrtest(
      [...cut, '  File "/tmp/bbwatch-regrtest/tests/test_flaky.py", line 13'].join('\n'),
    );
    expect(outcomes(a)).toEqual({ ...none, result: undefined, partial: true, failed: ['test_flaky'] });
    // Without the progress line before it (a tail), the line alone is the evidence.
    const alone = parseRegrtest(cut.slice(-1).join('\n'));
    expect(alone.failed).toEqual(['test_flaky']);
    expect(alone.partial).toBe(true);
  });

  it('3.13 re-run order: a tail without "Re-running N failed tests" still finds the flaky test', () => {
    const all = lines('logs/3.13.0/flaky-par.log');
    const from = all.findIndex((l) => / \[1\/1\] test_flaky passed$/.test(l));
    const to = all.findIndex((l) => l === '== Tests result: FAILURE then SUCCESS ==');
    expect(from).toBeGreaterThan(0);
    // Cut before the final summary: only the re-run's own lines say it passed.
    const cut = all.slice(from, to).join('\n');
    expect(cut).not.toContain('failed tests in verbose mode');
    for (const a of [parseRegrtest(cut), streamed(cut)]) {
      expect(outcomes(a)).toEqual({ ...none, result: undefined, partial: true, flaky: ['test_flaky'] });
    }
  });

  it('the final block alone (a short tail) tells flaky from failed', () => {
    for (const v of ['3.8.18', '3.13.0']) {
      const all = lines(`logs/${v}/flaky-seq.log`);
      const a = parseRegrtest(
        all.slice(all.lastIndexOf('== Tests result: FAILURE then SUCCESS ==')).join('\n'),
      );
      expect(outcomes(a)).toEqual({
        ...none,
        result: 'FAILURE then SUCCESS',
        partial: false,
        flaky: ['test_flaky'],
      });
    }
  });

  it('a sequential run cut while a test runs names that test as running', () => {
    const all = lines('logs/3.13.0/timeout-seq.log');
    const started = all.findIndex((l) => / \[\d\/7\] test_sleeper$/.test(l));
    const a = parseRegrtest(all.slice(0, started + 1).join('\n'));
    expect(outcomes(a)).toEqual({ ...none, result: undefined, partial: true, running: ['test_sleeper'] });
  });

  it("Buildbot's tagged lines: the header names the command, and how the step ended", () => {
    const body = lines('logs/3.13.0/timeout-seq.log');
    const started = body.findIndex((l) => / \[\d\/7\] test_sleeper$/.test(l));
    const parser = new RegrtestParser();
    parser.taggedLine('hmake buildbottest TESTOPTS="-j2"');
    for (const l of body.slice(0, started + 1)) parser.taggedLine(`o${l}`);
    parser.taggedLine('h');
    parser.taggedLine(
      "hcommand timed out: 1200 seconds without output running [b'make'], attempting to kill",
    );
    parser.taggedLine('hprocess killed by signal 9');
    parser.taggedLine('hprogram finished with exit code -1');
    const a = parser.finish();
    expect(a.command).toBe('make buildbottest TESTOPTS="-j2"');
    expect(outcomes(a)).toEqual({
      ...none,
      result: undefined,
      partial: true,
      failed: ['test_sleeper'],
      timedOut: ['test_sleeper'],
      running: ['test_sleeper'],
    });
    expect(a.details).toEqual({ test_sleeper: 'command timed out: 1200 seconds without output' });
    expect(a.exitCode).toBe(-1);
  });

  it('the command line as pasted or echoed before the output', () => {
    const refleak = fixture('logs/3.11.2-debian-dbg/refleak-seq.log');
    expect(parseRegrtest(`$ ./python -m test -R 3:3 test_builtin\n${refleak}`).command).toBe(
      './python -m test -R 3:3 test_builtin',
    );
    const run = fixture('logs/3.13.0/hard-par.log');
    expect(parseRegrtest(`python3.13 -m test test_asyncio -wW -j8\n${run}`).command).toBe(
      'python3.13 -m test test_asyncio -wW -j8',
    );
    // Output that mentions "-m test" is not a command, and nothing after the run started is.
    expect(parseRegrtest(`see the docs for: python -m test\n${run}`).command).toBeUndefined();
    expect(parseRegrtest(`${run}\n./python -m test test_os`).command).toBeUndefined();
  });

  it('a coloured summary (main, FORCE_COLOR) reads the same', () => {
    const text = fixture('logs/3.13.0/mixed-par.log');
    // results.py of main wraps each list header in {yellow}...{reset} or {red}...{reset}.
    const coloured = text.replace(
      /^(\d+ (?:re-run )?tests? [^\n]*:|\d+ re-run tests?:)$/gm,
      '\x1b[1;31m$1\x1b[0m',
    );
    expect(coloured).not.toBe(text);
    expect(outcomes(parseRegrtest(coloured))).toEqual(outcomes(parseRegrtest(text)));
  });
});

describe('bad input', () => {
  it('garbage and binary data give no summary and invent no test', () => {
    const bytes = new Uint8Array(64 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
    const parser = new RegrtestParser();
    const split = new LineSplitter((l) => parser.line(l));
    split.push(bytes);
    split.end();
    const a = parser.finish();
    expect(a).toMatchObject({
      ...none,
      result: undefined,
      partial: true,
      summaryFound: false,
      seed: undefined,
    });
  });

  it('lines of several MiB are cut for matching, and the lines after them still count', () => {
    const parser = new RegrtestParser();
    const seen: string[] = [];
    const split = new LineSplitter((l) => {
      seen.push(l);
      parser.line(l);
    }, 1000);
    const text = fixture('logs/3.11.2-debian/hard-par.log');
    const cut = text.indexOf('\n') + 1;
    split.text(text.slice(0, cut));
    for (let i = 0; i < 6; i++) split.push(new Uint8Array(1024 * 1024).fill(120)); // 6 MiB of "x", no newline
    split.text('\n');
    split.push(new TextEncoder().encode(text.slice(cut)));
    split.end();
    expect(seen[1]).toHaveLength(1000);
    expect(outcomes(parser.finish())).toMatchObject({
      result: 'FAILURE then FAILURE',
      failed: ['test_hard'],
    });
  });

  it('survives invalid UTF-8 and CRLF line ends', () => {
    const parser = new RegrtestParser();
    const split = new LineSplitter((l) => parser.line(l));
    const text = fixture('logs/3.12.1/flaky-par.log').replace(/\n/g, '\r\n');
    const bytes = new TextEncoder().encode(text);
    split.push(bytes.slice(0, 100));
    split.push(new Uint8Array([0xff, 0xfe, 0xc3, 0x0a]));
    split.push(bytes.slice(100));
    split.end();
    expect(outcomes(parser.finish())).toMatchObject({
      result: 'FAILURE then SUCCESS',
      flaky: ['test_flaky'],
    });
  });

  it('"(this is fine)" leaks are not leaks', () => {
    const a = parseRegrtest('test_os leaked [0, 1, 0] memory blocks, sum=1 (this is fine)\n');
    expect(a.leaked).toEqual([]);
  });
});
