/**
 * The failure classifier on builds recorded on the lab master (Buildbot 3.7, test/support/lab):
 * the bot's own requests (steps, logs, the failing step's tail, the test log) answered with what
 * the master answered, then the cause and the words the headline uses for it.
 */
import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/buildbot/budget.js';
import { failedStepSummary, readFailureEvidence } from '../../src/buildbot/failing-step.js';
import { BuildbotRest } from '../../src/buildbot/rest.js';
import {
  causeHeadline,
  classifyFailure,
  type FailureCause,
  INFRA_KINDS,
  kindFromState,
} from '../../src/logs/failure-kind.js';
import { analyzeBuildLog, NoTestLogError } from '../../src/logs/reader.js';
import { silentLog } from '../support/fleet.js';
import { recordedBuild, serveRecorded } from '../support/recorded-master.js';

const NAMES = ['compile', 'hang', 'fail', 'worker-lost', 'elapsed', 'disk', 'exception', 'checkout'] as const;
const recorded = Object.fromEntries(NAMES.map((n) => [n, recordedBuild(n)])) as Record<
  (typeof NAMES)[number],
  ReturnType<typeof recordedBuild>
>;

/** Classifies a recorded build the way the analyzer does: evidence first, then the test log if any. */
async function classify(name: (typeof NAMES)[number]): Promise<{ cause: FailureCause; requests: string[] }> {
  const rec = recorded[name];
  // Each build is served on its own: they come from different runs of the lab.
  const server = await serveRecorded([rec]);
  try {
    const rest = new BuildbotRest({
      baseUrl: server.url,
      budget: new RequestBudget(100, 1000),
      timeoutMs: 2000,
      log: silentLog,
      maxAttempts: 1,
    });
    const build = rec.build;
    const evidence = await readFailureEvidence(rest, build);
    const hasTestStep = evidence.steps.some((s) => s.name === 'test');
    const analysis = hasTestStep
      ? await analyzeBuildLog(rest, build, { step: 'test', log: 'stdio' }).then(
          (r) => r.analysis,
          (err: unknown) => {
            // A test step that raised before running anything has no stdio.
            if (err instanceof NoTestLogError) return undefined;
            throw err;
          },
        )
      : undefined;
    const cause = classifyFailure({
      build: { results: build.results, stateString: build.state_string },
      evidence,
      testStep: 'test',
      ...(analysis ? { running: analysis.running } : {}),
    });
    return { cause, requests: [...server.requests] };
  } finally {
    await server.close();
  }
}

