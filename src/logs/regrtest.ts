/**
 * A streaming parser for the output of CPython's test runner (regrtest, `python -m test`), in every
 * format from 3.8 to current main, parallel and sequential. Feed it lines in order; `finish()`
 * says what the log shows, and nothing it does not.
 *
 * Two sources of truth, in this order:
 * 1. The run's own summary (`== Tests result: X ==` and the lists after it, or the lists alone when
 *    the header is cut off): when a summary comes after the last test activity, its lists decide
 *    which tests failed, were flaky or changed the environment; progress lines only add why
 *    (crashed, timed out, leaked, the exit code) to the tests it names.
 * 2. Without such a summary (a log cut short: killed worker, silence timeout), the evidence seen:
 *    progress lines, re-run results, `test test_x failed -- ...`, crash and timeout dumps. The
 *    result is then `partial`, and names only tests that are in the log.
 *
 * Memory is bounded: per test it keeps names, a few traceback lines and flags. Test names are kept
 * without the `test.` package prefix (`test_asyncio.test_tasks`, see `normalize`).
 */

export type TestOutcome = 'failed' | 'flaky' | 'envChanged' | 'crashed' | 'timedOut' | 'leaked';

export interface RegrtestAnalysis {
  /** The final state (`FAILURE then SUCCESS`, `ENV CHANGED`...), or undefined when the log ends before it. */
  result: string | undefined;
  /** The log ends before regrtest's final result line. */
  partial: boolean;
  /** A test summary (`== Tests result`, or its lists) was found at all. */
  summaryFound: boolean;
  seed: number | undefined;
  /** The command that ran the tests, when the log shows it. */
  command: string | undefined;
  python: string | undefined;
  /** Worker processes (0 when sequential), when the log says. */
  workers: number | undefined;
  /** Tests that failed for good (after any re-run). */
  failed: string[];
  /** Tests that failed, then passed when re-run. */
  flaky: string[];
  envChanged: string[];
  crashed: string[];
  timedOut: string[];
  leaked: string[];
  /** Tests that failed in the first run (before any re-run). */
  failedFirstRun: string[];
  /**
   * Tests still running when the log ended (the last `running (N): ...` line, or a sequential
   * test started and never finished); empty when the run finished.
   */
  running: string[];
  /** Per test, the signal, exit code or timeout that ended it (`Exit code -6 (SIGABRT)`, `timeout 0:20:00`). */
  details: Record<string, string>;
  /** Tests skipped because a resource (`-u network`...) was not enabled. (Absent in older analyses.) */
  resourceDenied?: string[];
  /** Tests that ran no test case (`N tests run no tests:`, often with `-m`). */
  noTestsRun?: string[];
  /** Only some test cases were selected (`-m`/`--match`): the totals say `(filtered)`. */
  filtered?: boolean;
  /** The step's exit code, from Buildbot's `program finished with exit code N` line. */
  exitCode?: number | undefined;
  /**
   * Failing test cases per test file (method names, `test_x`), from `(matching: ...)`, `FAIL:`/
   * `ERROR:` lines and verbose `test_x (...) ... FAIL` lines.
   */
  cases: Record<string, string[]>;
  /**
   * Per test file, the class of each failing case whose id the log printed
   * (`test_x` → `TestPosixSpawn`); see {@link qualifiedCases}. (Absent in older analyses.)
   */
  caseClasses?: Record<string, Record<string, string>>;
  /** The first traceback of each failing test, trimmed to a few lines. */
  tracebacks: Record<string, string[]>;
  /** Refleak details per test (`[6, 6, 6] references, sum=18`). */
  leaks: Record<string, string>;
  duration: string | undefined;
  counts: Record<string, string>;
}

const TIMESTAMP = /^(?:\d+:\d\d:\d\d )?(?:load avg: \d+\.\d+ )?/;
const PROGRESS = /^\[\s*\d+\/\d+(?:\/\d+)?\] (\S+)(?: (.*))?$/;
const SEED = /^Using random seed:? (\d+)/;
const RUN = /^Run (?:\d+ )?tests? (?:in parallel using (\d+) (?:child|worker) process|sequentially)/;
const WORKER_TIMEOUT = /worker timeout: ([^)]+)\)/;
const LIST_HEADER = /^(\d+) (re-run tests?|tests?)(?: ([^:]*))?:$/;
const OK_COUNT = /^(?:All )?(\d+) tests? OK\.$/;
const RERUN_ONE = /^Re-running (?:test '?)?(test[\w.]*?)'? in verbose mode(?: \(matching: (.*)\))?$/;
const CASE_HEADER = /^(FAIL|ERROR): (\S+) \(([\w.]+)\)/;
/** unittest's verbose line of a failing case: `test_x (test.test_posix.TestPosixSpawn.test_x) ... FAIL`. */
const VERBOSE_CASE = /^(test\w*) \(([\w.]+)\)(?: \[.*\]| \(.*\))? \.\.\. (?:FAIL|ERROR)$/;
const FAIL_BYTES = Buffer.from(' ... FAIL');
const ERROR_BYTES = Buffer.from(' ... ERROR');
/** `(this is fine)` leaks (deltas that are not all positive) do not end in the sum: not matched. */
const LEAK = /^(test[\w.]+) leaked (\[[^\]]*\] [\w ]+, sum=-?\d+)$/;
const FAILED_TB = /^test (test[\w.]+) (failed|crashed) -- (.*)$/;
/** A sequential run prints the last test's result alone: `test_x failed (1 error)`. */
const BARE_RESULT =
  /^(test[\w.]*) ((?:passed|failed|skipped|crashed|timed out|interrupted|run no tests|ran no tests|process crashed|worker).*)$/;
const KILL = /^Kill <\w+ #\d+ running test=(test[\w.]+) pid=\d+ time=([^>]+)>/;
const TIMEOUT_DUMP = /^Timeout \((\d+:\d\d:\d\d)\)!$/;
const BUILDBOT_KILL = /^command timed out: (\d+ seconds (?:without output|elapsed))/;
const EXIT_CODE = /\(Exit code (-?\d+(?: \(\w+\))?)\)/;
const TEST_NAME = /^test[\w.]*$/;
const TB_KEEP = 10;
/**
 * The lines the parser reads (see `line()`), by their first two characters; others are skipped
 * unless a list or traceback is open. `Using`, `Result`/`Re-running`/`Run`, `Tests result`/`Total`/
 * `Timeout` (and `Traceback` under a `FAIL:` header, see `canSkip`), `==`, `FAIL:`/`Fatal`, `ERROR:`,
 * `All N tests OK.`, `Kill`, `OK`, `load avg`, `running`; `[` and colour codes whatever follows.
 */
