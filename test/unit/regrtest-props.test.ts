import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/logs/lines.js';
import { parseRegrtest, type RegrtestAnalysis, RegrtestParser } from '../../src/logs/regrtest.js';

/** Every test name an analysis mentions, in any field. */
function namesIn(a: RegrtestAnalysis): string[] {
  return [
    ...a.failed,
    ...a.flaky,
    ...a.envChanged,
    ...a.crashed,
    ...a.timedOut,
    ...a.leaked,
    ...a.failedFirstRun,
    ...a.running,
    ...(a.resourceDenied ?? []),
    ...(a.noTestsRun ?? []),
    ...Object.keys(a.details),
    ...Object.keys(a.cases),
    ...Object.keys(a.tracebacks),
    ...Object.keys(a.leaks),
  ];
}

function streamed(text: string): RegrtestAnalysis {
  const parser = new RegrtestParser();
  const split = new LineSplitter((l) => parser.line(l), 4096, parser.canSkip);
  split.text(text);
  split.end();
  return parser.finish();
}

const STATUSES = [
  'passed',
  'failed',
  'failed (1 error)',
  'failed (2 errors, 1 failure)',
  'failed (env changed)',
  'failed (reference leak)',
  'failed (uncaught exception)',
  'crashed (Exit code -11)',
  'worker non-zero exit code (Exit code -6 (SIGABRT))',
  'process crashed (Exit code 1)',
  'timed out (20 min) (20 min 1 sec)',
  'skipped',
  'skipped (resource denied)',
  'run no tests',
  'ran no tests',
  'interrupted',
  'worker bug',
];

/** Names as regrtest prints them: `test_x`, `test.test_x`, `test_pkg.test_mod`. */
const nameArb = fc
  .tuple(fc.constantFrom('', 'test.'), fc.stringMatching(/^[a-z]{1,6}(?:\.test_[a-z]{1,4})?$/))
  .map(([prefix, body]) => `${prefix}test_${body}`);
const stampArb = fc.constantFrom('', '0:00:01 ', '0:00:01 load avg: 1.00 ', '12:34:56 load avg: 10.25 ');

/** A line of a run in progress: results, running tests, re-runs, crash and timeout dumps, chatter. */
const progressArb = fc.oneof(
  fc
    .tuple(stampArb, fc.nat(500), nameArb, fc.constantFrom(...STATUSES, ''), fc.option(nameArb))
    .map(([st, i, n, s, r]) =>
      `${st}[${i}/500] ${n}${s ? ` ${s}` : ''}${r ? ` -- running (1): ${r} (31.5 sec)` : ''}`.trimEnd(),
    ),
  fc.tuple(stampArb, nameArb, nameArb).map(([st, a, b]) => `${st}[3/7/1] ${a} -- ${b} failed (1 error)`),
  fc.tuple(stampArb, nameArb, nameArb).map(([st, a, b]) => `${st}running (2): ${a} (1 min), ${b} (30.0 sec)`),
  fc.tuple(stampArb, nameArb).map(([st, a]) => `${st}running: ${a} (2 hour 36 min)`),
  fc.tuple(nameArb, fc.constantFrom(...STATUSES)).map(([n, s]) => `${n} ${s}`),
  fc
    .tuple(stampArb, nameArb, fc.boolean())
    .map(
      ([st, n, m]) =>
        `${m ? '' : st}Re-running ${n} in verbose mode${m ? ' (matching: test_a, test_b)' : ''}`,
    ),
  nameArb.map((n) => `test ${n} failed -- Traceback (most recent call last):`),
  nameArb.map((n) => `test ${n} failed -- multiple errors occurred; run in verbose mode for details`),
  nameArb.map((n) => `${n} leaked [1, 1, 1] references, sum=3`),
  nameArb.map((n) => `${n} leaked [0, 1, 0] memory blocks, sum=1 (this is fine)`),
  nameArb.map((n) => `Kill <WorkerThread #1 running test=${n} pid=123 time=25 min> process group`),
  nameArb.map((n) => `Warning -- files was modified by ${n}`),
  nameArb.map((n) => `Warning -- files was modified by ${n} \r`),
  nameArb.map((n) => `Warning -- Dangling thread left by ${n}: <Thread(Thread-1, started)>`),
  nameArb.map((n) => `0:00:02 load avg: 1.00 [ 3/7] ${n} passed`),
  nameArb.map((n) => `0:00:02 [3/7/1] ${n} passed`),
  nameArb.map((n) => `0:00:02 ${n} passed`),
  nameArb.map((n) => `12 [3] ${n} passed`),
  nameArb.map((n) => `FAIL: test_y (${n}.Tests.test_y)`),
  nameArb.map((n) => `test_y (${n}.Tests.test_y) ... Timeout (0:00:03)!`),
  nameArb.map((n) => `test_y (${n}.Tests.test_y) ... ok`),
  fc.constantFrom(
    'Re-running 2 failed tests in verbose mode in subprocesses',
    '0:00:05 load avg: 1.00 Re-running failed tests in verbose mode',
    '0:00:05 load avg: 1.00 Run 7 tests in parallel using 2 worker processes (timeout: 20 min, worker timeout: 25 min)',
    'Run tests sequentially',
    'Timeout (0:20:00)!',
    'Fatal Python error: Aborted',
    'Windows fatal exception: access violation',
    'Warning -- Unraisable exception',
    'AssertionError: 1 != 2',
    'All 3 tests OK.',
    'Exception in thread Thread-1:',
    'ERROR: test_y (test_x.Tests.test_y)',
    'FAILED (failures=1)',
    'OK',
    'OK (skipped=1)',
    'Ran 1 test in 0.001s',
    'Tests result: FAILURE',
    'Total duration: 1.2 sec',
    'Kill <WorkerThread #1 running test=test_x pid=1 time=1 min> process group',
    'load avg: 1.00 [1/2] test_x passed',
    'running (1): test_x (30.1 sec)',
    '=',
    'O',
    "Warning --   After:  ['stray-file-from-test_os_lab'] ",
    'Warning -- by test',
    'Warning -- by',
    'Current thread 0x00007f3d2e1fc740 (most recent call first):',
    '  File "/b/Lib/test/test_x.py", line 1 in test_y',
    'Traceback (most recent call last):',
    'ValueError: bad',
    'OK',
    'FAILED (failures=1)',
    '',
    "command timed out: 1200 seconds without output running [b'make'], attempting to kill",
    'program finished with exit code 2',
    '$ ./python -m test -j2 test_os',
    'Using random seed: 42',
    '1 test failed again:',
  ),
);

