import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/logs/lines.js';
import { parseRegrtest, type RegrtestAnalysis, RegrtestParser } from '../../src/logs/regrtest.js';

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
  };
}

const none = { failed: [], flaky: [], envChanged: [], crashed: [], timedOut: [], leaked: [] };

describe('regrtest parser on genuine Python 3.11 output (test/fixtures/regrtest/generate.sh)', () => {
  it.each<[string, Partial<ReturnType<typeof outcomes>> & { seed: number; workers: number }]>([
    ['pass-seq', { result: 'SUCCESS', seed: 1234, workers: 0 }],
    ['pass-par', { result: 'SUCCESS', seed: 1234, workers: 2 }],
    ['hard-par', { result: 'FAILURE then FAILURE', failed: ['test_hard'], seed: 4321, workers: 2 }],
    ['flaky-par', { result: 'FAILURE then SUCCESS', flaky: ['test_flaky'], seed: 777, workers: 2 }],
    ['flaky-seq', { result: 'FAILURE then SUCCESS', flaky: ['test_flaky'], seed: 777, workers: 0 }],
    ['env-par', { result: 'ENV CHANGED', envChanged: ['test_envchange'], seed: 99, workers: 2 }],
    [
      'mixed-par',
      {
        result: 'FAILURE then FAILURE',
        failed: ['test_hard'],
        flaky: ['test_flaky'],
        envChanged: ['test_envchange'],
        seed: 2024,
        workers: 2,
      },
    ],
    // The re-run happens in the main process, which the crash then kills: the log stops there.
    [
      'crash-par',
      {
        result: undefined,
        partial: true,
        failed: ['test_crasher'],
        crashed: ['test_crasher'],
        seed: 5,
        workers: 2,
      },
    ],
    [
      'crash-seq',
      {
        result: undefined,
        partial: true,
        failed: ['test_crasher'],
        crashed: ['test_crasher'],
        seed: 5,
        workers: 0,
      },
    ],
    [
      'timeout-par',
      {
        result: undefined,
        partial: true,
        failed: ['test_sleeper'],
        timedOut: ['test_sleeper'],
        seed: 6,
        workers: 2,
      },
    ],
  ])('%s', (name, expected) => {
    const a = parseRegrtest(fixture(`logs/${name}.log`));
    const { seed, workers, ...sets } = expected;
    expect(outcomes(a)).toEqual({ partial: false, ...none, ...sets });
    expect(a.seed).toBe(seed);
    expect(a.workers).toBe(workers);
  });

  it('names the failing test cases and keeps the first traceback, trimmed', () => {
    const a = parseRegrtest(fixture('logs/mixed-par.log'));
    expect(a.cases).toEqual({ test_flaky: ['test_timing'], test_hard: ['test_error', 'test_handshake'] });
    expect(a.tracebacks.test_hard).toEqual([
      'Traceback (most recent call last):',
      '  File "/work/main/test/fixtures/regrtest/tests/test_hard.py", line 10, in test_error',
      '    raise ValueError("bad value in error test")',
      'ValueError: bad value in error test',
    ]);
    expect(a.failedFirstRun).toEqual(['test_flaky', 'test_hard']);
    expect(a.duration).toBe('613 ms');
  });

  it('keeps the crash site of a crashed test', () => {
    const a = parseRegrtest(fixture('logs/crash-par.log'));
    expect(a.tracebacks.test_crasher?.[0]).toBe('Fatal Python error: Segmentation fault');
    expect(a.tracebacks.test_crasher?.join('\n')).toContain('test_crasher.py", line 8 in test_segv');
  });
});

describe('regrtest parser on 3.12+ excerpts (hand-checked against libregrtest)', () => {
  it('parallel run with a re-run in subprocesses, a timeout, env changed', () => {
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

  it('a log cut short after a worker was killed reports only what it saw', () => {
    const a = parseRegrtest(fixture('excerpts/py313-worker-killed.log'));
    expect(outcomes(a)).toEqual({
      ...none,
      result: undefined,
      partial: true,
      failed: ['test_multiprocessing_spawn', 'test_socket'],
      crashed: [],
      timedOut: ['test_multiprocessing_spawn'],
    });
    expect(a.tracebacks.test_socket?.at(-1)).toBe('ConnectionRefusedError: [Errno 111] Connection refused');
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
    const lines: string[] = [];
    const split = new LineSplitter((l) => {
      lines.push(l);
      parser.line(l);
    }, 1000);
    const text = fixture('logs/hard-par.log');
    const cut = text.indexOf('\n') + 1;
    split.text(text.slice(0, cut));
    for (let i = 0; i < 6; i++) split.push(new Uint8Array(1024 * 1024).fill(120)); // 6 MiB of "x", no newline
    split.text('\n');
    split.push(new TextEncoder().encode(text.slice(cut)));
    split.end();
    expect(lines[1]).toHaveLength(1000);
    expect(outcomes(parser.finish())).toMatchObject({
      result: 'FAILURE then FAILURE',
      failed: ['test_hard'],
    });
  });

  it('survives invalid UTF-8 and CRLF line ends', () => {
    const parser = new RegrtestParser();
    const split = new LineSplitter((l) => parser.line(l));
    const text = fixture('logs/flaky-par.log').replace(/\n/g, '\r\n');
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
});

describe('a tail of the log', () => {
  it('holding only the final block still tells flaky from failed', () => {
    const lines = fixture('logs/flaky-seq.log').trimEnd().split('\n');
    const a = parseRegrtest(lines.slice(-10).join('\n'));
    expect(outcomes(a)).toEqual({
      ...none,
      result: 'FAILURE then SUCCESS',
      partial: false,
      flaky: ['test_flaky'],
    });
  });
});