const INTERESTING: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(256);
for (const [first, seconds] of Object.entries({
  U: 's',
  R: 'eu',
  T: 'eoi',
  '=': '=',
  F: 'Aa',
  E: 'R',
  A: 'l',
  K: 'i',
  O: 'K',
  l: 'o',
  r: 'u',
})) {
  const next = new Uint8Array(256);
  for (const ch of seconds) next[ch.charCodeAt(0)] = 1;
  INTERESTING[first.charCodeAt(0)] = next;
}
INTERESTING[91 /* [ */] = new Uint8Array(256).fill(1);
INTERESTING[0x1b] = new Uint8Array(256).fill(1);
const MAX_TRACEBACKS = 200;
const MAX_NAMES = 5000;
const COMMAND_BYTES = Buffer.from('command timed out: ');
const PROGRAM_BYTES = Buffer.from('program finished with exit code ');

/** What one summary block (`== Tests result: X ==` and the lists after it) says. */
interface Block {
  /** undefined for lists found without their header (a cut log, older runners). */
  state: string | undefined;
  lists: Map<ListKind, string[]>;
}

type ListKind =
  'failed' | 'env changed' | 're-run' | 'skipped' | 'resource denied' | 'run no tests' | 'omitted';

type Capture = { test: string; lines: string[]; total: number; kind: 'traceback' | 'crash' };

/** What a progress line's status says happened to a test. */
type Status =
  | 'passed'
  | 'failed'
  | 'env'
  | 'refleak'
  | 'crashed'
  | 'timeout'
  | 'skipped'
  | 'denied'
  | 'notests'
  | 'interrupted'
  | 'unknown';

/** The previous line, when it matters for the next one (3.12+ prints a worker's output after its result). */
type Previous = { test: string; status: Status; text: string } | 'skipped pass' | undefined;

export class RegrtestParser {
  private seed: number | undefined;
  private bodyCommand: string | undefined;
  private headerCommand: string | undefined;
  private python: string | undefined;
  private workers: number | undefined;
  private workerTimeoutSec: number | undefined;
  private result: string | undefined;
  private duration: string | undefined;
  private filtered = false;
  private exitCode: number | undefined;
  private readonly counts: Record<string, string> = {};
  private readonly blocks: Block[] = [];
  /** Test activity (progress, re-run) after the last summary block: that block is not the final word. */
  private activitySinceBlock = false;
  /** A test ran (or the run started): the command line is looked for only before. */
  private started = false;
  private anyLine = false;
  private readonly failedAgain = new Set<string>();
  private readonly firstFailed = new Set<string>();
  /** Tests whose own result line (`[3/8/1] test_x crashed (Exit code -6)`) was seen, unless they passed. */
  private readonly resultSeen = new Set<string>();
  /** Tests whose first-run result was only "env changed". */
  private readonly firstEnv = new Set<string>();
  private readonly envWarned = new Set<string>();
  private readonly crashed = new Set<string>();
  private readonly timedOut = new Set<string>();
  /** Killed by the main process (`Kill <... test=x time=25 min>`), with how long it had run. */
  private readonly killed = new Map<string, number | undefined>();
  private readonly tbFailed = new Set<string>();
  private readonly leaks = new Map<string, string>();
  private readonly refleakFailed = new Set<string>();
  private readonly resourceDenied = new Set<string>();
  private readonly noTests = new Set<string>();
  private readonly interrupted = new Set<string>();
  private suiteInterrupted = false;
  private readonly details = new Map<string, { text: string; timeout: boolean }>();
  private readonly cases = new Map<string, Set<string>>();
  private readonly caseClasses = new Map<string, Map<string, string>>();
  private readonly tracebacks = new Map<string, string[]>();
  private readonly rerunStarted = new Set<string>();
  private readonly rerunPassed = new Set<string>();
  private readonly rerunFailed = new Set<string>();
  /** Tests running now: from `running (N): ...`, or the sequential test started last. */
  private running = new Set<string>();
  private buildbotKill: string | undefined;
  /** Where the names of the list being read go (`2 tests failed:` then indented names). */
  private listSink: ((name: string) => void) | undefined;
  private capture: Capture | undefined;
  /** The test running now in a sequential run (named by its progress line before its result). */
  private current: string | undefined;
  /** A parallel run's last reported failure: the worker output printed after it is its own. */
  private lastFailing: string | undefined;
  private previous: Previous;
  private inRerun = false;
  private rerunTest: string | undefined;
  private pendingCase: { kind: string; test: string } | undefined;