describe('classifyFailure on recorded lab builds', () => {
  it('a compiler error: the compile step and gcc error line', async () => {
    const { cause, requests } = await classify('compile');
    expect(cause).toMatchObject({
      kind: 'compile',
      step: 'compile',
      detail:
        "./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'; did you mean 'SSL_read'? [-Werror=implicit-function-declaration]",
    });
    expect(cause.logUrl).toMatch(/#\/builders\/\d+\/builds\/1\/steps\/1\/logs\/stdio$/);
    expect(cause.excerpt).toEqual([
      "./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'; did you mean 'SSL_read'? [-Werror=implicit-function-declaration]",
      ' 2561 |     if (SSL_read_ex(self->ssl, mem, len, &count) <= 0) {',
      '      |         ^~~~~~~~~~~',
      'cc1: some warnings being treated as errors',
      'make: *** [Makefile:3067: Modules/_ssl.o] Error 1',
    ]);
    expect(causeHeadline(cause)).toBe(
      "failed compile: ./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'; did you mean 'SSL_read'? [-Werror=implicit-function-declaration]",
    );
    // Three requests: the steps, the failing step's logs, the end of its stdio.
    expect(requests.map((r) => r.replace(/\?.*/, ''))).toEqual([
      'builds/1/steps',
      'steps/2/logs',
      'logs/1/contents',
    ]);
  });

  it('a silence kill: the seconds from Buildbot and the test that was running from the log', async () => {
    const { cause } = await classify('hang');
    expect(cause).toMatchObject({
      kind: 'timeout',
      step: 'test',
      timeout: { seconds: 8, reason: 'silence' },
      running: ['test_threading_lab'],
    });
    expect(cause.excerpt).toEqual([
      'Using random seed 6407123',
      '0:00:00 load avg: 1.54 Run tests sequentially',
      '0:00:00 load avg: 1.54 [1/4] test_threading_lab',
    ]);
    expect(causeHeadline(cause)).toBe(
      'test killed after 8 s without output while running test_threading_lab',
    );
  });

  it('a step killed at its time limit (maxTime): "elapsed", no test named when none was', async () => {
    const { cause } = await classify('elapsed');
    expect(cause).toMatchObject({
      kind: 'timeout',
      step: 'test',
      timeout: { seconds: 7, reason: 'elapsed' },
    });
    expect(cause.running).toBeUndefined();
    expect(causeHeadline(cause)).toBe('test killed after 7 s (its time limit)');
  });

  it('a test failure stays a test failure, and the headline keeps Buildbot words', async () => {
    const { cause } = await classify('fail');
    expect(cause).toMatchObject({ kind: 'test', step: 'test' });
    expect(causeHeadline(cause)).toBeUndefined();
  });

  it('a lost worker (RETRY): the worker named by the build, the step it was in', async () => {
    const { cause } = await classify('worker-lost');
    expect(cause).toMatchObject({ kind: 'worker-lost', step: 'test', worker: 'w1' });
    expect(causeHeadline(cause)).toBe('worker w1 lost during test');
  });

  it('a full disk, whichever step hit it', async () => {
    const { cause } = await classify('disk');
    expect(cause).toMatchObject({
      kind: 'disk-full',
      step: 'compile',
      detail: "head: error writing 'standard output': No space left on device",
    });
    expect(causeHeadline(cause)).toBe(
      "disk full during compile: head: error writing 'standard output': No space left on device",
    );
  });

  it('an exception in a step on the master (purple): the exception line of err.text', async () => {
    const { cause } = await classify('exception');
    expect(cause).toMatchObject({
      kind: 'other',
      step: 'test',
      exception: true,
      detail: "builtins.RuntimeError: lab scenario 'exception': the test step raised on the master",
    });
    expect(cause.logUrl).toMatch(/\/steps\/2\/logs\/err_text$/);
    expect(causeHeadline(cause)).toBe(
      "exception in test: builtins.RuntimeError: lab scenario 'exception': the test step raised on the master",
    );
  });

  it("a failed checkout: git's own fatal line", async () => {
    const { cause } = await classify('checkout');
    expect(cause).toMatchObject({
      kind: 'checkout',
      step: 'git',
      detail: "fatal: repository '/tmp/wtc-lab/no-such-repo.git' does not exist",
    });
    expect(causeHeadline(cause)).toBe(
      "failed checkout (git): fatal: repository '/tmp/wtc-lab/no-such-repo.git' does not exist",
    );
  });
});

describe('classifyFailure on what the recordings do not show', () => {
  const compile = recorded.compile;
  const evidence = (
    tail: string[],
    step = { number: 1, name: 'compile', results: 2, stateString: 'compile (failure)' },
  ) => ({
    steps: [{ number: 0, name: 'worker_preparation', results: 0, stateString: 'worker w1 ready' }, step],
    failing: { step, tail: tail.map((text) => ({ stream: 'output' as const, text })) },
  });
  const build = { results: compile.build.results, stateString: compile.build.state_string };

  it('reads through a compiler that colours its output, and never lets control characters through', () => {
    // gcc -fdiagnostics-color=always, as a PTY gets it.
    const line =
      '\x1b[01m\x1b[K./Modules/_ssl.c:2561:9:\x1b[m\x1b[K \x1b[01;31m\x1b[Kerror: \x1b[m\x1b[Kimplicit declaration\r';
    const cause = classifyFailure({ build, evidence: evidence(['make -j8', line]), testStep: 'test' });
    expect(cause.detail).toBe('./Modules/_ssl.c:2561:9: error: implicit declaration');
  });

  it('takes make\'s line when no tool said "error:", and the last lines when make did not either', () => {
    const make = classifyFailure({
      build,
      evidence: evidence(['gcc -o python Programs/python.o', 'make: *** [Makefile:1012: python] Killed']),
      testStep: 'test',
    });
    expect(make.detail).toBe('make: *** [Makefile:1012: python] Killed');
    const none = classifyFailure({
      build,
      evidence: evidence(['checking for gcc... gcc', 'Killed']),
      testStep: 'test',
    });
    expect(none.detail).toBeUndefined();
    expect(none.excerpt).toEqual(['checking for gcc... gcc', 'Killed']);
    expect(causeHeadline(none)).toBe('failed compile');
  });

  it('a build that lost its worker before any step is a lost worker, without a step', () => {
    const cause = classifyFailure({
      build: { results: 5, stateString: 'retry lost connection' },
      evidence: { steps: [] },
      testStep: 'test',
    });
    expect(cause).toEqual({ kind: 'worker-lost', excerpt: [] });
    expect(causeHeadline(cause)).toBe('worker lost');
  });

  it('cuts a long error line to 240 characters', () => {
    const long = `x.c:1:1: error: ${'a'.repeat(100_000)}`;
    const cause = classifyFailure({
      build,
      evidence: evidence([long, ' '.repeat(100_000)]),
      testStep: 'test',
    });
    expect(cause.detail?.length).toBe(240);
    expect(cause.detail?.endsWith('…')).toBe(true);
  });
});

describe('kindFromState: what a red build is before its log is read (the routing that goes out at once)', () => {
  // [recorded build, what its state string alone says, whether its log then says infra]
  const table: Array<[(typeof NAMES)[number], string | undefined, boolean]> = [
    ['compile', 'compile', true],
    ['checkout', 'checkout', true],
    ['disk', 'compile', true], // the disk filled during the compile step
    ['hang', undefined, true], // the test step, killed for silence: only the log can tell
    ['elapsed', undefined, true],
    ['fail', undefined, false],
    ['worker-lost', undefined, true], // RETRY: never announced as red
    ['exception', undefined, false], // purple: the exception event
  ];
  it.each(table)('%s: %s', async (name, early, infra) => {
    const state = recorded[name].build.state_string;
    expect(kindFromState(state, 'test')).toBe(early);
    // What is decided early is never contradicted by the log: an early infra stays infra.
    const { cause } = await classify(name);
    expect(INFRA_KINDS.has(cause.kind)).toBe(infra);
  });

  it("reads Buildbot's summaries of failed steps, the first failure first", () => {
    expect(failedStepSummary('failed compile (failure)')).toBe('compile');
    expect(failedStepSummary('failed update (warnings) test (failure)')).toBe('test');
    expect(failedStepSummary("failed 'make buildbottest' (failure) clean (failure)")).toBe(
      "'make buildbottest'",
    );
    expect(failedStepSummary('failed git (failure) test (failure)')).toBe('git');
    for (const odd of ['build successful', 'failed', 'failed compile', 'exception test (exception)', ''])
      expect(failedStepSummary(odd)).toBeUndefined();
    // The configured test step is a test's, whatever it is called; other names are not guessed.
    expect(kindFromState('failed compile (failure)', 'compile')).toBeUndefined();
    expect(kindFromState('failed pythoninfo (failure)', 'test')).toBeUndefined();
    expect(kindFromState('failed configure (failure) test (failure)', 'test')).toBe('compile');
  });

  it('reads a long or hostile state string in linear time', () => {
    const hostile = `failed ${'a ('.repeat(50_000)}`;
    expect(failedStepSummary(hostile)).toBeUndefined();
    expect(failedStepSummary(`failed ${'x'.repeat(100_000)} (failure)`)).toBeUndefined();
  });
});