/** Any line of a regrtest-shaped log: the runner's own forms around generated names, or noise. */
const lineArb = fc.oneof(
  progressArb,
  fc.constantFrom(
    '== Tests result: FAILURE ==',
    '== Tests result: FAILURE then SUCCESS ==',
    '== Tests result: ENV CHANGED then SUCCESS ==',
    '1 test failed:',
    '2 tests failed:',
    '1 test failed again:',
    '1 re-run test:',
    '3 re-run tests:',
    '1 test altered the execution environment (env changed):',
    '2 tests altered the execution environment:',
    '1 test skipped (resource denied):',
    '2 tests run no tests:',
    '1 test omitted:',
    '5 tests OK.',
    'Total tests: run=0 (filtered)',
    'Total test files: run=7/7 failed=1 rerun=1',
    'Result: FAILURE then SUCCESS',
    'Tests result: FAILURE',
    'Result: INTERRUPTED',
    'Test suite interrupted by signal SIGINT.',
  ),
  nameArb.map((n) => `    ${n}`),
  fc.tuple(nameArb, nameArb).map(([a, b]) => `    ${a} ${b}`),
  nameArb.map((n) => `        Warning -- files was modified by ${n}`),
  fc.string({ maxLength: 60 }),
);

describe('regrtest parser properties', () => {
  it('never names a test that is not in its input, and the fast skip changes nothing', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 80 }), (lines) => {
        const text = lines.join('\n');
        const a = parseRegrtest(text);
        for (const name of namesIn(a)) expect(text).toContain(name);
        expect(streamed(text)).toEqual(a);
      }),
      { numRuns: 3000 },
    );
  });

  it("a final summary's lists win over whatever the progress lines said", () => {
    // Distinct names; each list takes its own, as regrtest's lists never share a test.
    const setup = fc
      .uniqueArray(fc.stringMatching(/^[a-z]{2,8}$/), { minLength: 4, maxLength: 16 })
      .chain((bodies) => {
        const names = bodies.map((b) => `test_${b}`);
        return fc.record({
          names: fc.constant(names),
          progress: fc.array(fc.oneof(progressArb, fc.string({ maxLength: 40 })), { maxLength: 60 }),
          listed: fc.array(fc.constantFrom('failed', 'env', 'rerun', 'none'), {
            minLength: names.length,
            maxLength: names.length,
          }),
          rerunFailed: fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }),
          prefixed: fc.boolean(),
          withHeader: fc.boolean(),
        });
      });
    fc.assert(
      fc.property(setup, ({ names, progress, listed, rerunFailed, prefixed, withHeader }) => {
        const failed = names.filter((_, i) => listed[i] === 'failed');
        const env = names.filter((_, i) => listed[i] === 'env');
        // A re-run test either failed again (it is then in both lists) or passed.
        const rerunOnly = names.filter((_, i) => listed[i] === 'rerun');
        const rerun = [...rerunOnly, ...failed.filter((_, i) => rerunFailed[i])];
        const print = (t: string) => (prefixed ? `test.${t}` : t);
        const list = (header: string, tests: string[]) =>
          tests.length === 0
            ? []
            : ['', header.replace('N', String(tests.length)), `    ${tests.map(print).join(' ')}`];
        const summary = [
          '',
          // Without lists, only the header makes it a summary.
          ...(withHeader || failed.length + env.length + rerun.length === 0
            ? ['== Tests result: FAILURE then FAILURE ==']
            : []),
          ...list('N tests altered the execution environment (env changed):', env),
          ...list('N re-run tests:', rerun),
          ...list('N tests failed:', failed),
          '',
          'Total duration: 1 min 2 sec',
          'Result: FAILURE then FAILURE',
        ];
        // Progress lines about the same tests say other things (and may be cut anywhere).
        const chatter = names.flatMap((n, i) => [
          `0:00:0${i % 10} load avg: 1.00 [${i + 1}/${names.length}/1] ${print(n)} ${STATUSES[(i * 7) % STATUSES.length]}`,
        ]);
        const text = [...progress, ...chatter, ...summary].join('\n');
        for (const a of [parseRegrtest(text), streamed(text)]) {
          expect(a.failed).toEqual([...failed].sort());
          expect(a.envChanged).toEqual([...env].sort());
          expect(a.flaky).toEqual([...rerunOnly].sort());
          expect(a.running).toEqual([]);
          // Why a test failed (or failed first) comes from the progress lines, for the tests the summary names.
          for (const t of [...a.crashed, ...a.timedOut, ...a.leaked])
            expect([...failed, ...rerunOnly]).toContain(t);
          for (const name of namesIn(a)) expect(text).toContain(name);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