  /** One line of the log, without its newline (and without Buildbot's stream tag). */
  line(raw: string): void {
    this.anyLine = true;
    const previous = this.previous;
    this.previous = undefined;
    // Colour codes (main colours its summary when FORCE_COLOR is set).
    let line = raw.includes('\x1b') ? raw.replace(/\x1b\[[0-9;]*m/g, '') : raw;
    const c0 = line.charCodeAt(0);
    let stamped = false;
    if ((c0 >= 48 && c0 <= 57) || line.startsWith('load avg')) {
      const prefix = TIMESTAMP.exec(line)?.[0].length ?? 0;
      stamped = prefix > 0;
      line = line.slice(prefix);
    }
    if (this.listSink) {
      if (line.startsWith('    ')) {
        // Names, four spaces in; anything indented deeper is a per-test reason under a name.
        if (line.charCodeAt(4) !== 32) {
          const names = line.trim().split(/\s+/);
          if (names.every((n) => TEST_NAME.test(n))) for (const n of names) this.listSink(normalize(n));
        }
        return;
      }
      this.listSink = undefined;
    }
    if (this.capture) {
      // A line regrtest stamped with the time is never part of a traceback.
      if (stamped) this.endCapture();
      else if (this.continueCapture(line)) return;
    }
    if (!this.started && line.includes(' -m test')) this.commandLine(line);

    switch (line.charCodeAt(0)) {
      case 91 /* [ */:
        return this.progress(line);
      case 85 /* U */:
        return this.matchSeed(line);
      case 82 /* R */:
        return this.rLine(line, stamped, previous);
      case 114 /* r */:
        if (line.startsWith('running')) this.runningLine(line);
        return;
      case 84 /* T */:
        return this.tLine(line, previous);
      case 61 /* = */:
        return this.equalsLine(line);
      case 70 /* F */:
      case 69 /* E */:
        return this.caseHeader(line, previous);
      case 87 /* W */:
        if (line.startsWith('Warning -- ')) this.warning(line);
        else if (line.startsWith('Windows fatal exception')) this.fatal(line, previous);
        return;
      case 116 /* t */:
        return this.testLine(line);
      case 75 /* K */:
        return this.kill(line);
      case 65 /* A */:
        return this.okCount(line);
      case 79 /* O */:
        if (this.inRerun && this.rerunTest && /^OK(?: \(.*\))?$/.test(line))
          add(this.rerunPassed, this.rerunTest);
        return;
      case 99 /* c */: {
        const kill = BUILDBOT_KILL.exec(line);
        if (kill?.[1]) this.buildbotKill = `command timed out: ${kill[1]}`;
        return;
      }
      case 112 /* p */:
        return this.programFinished(line);
      default:
        if (c0 >= 48 && c0 <= 57) this.numberLine(line);
    }
  }

  /**
   * Whether a line (still inside its chunk) can be skipped without changing the result: a fast
   * path for big logs, where nearly every line is a passing test or verbose unittest chatter.
   */
  readonly canSkip = (bytes: Uint8Array, start: number, end: number): boolean => {
    if (this.listSink !== undefined || this.capture !== undefined || !this.started || end - start > 300)
      return false;
    const c = bytes[start] as number;
    let skip: boolean;
    if (c === 116 /* t */) {
      const last = bytes[end - 1] as number;
      skip = !(
        // "test test_x failed -- ..."
        (bytes[start + 4] === 32 && bytes[start + 3] === 116) ||
        // "test_x leaked [...] ..., sum=N" and a verbose "test_x (...) ... Timeout (0:20:00)!"
        last === 33 ||
        (last >= 48 && last <= 57) ||
        // A sequential run's last result, "test_x failed (1 error)"; chatter has "test_x (...".
        (this.current !== undefined && wordAfterName(bytes, start, end)) ||
        // A verbose failing case, "test_x (test.test_posix.TestPosixSpawn.test_x) ... FAIL".
        ((last === 76 /* L */ || last === 82) /* R */ &&
          (endsWith(bytes, start, end, FAIL_BYTES) || endsWith(bytes, start, end, ERROR_BYTES)))
      );
    } else if (c >= 48 && c <= 57) {
      // A stamped progress line of a test that passed, "0:12:00 load avg: 1.00 [12/478] test_x passed",
      // when passing it by changes nothing but the line before the next one.
      if (
        !this.inRerun &&
        this.running.size === 0 &&
        this.current === undefined &&
        this.lastFailing === undefined &&
        (this.activitySinceBlock || this.blocks.length === 0) &&
        isPassedProgress(bytes, start, end)
      ) {
        this.previous = 'skipped pass';
        return true;
      }
      return false;
    } else if (c === 99 /* c */) skip = !startsWith(bytes, start, end, COMMAND_BYTES);
    else if (c === 112 /* p */) skip = !startsWith(bytes, start, end, PROGRAM_BYTES);
    else if (c === 87 /* W */)
      // "Warning -- ..." says something only when it names a test ("... was modified by test_x");
      // "Windows fatal exception: ..." always.
      skip = !(bytes[start + 1] === 105 /* i */ || endsWithByTest(bytes, start, end));
    else if (c === 84 /* T */ && bytes[start + 1] === 114 /* r */)
      // "Traceback (most recent call last):" matters under a "FAIL: x (test_mod.Class.x)" header only.
      skip = this.pendingCase === undefined;
    else skip = INTERESTING[c]?.[bytes[start + 1] as number] !== 1;
    if (skip) this.previous = undefined;
    return skip;
  };

  /**
   * Whether the line with this test's own result was read (`test_x failed (1 error)`, `test_x
   * crashed (Exit code -6)`): what says how it failed, besides the summary that says that it did.
   */
  sawResultOf(test: string): boolean {
    return this.resultSeen.has(test);
  }

  /** Lines as Buildbot's `contents` API gives them for stdio logs: a stream tag (`o`, `e`, `h`) first. */
  taggedLine(raw: string): void {
    const tag = raw.charCodeAt(0);
    if (tag === 104 /* h */) return this.headerLine(raw.slice(1));
    this.line(tag === 111 || tag === 101 ? raw.slice(1) : raw);
  }

  finish(): RegrtestAnalysis {
    this.endCapture();
    const last = this.blocks.at(-1);
    // The final word: a summary after the last test activity (its lists may be all that is left).
    const final = last && !this.activitySinceBlock ? last : undefined;
    const earlier = final ? this.blocks.slice(0, -1) : this.blocks;
    const listed = (blocks: Block[], kind: ListKind) => blocks.flatMap((b) => b.lists.get(kind) ?? []);
    const failed = new Set<string>();
    const flaky = new Set<string>();
    const env = new Set<string>();
    const firstRun = new Set<string>([...(this.blocks[0]?.lists.get('failed') ?? []), ...this.firstFailed]);
    let named: Set<string> | undefined;

    if (final) {
      for (const t of final.lists.get('failed') ?? []) failed.add(t);
      for (const t of listed(this.blocks, 'env changed')) if (!failed.has(t)) env.add(t);
      // Re-run tests that did not fail again were flaky, unless all they did first was change the
      // environment (3.12+ re-runs those too): known from an earlier block, or from a first state
      // without FAILURE ("ENV CHANGED then SUCCESS").
      const failedEarlier = new Set(listed(earlier, 'failed'));
      const envOnly = new Set(listed(earlier, 'env changed').filter((t) => !failedEarlier.has(t)));
      const firstState = final.state?.includes(' then ') ? final.state.split(' then ')[0] : undefined;
      const noneFailedFirst = firstState !== undefined && !firstState.includes('FAILURE');
      for (const t of final.lists.get('re-run') ?? []) {
        if (failed.has(t) || env.has(t) || envOnly.has(t)) continue;
        if (noneFailedFirst) env.add(t);
        else flaky.add(t);
      }
      // Progress lines only say why for the tests the summary names.
      named = new Set([
        ...failed,
        ...flaky,
        ...listed(this.blocks, 'failed'),
        ...listed(this.blocks, 're-run'),
      ]);
    } else {
      // No final summary: report what was seen.
      const seen = new Set<string>([...firstRun, ...this.tbFailed, ...this.crashed, ...this.timedOut]);
      for (const t of seen) if (!this.rerunPassed.has(t)) failed.add(t);
      for (const t of this.rerunFailed) failed.add(t);
      for (const t of this.failedAgain) failed.add(t);
      for (const t of [...this.firstEnv, ...this.envWarned, ...listed(this.blocks, 'env changed')])
        if (!failed.has(t)) env.add(t);
      for (const t of this.rerunPassed) if (!failed.has(t) && !this.firstEnv.has(t)) flaky.add(t);
    }

    const keep = (t: string) => named === undefined || named.has(t);
    const timedOut = new Set([...this.timedOut].filter(keep));
    for (const [t, ranSec] of this.killed) {
      // The main process also kills the workers still running when the run stops (Ctrl-C, -x).
      const tooLong =
        this.workerTimeoutSec === undefined || ranSec === undefined || ranSec >= this.workerTimeoutSec;
      if (!this.suiteInterrupted && tooLong && keep(t)) timedOut.add(t);
    }
    const running = final ? [] : [...this.running];
    if (!final && this.buildbotKill && running.length === 1) {
      // Buildbot killed the step while this one test was running: it hung.
      const t = running[0] as string;
      timedOut.add(t);
      this.detail(t, this.buildbotKill, true);
      if (!failed.has(t)) failed.add(t);
    }
    const crashed = [...this.crashed].filter((t) => keep(t) && !timedOut.has(t));
    const leaked = new Set([...this.leaks.keys(), ...this.refleakFailed].filter(keep));
    for (const t of failed) flaky.delete(t);
    const shown = new Set([
      ...failed,
      ...flaky,
      ...crashed,
      ...timedOut,
      ...running,
      ...leaked,
      ...this.interrupted,
    ]);
    const details: Record<string, string> = {};
    for (const [t, d] of this.details) if (shown.has(t)) details[t] = d.text;
    // ≤3.11.2 lists a resource-denied test as skipped: its progress line says why.
    const skippedListed = new Set(listed(this.blocks, 'skipped'));
    const resourceDenied = new Set([
      ...listed(this.blocks, 'resource denied'),
      ...[...this.resourceDenied].filter((t) => !final || skippedListed.has(t)),
    ]);
    const noTestsRun = new Set([...listed(this.blocks, 'run no tests'), ...(final ? [] : this.noTests)]);
    return {
      result: this.result,
      partial: this.result === undefined,
      summaryFound: this.blocks.length > 0,
      seed: this.seed,
      command: this.bodyCommand ?? this.headerCommand,
      python: this.python,
      workers: this.workers,
      failed: sorted(failed),
      flaky: sorted(flaky),
      envChanged: sorted(env),
      crashed: sorted(crashed),
      timedOut: sorted(timedOut),
      leaked: sorted(leaked),
      failedFirstRun: sorted(firstRun),
      running: sorted(running),
      details,
      resourceDenied: sorted(resourceDenied),
      noTestsRun: sorted(noTestsRun),
      filtered: this.filtered,
      exitCode: this.exitCode,
      cases: Object.fromEntries([...this.cases].map(([k, v]) => [k, [...v].sort()])),
      caseClasses: Object.fromEntries([...this.caseClasses].map(([k, v]) => [k, Object.fromEntries(v)])),
      tracebacks: Object.fromEntries(this.tracebacks),
      leaks: Object.fromEntries([...this.leaks].filter(([t]) => keep(t))),
      duration: this.duration,
      counts: this.counts,
    };
  }

  private progress(line: string): void {
    const m = PROGRESS.exec(line);
    if (!m?.[1]) return;
    this.started = true;
    this.activitySinceBlock = true;
    const test = normalize(m[1]);
    this.lastFailing = undefined;
    let rest = m[2] ?? '';
    const at = rest.indexOf('-- running');
    let runningNow: string[] = [];
    if (at !== -1 && (at === 0 || rest.charCodeAt(at - 1) === 32)) {
      // "-- running (2): test_a (32.1 sec), test_b (30.0 sec)" (3.8-3.10: "-- running: ...").
      runningNow = runningNames(rest.slice(at + 10));
      rest = rest.slice(0, at).trimEnd();
    }
    if (rest.startsWith('-- ')) {
      // Sequential: "[5/7/1] test_next -- test_prev failed (1 error)".
      const prev = /^-- (test[\w.]+) (.*)$/.exec(rest);
      if (prev?.[1] && prev[2]) this.status(normalize(prev[1]), prev[2]);
      rest = '';
    }
    if (rest === '') {
      // A sequential run names the test it starts.
      this.current = test;
      this.running = new Set([test]);
      return;
    }
    this.running = new Set(runningNow);
    const status = this.status(test, rest);
    this.previous = { test, status, text: rest };
    this.lastFailing = status === 'passed' ? undefined : test;
  }

  /** Records what a status text (`failed (2 errors)`, `worker non-zero exit code (Exit code -6 (SIGABRT))`) says. */
  private status(test: string, text: string): Status {
    const status = classify(text);
    if (status !== 'passed') add(this.resultSeen, test);
    if (this.current === test) this.current = undefined;
    this.running.delete(test);
    const exit = EXIT_CODE.exec(text)?.[1];
    if (exit) this.detail(test, `Exit code ${exit}`, false);
    if (status === 'timeout') {
      const after = /^timed out \(([^)]+)\)/.exec(text)?.[1];
      this.detail(test, after ? `timeout ${after}` : 'timed out', true);
    }
    if (status === 'interrupted') {
      add(this.interrupted, test);
      this.detail(test, 'interrupted', false);
    }
    if (this.inRerun) {
      if (status === 'passed') add(this.rerunPassed, test);
      else if (status === 'failed' || status === 'refleak' || status === 'crashed' || status === 'timeout')
        add(this.rerunFailed, test);
      if (status === 'timeout') add(this.timedOut, test);
      if (status === 'crashed') add(this.crashed, test);
      return status;
    }
    switch (status) {
      case 'env':
        add(this.firstEnv, test);
        break;
      case 'refleak':
        add(this.refleakFailed, test);
        add(this.firstFailed, test);
        break;
      case 'failed':
        add(this.firstFailed, test);
        break;
      case 'crashed':
        add(this.crashed, test);
        add(this.firstFailed, test);
        break;
      case 'timeout':
        add(this.timedOut, test);
        add(this.firstFailed, test);
        break;
      case 'denied':
        if (this.resourceDenied.size < MAX_NAMES) this.resourceDenied.add(test);
        break;
      case 'notests':
        if (this.noTests.size < MAX_NAMES) this.noTests.add(test);
        break;
      default:
    }
    return status;
  }

  private detail(test: string, text: string, timeout: boolean): void {
    const had = this.details.get(test);
    if (!had && this.details.size >= MAX_NAMES) return;
    // A timeout explains the exit code that follows it (faulthandler exits with 1); keep the first of each kind.
    if (!had || (timeout && !had.timeout)) this.details.set(test, { text, timeout });
  }

  private runningLine(line: string): void {
    // 3.11+: "running (2): test_a (1 min 2 sec), test_b (30.5 sec)"; 3.8-3.10: "running: test_a (30 sec)".
    const m = /^running(?: \(\d+\))?: (.*)$/.exec(line);
    if (m?.[1] === undefined) return;
    this.started = true;
    this.running = new Set(runningNames(m[1]));
  }

  private matchSeed(line: string): void {
    const m = SEED.exec(line);
    if (m?.[1]) this.seed = Number(m[1]);
  }

  private rLine(line: string, stamped: boolean, previous: Previous): void {
    if (line.startsWith('Result: ')) {
      this.result = line.slice(8).trim();
      if (this.result.includes('INTERRUPTED')) this.suiteInterrupted = true;
      return;
    }
    if (line.startsWith('Re-running')) {
      this.started = true;
      this.activitySinceBlock = true;
      const one = RERUN_ONE.exec(line);
      if (one?.[1]) {
        const test = normalize(one[1]);
        this.inRerun = true;
        this.endCapture();
        this.rerunTest = test;
        add(this.rerunStarted, test);
        if (one[2]) for (const c of one[2].split(',')) this.addCase(test, c.trim());
        if (!stamped) {
          // 3.12+: the worker prints this line after the main process printed the re-run's result
          // ("[1/1] test_x passed"), which a log without the "Re-running N failed tests" line
          // (a tail) took for a first-run result.
          if (previous === 'skipped pass' || previous?.status === 'passed') this.rerunResult(test, 'passed');
          else if (previous?.test === test) this.rerunResult(test, previous.status);
        } else {
          this.current = test;
        }
      } else if (/^Re-running (?:\d+ )?failed tests/.test(line)) {
        this.inRerun = true;
      }
      return;
    }
    const run = RUN.exec(line);
    if (run) {
      this.started = true;
      this.activitySinceBlock = true;
      // The first run decides; a re-run in subprocesses announces its own (smaller) pool.
      if (this.workers === undefined) this.workers = run[1] ? Number(run[1]) : 0;
      const wt = WORKER_TIMEOUT.exec(line)?.[1];
      if (wt) this.workerTimeoutSec = seconds(wt);
    }
  }

  private rerunResult(test: string, status: Status): void {
    if (status === 'passed') {
      add(this.rerunPassed, test);
      this.rerunFailed.delete(test);
    } else if (status === 'failed' || status === 'refleak' || status === 'crashed' || status === 'timeout') {
      add(this.rerunFailed, test);
    }
  }

  private tLine(line: string, previous: Previous): void {
    if (this.pendingCase && line.startsWith('Traceback')) {
      // The traceback under a `FAIL: x (test_mod.Class.x)` header.
      this.startCapture(this.pendingCase.test, line, 'traceback');
      this.pendingCase = undefined;
    } else if (line.startsWith('Tests result: ')) this.result = line.slice(14).trim();
    else if (line.startsWith('Total duration: ')) this.duration = line.slice(16).trim();
    else if (line.startsWith('Total tests: ')) this.kv(line.slice(13), 'tests');
    else if (line.startsWith('Total test files: ')) this.kv(line.slice(18), 'files');
    else if (line.startsWith('Test suite interrupted')) this.suiteInterrupted = true;
    else if (line.startsWith('Timeout (')) {
      const m = TIMEOUT_DUMP.exec(line);
      if (m?.[1]) this.timeoutDump(m[1], line, previous);
    }
  }

  /** faulthandler's `Timeout (0:20:00)!` (`--timeout`): the test it belongs to hung. */
  private timeoutDump(after: string, line: string, previous: Previous): void {
    const test = this.crashOwner(previous);
    if (!test) return;
    add(this.timedOut, test);
    if (!this.inRerun) add(this.firstFailed, test);
    else add(this.rerunFailed, test);
    this.detail(test, `timeout ${after}`, true);
    this.running.delete(test);
    if (this.current === test) this.current = undefined;
    this.startCapture(test, line, 'crash');
  }

  /** The test a crash or timeout dump belongs to. */
  private crashOwner(previous: Previous): string | undefined {
    // Parallel: a worker's output follows the line with its result.
    if (previous && previous !== 'skipped pass' && previous.status !== 'passed') return previous.test;
    if (this.inRerun && this.rerunTest) return this.rerunTest;
    return this.current ?? this.lastFailing;
  }

  private equalsLine(line: string): void {
    const m = /^== Tests result: (.*) ==$/.exec(line);
    if (m?.[1]) {
      this.endCapture();
      this.pushBlock({ state: m[1], lists: new Map() });
      this.activitySinceBlock = false;
      this.running.clear();
      this.current = undefined;
      this.lastFailing = undefined;
      return;
    }
    if (line.startsWith('== CPython ')) this.python = line.slice(11).trim();
  }

  private caseHeader(line: string, previous: Previous): void {
    if (line.startsWith('Fatal Python error')) return this.fatal(line, previous);
    const m = CASE_HEADER.exec(line);
    if (!m?.[2] || !m[3]) return;
    const test = this.ownerOf(m[3]) ?? this.rerunTest ?? this.current;
    if (!test) return;
    this.addCase(test, m[2], m[3]);
    this.pendingCase = { kind: m[1] ?? '', test };
  }

  /** `test_x (test.test_posix.TestPosixSpawn.test_x) ... FAIL`: a failing case and its class. */
  private verboseCase(line: string): boolean {
    const m = VERBOSE_CASE.exec(line);
    if (!m?.[1] || !m[2]) return false;
    const test = this.ownerOf(m[2]) ?? this.rerunTest ?? this.current;
    if (test) this.addCase(test, m[1], m[2]);
    return true;
  }

  /** `Fatal Python error: Segmentation fault`, `Windows fatal exception: access violation`. */
  private fatal(line: string, previous: Previous): void {
    const test = this.crashOwner(previous);
    if (!test) return;
    if (!this.inRerun) {
      add(this.crashed, test);
      add(this.firstFailed, test);
    }
    this.running.delete(test);
    this.detail(test, line.length > 120 ? `${line.slice(0, 119)}…` : line, false);
    this.startCapture(test, line, 'crash');
  }

  private warning(line: string): void {
    const m = /^Warning -- .* by (test[\w.]+)$/.exec(line.trim());
    if (m?.[1] && this.envWarned.size < MAX_NAMES) this.envWarned.add(normalize(m[1]));
  }

  private testLine(line: string): void {
    const tb = FAILED_TB.exec(line);
    if (tb?.[1]) {
      const test = normalize(tb[1]);
      if (this.tbFailed.size < MAX_NAMES) this.tbFailed.add(test);
      if (tb[3]?.startsWith('Traceback')) this.startCapture(test, tb[3], 'traceback');
      if (this.inRerun) add(this.rerunFailed, test);
      return;
    }
    if (this.inRerun && this.rerunTest && line === `test ${this.rerunTest} failed`) {
      add(this.rerunFailed, this.rerunTest);
      return;
    }
    const leak = LEAK.exec(line);
    if (leak?.[1] && leak[2]) {
      // References come first and say the most; memory blocks and file descriptors follow.
      const test = normalize(leak[1]);
      if (!this.leaks.has(test) && this.leaks.size < MAX_NAMES) this.leaks.set(test, leak[2]);
      return;
    }
    if ((line.endsWith(' FAIL') || line.endsWith(' ERROR')) && this.verboseCase(line)) return;
    if (line.endsWith(')!')) {
      // Verbose output: "test_sleep (test_sleeper.SleepTests.test_sleep) ... Timeout (0:00:03)!".
      const at = line.lastIndexOf(' ... Timeout (');
      const m = at === -1 ? null : TIMEOUT_DUMP.exec(line.slice(at + 5));
      if (m?.[1]) this.timeoutDump(m[1], line.slice(at + 5), undefined);
      return;
    }
    if (this.current) {
      const bare = BARE_RESULT.exec(line);
      if (bare?.[1] && bare[2] && normalize(bare[1]) === this.current) this.status(this.current, bare[2]);
    }
  }

  private kill(line: string): void {
    const m = KILL.exec(line);
    if (!m?.[1]) return;
    const test = normalize(m[1]);
    if (this.killed.size < MAX_NAMES) this.killed.set(test, m[2] ? seconds(m[2]) : undefined);
    if (m[2]) this.detail(test, `killed after ${m[2]}`, true);
  }

  private okCount(line: string): void {
    const ok = OK_COUNT.exec(line);
    if (ok?.[1]) this.counts.ok = ok[1];
  }

  private numberLine(line: string): void {
    const ok = OK_COUNT.exec(line);
    if (ok?.[1]) {
      this.counts.ok = ok[1];
      return;
    }
    const h = LIST_HEADER.exec(line);
    if (!h) return;
    const kind = listKind(h[2] ?? '', h[3] ?? '');
    if (!kind) return;
    if (kind === 'failed again') {
      this.listSink = (name) => add(this.failedAgain, name);
      return;
    }
    let block = this.blocks.at(-1);
    if (!block || this.activitySinceBlock) {
      // Lists without their "== Tests result" header (cut off, or an older runner's).
      block = { state: undefined, lists: new Map() };
      this.pushBlock(block);
      this.activitySinceBlock = false;
      this.running.clear();
      this.current = undefined;
    }
    const names = block.lists.get(kind) ?? [];
    block.lists.set(kind, names);
    this.listSink = (name) => {
      if (names.length < MAX_NAMES) names.push(name);
    };
  }

  /** A new summary block; a real run has two (first run, re-run): past 16 the oldest but the first go. */
  private pushBlock(block: Block): void {
    if (this.blocks.length >= 16) this.blocks.splice(1, 1);
    this.blocks.push(block);
  }

  private programFinished(line: string): void {
    const m = /^program finished with exit code (-?\d+)$/.exec(line);
    if (m?.[1]) this.exitCode = Number(m[1]);
  }

  /** Buildbot's own lines (`h`): the command it ran first, then how it ended. */
  private headerLine(text: string): void {
    if (!this.anyLine && this.headerCommand === undefined && text.trim() !== '') {
      this.headerCommand = text.trim();
      return;
    }
    const t = text.trim();
    const kill = BUILDBOT_KILL.exec(t);
    if (kill?.[1]) this.buildbotKill = `command timed out: ${kill[1]}`;
    else this.programFinished(t);
  }

  /**
   * A command line that runs regrtest (`./python -m test -R 3:3 test_os`, `+ /x/python -u -W
   * default -bb -E -m test --slow-ci ...`, `D:\b\PCbuild>"D:\b\python_d.exe" -m test ...`): from
   * the python executable on. The last one before the tests start is the one that ran them.
   */
  private commandLine(line: string): void {
    const at = line.indexOf(' -m test');
    const after = line.charCodeAt(at + 8);
    if (!(Number.isNaN(after) || after === 32 || after === 9)) return;
    const words = line.slice(0, at).trim().split(/\s+/);
    const exe = words.findIndex((w) => /python/i.test(w));
    // Before the executable, only a prompt ("+", "$", "D:\build\PCbuild>") or VAR=value words:
    // a line of test output that mentions "-m test" is not the command.
    if (exe === -1 || !words.slice(0, exe).every((w) => /^(?:[+$#>]|[A-Za-z_]\w*=\S*)$/.test(w))) return;
    const word = words[exe] as string;
    const gt = word.lastIndexOf('>');
    const from = line.indexOf(word) + (gt === -1 ? 0 : gt + 1);
    this.bodyCommand = line.slice(from).trim().slice(0, 1000);
  }

  private kv(text: string, prefix: string): void {
    if (text.includes('(filtered)')) this.filtered = true;
    for (const m of text.matchAll(/(\w+)=([\d,/]+)/g))
      this.counts[`${prefix}.${m[1]}`] = (m[2] ?? '').replace(/,/g, '');
  }

  /** A traceback after `FAIL: x (test_mod.Class.x)` runs up to the next blank line. */
  private continueCapture(line: string): boolean {
    const cap = this.capture as Capture;
    // faulthandler puts a blank line between "Fatal Python error" and the frames.
    if (line === '' && cap.kind === 'crash' && cap.total === 1) return true;
    const traceEnd =
      line === '' ||
      (cap.kind === 'traceback' &&
        (line.startsWith('[') || line.startsWith('test ') || line.startsWith('====='))) ||
      (cap.kind === 'crash' &&
        !line.startsWith(' ') &&
        !line.startsWith('Current thread') &&
        !line.startsWith('Thread '));
    if (traceEnd) {
      this.endCapture();
      return false;
    }
    cap.total++;
    if (cap.lines.length < (cap.kind === 'crash' ? 5 : TB_KEEP)) cap.lines.push(line);
    else if (cap.kind === 'traceback') {
      // Keep the head line and the innermost frames: drop from the middle.
      cap.lines.splice(1, 1);
      cap.lines.push(line);
    }
    return true;
  }

  private startCapture(test: string, first: string, kind: Capture['kind']): void {
    this.endCapture();
    if (this.tracebacks.has(test) || this.tracebacks.size >= MAX_TRACEBACKS) return;
    this.capture = { test, lines: [first], total: 1, kind };
  }

  private endCapture(): void {
    const cap = this.capture;
    this.capture = undefined;
    if (!cap || this.tracebacks.has(cap.test)) return;
    const lines = cap.lines.map((l) => (l.length > 300 ? `${l.slice(0, 299)}…` : l));
    if (cap.kind === 'traceback' && cap.total > lines.length) lines.splice(1, 0, '  …');
    this.tracebacks.set(cap.test, lines);
  }

  /** A failing case of `test`; `id` is the unittest id the log printed with it, when it did. */
  private addCase(test: string, name: string, id?: string): void {
    if (!name) return;
    let set = this.cases.get(test);
    if (!set) {
      if (this.cases.size >= MAX_NAMES) return;
      set = new Set();
      this.cases.set(test, set);
    }
    if (set.size >= 50 && !set.has(name)) return;
    set.add(name);
    const klass = id === undefined ? undefined : classOf(name, id);
    if (klass === undefined) return;
    let classes = this.caseClasses.get(test);
    if (!classes) {
      classes = new Map();
      this.caseClasses.set(test, classes);
    }
    if (!classes.has(name)) classes.set(name, klass);
  }

  /**
   * The test file a unittest id belongs to: `test_hard.HardTests.x` → test_hard,
   * `test.test_asyncio.test_tasks.T.x` → the failing test it is part of (test_asyncio.test_tasks
   * or test_asyncio, whichever regrtest reported).
   */
  private ownerOf(dotted: string): string | undefined {
    const parts = normalize(dotted).split('.');
    for (let n = parts.length; n > 0; n--) {
      const candidate = parts.slice(0, n).join('.');
      if (this.firstFailed.has(candidate) || this.rerunStarted.has(candidate) || this.crashed.has(candidate))
        return candidate;
    }
    return parts[0]?.startsWith('test_') ? parts[0] : undefined;
  }
}

/**
 * The class in a case's unittest id: `test.test_posix.TestPosixSpawn.test_x` (3.11+) and
 * `test.test_posix.TestPosixSpawn` (3.8–3.10) → `TestPosixSpawn`. Undefined when the id names a
 * module only (`setUpModule (test.test_x)`, a doctest's `test.test_x`).
 */
export function classOf(method: string, id: string): string | undefined {
  const parts = id.split('.');
  if (parts.at(-1) === method && parts.length > 1) parts.pop();
  const klass = parts.at(-1);
  return klass && parts.length > 1 && !klass.startsWith('test') && /^[A-Za-z_]\w*$/.test(klass)
    ? klass
    : undefined;
}

/**
 * A test's failing cases with their class where the log printed it (`TestPosixSpawn.test_x`),
 * else the method alone. For titles and search, not for `-m` (regrtest takes a dotted pattern as a
 * whole id: `-m TestPosixSpawn.test_x` matches nothing).
 */
export function qualifiedCases(a: Pick<RegrtestAnalysis, 'cases' | 'caseClasses'>, test: string): string[] {
  const classes = a.caseClasses?.[test] ?? {};
  return (a.cases[test] ?? []).map((c) => {
    const klass = Object.hasOwn(classes, c) ? classes[c] : undefined;
    return klass ? `${klass}.${c}` : c;
  });
}

/**
 * `test.test_os` → `test_os`: names are kept without the package prefix, the form regrtest accepts
 * on its command line and prints for most tests (`test_asyncio.test_tasks` for a split package).
 */
export function normalize(name: string): string {
  return name.startsWith('test.') ? name.slice(5) : name;
}

/** Whether two test names (either form, `test.test_x` or `test_x`) name the same test. */
export function sameTest(a: string, b: string): boolean {
  return normalize(a.trim()) === normalize(b.trim());
}

function classify(text: string): Status {
  if (text.startsWith('passed')) return 'passed';
  if (text.startsWith('failed (env changed)')) return 'env';
  if (text.startsWith('failed (reference leak)')) return 'refleak';
  if (text.startsWith('failed') || text.startsWith('worker bug')) return 'failed';
  if (
    text.startsWith('crashed') ||
    text.startsWith('process crashed') ||
    text.startsWith('worker non-zero exit code')
  )
    return 'crashed';
  if (text.startsWith('timed out')) return 'timeout';
  if (text.startsWith('skipped (resource denied)')) return 'denied';
  if (text.startsWith('skipped')) return 'skipped';
  if (text.startsWith('run no tests') || text.startsWith('ran no tests')) return 'notests';
  if (text.startsWith('interrupted')) return 'interrupted';
  return 'unknown';
}

function listKind(noun: string, rest: string): ListKind | 'failed again' | undefined {
  if (noun.startsWith('re-run')) return 're-run';
  if (rest === 'failed') return 'failed';
  if (rest === 'failed again') return 'failed again';
  if (rest.startsWith('altered the execution environment')) return 'env changed';
  if (rest === 'skipped') return 'skipped';
  if (rest.startsWith('skipped (resource')) return 'resource denied';
  if (rest === 'omitted') return 'omitted';
  if (rest === 'run no tests') return 'run no tests';
  return undefined;
}

/** `test_a (1 min 2 sec), test.test_b (30.5 sec)` → the names. */
function runningNames(text: string): string[] {
  const names: string[] = [];
  for (const part of text.replace(/^(?: \(\d+\))?: ?/, '').split(', ')) {
    const name = part.trim().split(' ')[0] ?? '';
    if (TEST_NAME.test(name) && names.length < 100) names.push(normalize(name));
  }
  return names;
}

/** regrtest's durations (`25 min`, `1 hour 5 min`, `4.5 sec`, `500 ms`, `2 h 36 min`) in seconds. */
function seconds(text: string): number | undefined {
  let total = 0;
  let any = false;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?) ?(hours?|h|min|sec|s|ms)\b/g)) {
    const n = Number(m[1]);
    const unit = m[2] ?? '';
    total += unit.startsWith('h') ? n * 3600 : unit === 'min' ? n * 60 : unit === 'ms' ? n / 1000 : n;
    any = true;
  }
  return any ? total : undefined;
}

/**
 * `0:12:00 load avg: 1.00 [ 12/478] test_x passed`, read from its end: ` passed`, one word (the test
 * name), then `] ` after the bracket's digits (`[ 12/478`, `[12/478/3`); the caller saw the time
 * stamp's first digit. Called for most lines of a big log: a few bytes from the end, nothing more.
 */
function isPassedProgress(bytes: Uint8Array, start: number, end: number): boolean {
  const tail = end - 7; // where " passed" starts
  if (
    tail - start < 12 ||
    bytes[end - 1] !== 100 ||
    bytes[end - 2] !== 101 ||
    bytes[end - 3] !== 115 ||
    bytes[end - 4] !== 115 ||
    bytes[end - 5] !== 97 ||
    bytes[end - 6] !== 112 ||
    bytes[tail] !== 32
  )
    return false;
  // The test name: one word.
  let i = tail - 1;
  while (i > start && bytes[i] !== 32) i--;
  if (i === tail - 1 || bytes[i - 1] !== 93 /* ] */) return false;
  // The bracket: digits, '/' and the spaces of a padded count, then '['.
  let digits = 0;
  for (i -= 2; i > start; i--) {
    const b = bytes[i] as number;
    if (b >= 48 && b <= 57) digits++;
    else if (b !== 47 && b !== 32) return b === 91 /* [ */ && digits > 0;
  }
  return false;
}

/** Whether a line ends (spaces and a CR aside) with ` by test_x`: a warning that names its test. */
function endsWithByTest(bytes: Uint8Array, start: number, end: number): boolean {
  let e = end;
  while (e > start && (bytes[e - 1] === 32 || bytes[e - 1] === 13)) e--;
  let i = e - 1;
  while (i > start && bytes[i] !== 32) i--;
  return (
    i - start > 3 &&
    bytes[i - 3] === 32 &&
    bytes[i - 2] === 98 /* b */ &&
    bytes[i - 1] === 121 /* y */ &&
    bytes[i + 1] === 116 /* t */ &&
    bytes[i + 2] === 101 /* e */ &&
    bytes[i + 3] === 115 /* s */ &&
    bytes[i + 4] === 116 /* t */
  );
}

/** Whether the word after the first word is a word ("test_x failed"), not "(" ("test_x (mod.C.test_x) ... ok"). */
function wordAfterName(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && bytes[i] !== 32) i++;
  const next = i + 1 < end ? (bytes[i + 1] as number) : 0;
  return next >= 97 && next <= 122;
}

function endsWith(bytes: Uint8Array, start: number, end: number, suffix: Uint8Array): boolean {
  if (end - start < suffix.length) return false;
  const from = end - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (bytes[from + i] !== suffix[i]) return false;
  return true;
}

function startsWith(bytes: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[start + i] !== prefix[i]) return false;
  return true;
}

/** Adds a name to one of the per-test sets, up to MAX_NAMES (a log with millions of names stays small). */
function add(set: Set<string>, name: string): void {
  if (set.size < MAX_NAMES) set.add(name);
}

function sorted(set: Iterable<string>): string[] {
  return [...set].sort();
}

/** Parses a whole log given as text (tests, small logs). */
export function parseRegrtest(text: string): RegrtestAnalysis {
  const parser = new RegrtestParser();
  for (const line of text.split('\n')) parser.line(line.endsWith('\r') ? line.slice(0, -1) : line);
  return parser.finish();
}

/** An analysis stored by an older version, with the fields added since filled in (empty). */
export function completeAnalysis(a: RegrtestAnalysis): RegrtestAnalysis {
  // Stored JSON may lack the fields the type says are there.
  const stored = a as Partial<RegrtestAnalysis>;
  return { ...a, running: stored.running ?? [], details: stored.details ?? {} };
}
