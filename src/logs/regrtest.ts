/**
 * A streaming parser for the output of CPython's test runner (regrtest, `python -m test`), in the
 * ≤3.11 and 3.12+ formats, parallel and sequential. Feed it lines in order; `finish()` says what
 * the log shows, and nothing it does not: a log cut short is marked `partial` and only reports
 * what was seen. Memory is bounded: per test it keeps names, a few traceback lines and flags.
 */

export type TestOutcome = 'failed' | 'flaky' | 'envChanged' | 'crashed' | 'timedOut' | 'leaked';

export interface RegrtestAnalysis {
  /** The final state (`FAILURE then SUCCESS`, `ENV CHANGED`...), or undefined when the log ends before it. */
  result: string | undefined;
  /** The log ends before regrtest's final result line. */
  partial: boolean;
  /** A test summary (`== Tests result`) was found at all. */
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
  /** Failing test cases per test file, from `(matching: ...)` and `FAIL:`/`ERROR:` lines. */
  cases: Record<string, string[]>;
  /** The first traceback of each failing test, trimmed to a few lines. */
  tracebacks: Record<string, string[]>;
  /** Refleak details per test (`[6, 6, 6] references, sum=18`). */
  leaks: Record<string, string>;
  duration: string | undefined;
  counts: Record<string, string>;
  /** Tests still running when the log ended (a killed or hung run). */
  running: string[];
  /** Per test, how it ended when that is more than "failed": a signal, an exit code, a timeout. */
  details: Record<string, string>;
}

const TIMESTAMP = /^(?:\d+:\d\d:\d\d )?(?:load avg: \d+\.\d+ )?/;
const PROGRESS = /^\[\s*\d+\/\d+(?:\/\d+)?\] (\S+)(?: (.*))?$/;
const SEED = /^Using random seed:? (\d+)/;
const RUN = /^Run (?:\d+ )?tests? (?:in parallel using (\d+) (?:child|worker) process|sequentially)/;
const LIST_HEADER = /^(\d+) (re-run tests?|tests?)(?: ([^:]*))?:$/;
const OK_COUNT = /^(?:All )?(\d+) tests? OK\.$/;
const RERUN_ONE = /^Re-running (?:test '?)?(test[\w.]*?)'? in verbose mode(?: \(matching: (.*)\))?$/;
const CASE_HEADER = /^(FAIL|ERROR): (\S+) \(([\w.]+)\)/;
const LEAK = /^(test[\w.]+) leaked (\[[^\]]*\] [\w ]+, sum=-?\d+)/;
const FAILED_TB = /^test (test[\w.]+) failed -- (.*)$/;
const KILL = /^Kill <.*\btest=(test[\w.]+)/;
const TEST_NAME = /^test[\w.]*$/;
const TB_KEEP = 10;
/** First characters of the lines the parser reads (see `line()`); others are skipped unless a list or traceback is open. */
const INTERESTING = new Uint8Array(256);
for (const ch of '[UTR=FEWKAOCl') INTERESTING[ch.charCodeAt(0)] = 1;
const MAX_TRACEBACKS = 200;

/** What one summary block (`== Tests result: X ==` and the lists after it) says. */
interface Block {
  state: string;
  lists: Map<string, string[]>;
}

type Capture = { test: string; lines: string[]; total: number; kind: 'traceback' | 'crash' };

export class RegrtestParser {
  private seed: number | undefined;
  private command: string | undefined;
  private python: string | undefined;
  private workers: number | undefined;
  private result: string | undefined;
  private duration: string | undefined;
  private readonly counts: Record<string, string> = {};
  private readonly blocks: Block[] = [];
  private readonly failedAgain = new Set<string>();
  private readonly firstFailed = new Set<string>();
  private readonly envChanged = new Set<string>();
  private readonly crashed = new Set<string>();
  private readonly timedOut = new Set<string>();
  private readonly leaks = new Map<string, string>();
  private readonly refleakFailed = new Set<string>();
  private readonly cases = new Map<string, Set<string>>();
  private readonly tracebacks = new Map<string, string[]>();
  private readonly rerunStarted = new Set<string>();
  private readonly rerunPassed = new Set<string>();
  private readonly rerunFailed = new Set<string>();
  /** Where the names of the list being read go (`2 tests failed:` then indented names). */
  private listSink: ((name: string) => void) | undefined;
  private capture: Capture | undefined;
  /** The test running now: sequential runs name it before its result; re-runs name it first. */
  private current: string | undefined;
  private lastCrashed: string | undefined;
  private inRerun = false;
  private rerunTest: string | undefined;
  private pendingCase: { kind: string; test: string } | undefined;

  /** One line of the log, without its newline (and without Buildbot's stream tag). */
  line(raw: string): void {
    let line = raw;
    const c0 = line.charCodeAt(0);
    let stamped = false;
    if ((c0 >= 48 && c0 <= 57 && line.charCodeAt(1) === 58) /* 0: */ || line.startsWith('load avg')) {
      const prefix = TIMESTAMP.exec(line)?.[0].length ?? 0;
      stamped = prefix > 0;
      line = line.slice(prefix);
    }
    if (this.listSink) {
      if (line.startsWith('    ') && line.charCodeAt(4) !== 32) {
        for (const name of line.trim().split(/\s+/)) if (TEST_NAME.test(name)) this.listSink(normalize(name));
        return;
      }
      this.listSink = undefined;
    }
    if (this.capture) {
      // A line regrtest stamped with the time is never part of a traceback.
      if (stamped) this.endCapture();
      else if (this.continueCapture(line)) return;
    }

    switch (line.charCodeAt(0)) {
      case 91 /* [ */:
        return this.progress(line);
      case 85 /* U */:
        return this.matchSeed(line);
      case 82 /* R */:
        return this.rLine(line);
      case 84 /* T */:
        return this.tLine(line);
      case 61 /* = */:
        return this.equalsLine(line);
      case 70 /* F */:
      case 69 /* E */:
        return this.caseHeader(line);
      case 87 /* W */:
        if (line.startsWith('Warning -- ')) this.warning(line);
        return;
      case 116 /* t */:
        return this.testLine(line);
      case 75 /* K */: {
        const kill = KILL.exec(line);
        if (kill?.[1]) this.timedOut.add(normalize(kill[1]));
        return;
      }
      case 65 /* A */:
        return this.okCount(line);
      case 79 /* O */:
        if (this.inRerun && this.rerunTest && /^OK(?: \(.*\))?$/.test(line))
          this.rerunPassed.add(this.rerunTest);
        return;
      case 67 /* C */:
        return;
      default:
        if (c0 >= 48 && c0 <= 57) this.numberLine(line);
    }
  }

  /**
   * Whether a line (still inside its chunk) can be skipped without changing the result: a fast
   * path for big logs, where nearly every line is a passing test or verbose unittest chatter.
   */
  readonly canSkip = (bytes: Uint8Array, start: number, end: number): boolean => {
    if (this.listSink !== undefined || this.capture !== undefined || end - start > 300) return false;
    const c = bytes[start] as number;
    if (c === 116 /* t */) {
      // "test test_x failed -- ..." and "test_x leaked [...] ..., sum=N" matter (the latter ends in
      // a digit); verbose chatter such as "test_x (mod.Class.test_x) ... ok" does not.
      if (bytes[start + 4] === 32 && bytes[start + 3] === 116) return false;
      const last = bytes[end - 1] as number;
      return last < 48 || last > 57;
    }
    if (c >= 48 && c <= 57) {
      // A stamped progress line of a test that passed: "0:12:00 load avg: 1.00 [12/478] test_x passed".
      return (
        !this.inRerun &&
        bytes[end - 1] === 100 &&
        bytes[end - 2] === 101 &&
        bytes[end - 3] === 115 &&
        bytes[end - 4] === 115 &&
        bytes[end - 5] === 97 &&
        bytes[end - 6] === 112 &&
        bytes[end - 7] === 32 &&
        (bytes[start + 1] === 58 || bytes[start + 2] === 58)
      );
    }
    return INTERESTING[c] !== 1;
  };

  /** Lines as Buildbot's `contents` API gives them for stdio logs: a stream tag (`o`, `e`, `h`) first. */
  taggedLine(raw: string): void {
    const tag = raw.charCodeAt(0);
    if (tag === 104 /* h */) {
      // The header's first line is the command Buildbot ran.
      if (this.command === undefined && raw.length > 1) this.command = raw.slice(1).trim();
      return;
    }
    this.line(tag === 111 || tag === 101 ? raw.slice(1) : raw);
  }

  finish(): RegrtestAnalysis {
    this.endCapture();
    const last = this.blocks.at(-1);
    const first = this.blocks[0];
    const failed = new Set<string>();
    if (last) for (const t of last.lists.get('failed') ?? []) failed.add(t);
    for (const t of this.failedAgain) failed.add(t);
    for (const t of this.rerunFailed) failed.add(t);
    const firstRun = new Set<string>([...(first?.lists.get('failed') ?? []), ...this.firstFailed]);
    const partial = this.result === undefined;
    if (partial) {
      // Cut short: report the failures that were seen, minus those seen passing on re-run.
      for (const t of firstRun) if (!this.rerunPassed.has(t)) failed.add(t);
      for (const t of this.crashed) failed.add(t);
    }
    const flaky = new Set<string>(this.rerunPassed);
    // The block after a re-run ("FAILURE then SUCCESS") lists the re-run tests; a tail may hold only it.
    if (!partial && last && (this.blocks.length > 1 || last.state.includes(' then '))) {
      for (const t of last.lists.get('re-run') ?? []) flaky.add(t);
    }
    for (const t of failed) flaky.delete(t);
    const env = new Set<string>(this.envChanged);
    for (const b of this.blocks) for (const t of b.lists.get('env changed') ?? []) env.add(t);
    const leaked = new Set<string>([...this.leaks.keys(), ...this.refleakFailed]);
    const crashed = [...this.crashed].filter((t) => !this.timedOut.has(t));
    return {
      result: this.result,
      partial,
      summaryFound: this.blocks.length > 0,
      seed: this.seed,
      command: this.command,
      python: this.python,
      workers: this.workers,
      failed: sorted(failed),
      flaky: sorted(flaky),
      envChanged: sorted(env),
      crashed: sorted(crashed),
      timedOut: sorted(this.timedOut),
      leaked: sorted(leaked),
      failedFirstRun: sorted(firstRun),
      cases: Object.fromEntries([...this.cases].map(([k, v]) => [k, [...v].sort()])),
      tracebacks: Object.fromEntries(this.tracebacks),
      leaks: Object.fromEntries(this.leaks),
      duration: this.duration,
      counts: this.counts,
      // A sequential run names a test before running it: with no result after, it was still running.
      running: partial && this.current ? [this.current] : [],
      details: {},
    };
  }

  private progress(line: string): void {
    const m = PROGRESS.exec(line);
    if (!m?.[1]) return;
    const test = normalize(m[1]);
    let status = (m[2] ?? '').replace(/ -- running.*$/, '');
    if (status.startsWith('-- ')) {
      // Sequential ≤3.11: "[5/7/1] test_next -- test_prev failed (1 error)".
      const prev = /^-- (test[\w.]+) (.*)$/.exec(status);
      if (prev?.[1] && prev[2]) this.status(normalize(prev[1]), prev[2]);
      status = '';
    }
    if (status === '') {
      this.current = test;
      return;
    }
    this.status(test, status);
  }

  private status(test: string, status: string): void {
    if (this.inRerun) {
      if (status.startsWith('passed')) this.rerunPassed.add(test);
      else if (status.startsWith('failed') || status.includes('crashed') || status.startsWith('timed out')) {
        this.rerunFailed.add(test);
      }
      if (status.startsWith('timed out')) this.timedOut.add(test);
      return;
    }
    if (status.startsWith('failed (env changed)')) this.envChanged.add(test);
    else if (status.startsWith('failed (reference leak)')) {
      this.refleakFailed.add(test);
      this.firstFailed.add(test);
    } else if (status.startsWith('failed')) this.firstFailed.add(test);
    else if (status.startsWith('crashed') || status.startsWith('process crashed')) {
      this.crashed.add(test);
      this.lastCrashed = test;
    } else if (status.startsWith('timed out')) this.timedOut.add(test);
    if (this.current === test) this.current = undefined;
  }

  private matchSeed(line: string): void {
    const m = SEED.exec(line);
    if (m?.[1]) this.seed = Number(m[1]);
  }

  private rLine(line: string): void {
    if (line.startsWith('Result: ')) {
      this.result = line.slice(8).trim();
      return;
    }
    if (line.startsWith('Re-running')) {
      const one = RERUN_ONE.exec(line);
      if (one?.[1]) {
        const test = normalize(one[1]);
        this.inRerun = true;
        this.endCapture();
        this.rerunTest = test;
        this.current = test;
        this.rerunStarted.add(test);
        if (one[2]) for (const c of one[2].split(',')) this.addCase(test, c.trim());
      } else if (/^Re-running (?:\d+ )?failed tests/.test(line)) {
        this.inRerun = true;
      }
      return;
    }
    const run = RUN.exec(line);
    // The first run decides; a re-run in subprocesses announces its own (smaller) pool.
    if (run && this.workers === undefined) this.workers = run[1] ? Number(run[1]) : 0;
  }

  private tLine(line: string): void {
    if (this.pendingCase && line.startsWith('Traceback')) {
      // The traceback under a `FAIL: x (test_mod.Class.x)` header.
      this.startCapture(this.pendingCase.test, line, 'traceback');
      this.pendingCase = undefined;
    } else if (line.startsWith('Tests result: ')) this.result = line.slice(14).trim();
    else if (line.startsWith('Total duration: ')) this.duration = line.slice(16).trim();
    else if (line.startsWith('Total tests: ')) this.kv(line.slice(13), 'tests');
    else if (line.startsWith('Total test files: ')) this.kv(line.slice(18), 'files');
    else if (line.startsWith('Timeout (')) {
      // faulthandler's dump: the test that was running (or just reported as crashed) hung.
      const test = this.inRerun ? this.rerunTest : (this.lastCrashed ?? this.current);
      if (test) {
        this.timedOut.add(test);
        this.crashed.delete(test);
        this.startCapture(test, line, 'crash');
      }
    }
  }

  private equalsLine(line: string): void {
    const m = /^== Tests result: (.*) ==$/.exec(line);
    if (m?.[1]) {
      this.endCapture();
      this.blocks.push({ state: m[1], lists: new Map() });
      return;
    }
    if (line.startsWith('== CPython ')) this.python = line.slice(11).trim();
  }

  private caseHeader(line: string): void {
    if (line.startsWith('Fatal Python error')) {
      const test = this.inRerun ? this.rerunTest : (this.lastCrashed ?? this.current);
      if (test) {
        if (!this.inRerun) this.crashed.add(test);
        this.startCapture(test, line, 'crash');
      }
      return;
    }
    const m = CASE_HEADER.exec(line);
    if (!m?.[2] || !m[3]) return;
    const test = this.ownerOf(m[3]) ?? this.rerunTest ?? this.current;
    if (!test) return;
    this.addCase(test, m[2]);
    this.pendingCase = { kind: m[1] ?? '', test };
  }

  private warning(line: string): void {
    const m = /^Warning -- .* by (test[\w.]+)$/.exec(line.trim());
    if (m?.[1]) this.envChanged.add(normalize(m[1]));
  }

  private testLine(line: string): void {
    const tb = FAILED_TB.exec(line);
    if (tb?.[1]) {
      const test = normalize(tb[1]);
      if (tb[2]?.startsWith('Traceback')) this.startCapture(test, tb[2], 'traceback');
      if (this.inRerun) this.rerunFailed.add(test);
      return;
    }
    if (this.inRerun && this.rerunTest && line === `test ${this.rerunTest} failed`) {
      this.rerunFailed.add(this.rerunTest);
      return;
    }
    const leak = LEAK.exec(line);
    // References come first and say the most; memory blocks and file descriptors follow.
    if (leak?.[1] && leak[2] && !this.leaks.has(normalize(leak[1])))
      this.leaks.set(normalize(leak[1]), leak[2]);
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
      this.listSink = (name) => this.failedAgain.add(name);
      return;
    }
    const block = this.blocks.at(-1);
    if (!block) return;
    const names: string[] = [];
    block.lists.set(kind, names);
    this.listSink = (name) => names.push(name);
  }

  private kv(text: string, prefix: string): void {
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

  private addCase(test: string, name: string): void {
    if (!name) return;
    let set = this.cases.get(test);
    if (!set) {
      set = new Set();
      this.cases.set(test, set);
    }
    if (set.size < 50) set.add(name);
  }

  /**
   * The test file a unittest id belongs to: `test_hard.HardTests.x` → test_hard,
   * `test.test_asyncio.test_tasks.T.x` → the failing test it is part of (test_asyncio.test_tasks
   * or test_asyncio, whichever regrtest reported).
   */
  private ownerOf(dotted: string): string | undefined {
    const parts = normalize(dotted).split('.');
    const known = new Set([...this.firstFailed, ...this.rerunStarted, ...this.crashed]);
    for (let n = parts.length; n > 0; n--) {
      const candidate = parts.slice(0, n).join('.');
      if (known.has(candidate)) return candidate;
    }
    return parts[0]?.startsWith('test_') ? parts[0] : undefined;
  }
}

/** `test.test_os` → `test_os`: names are kept without the package prefix. */
export function normalize(name: string): string {
  return name.startsWith('test.') ? name.slice(5) : name;
}

function listKind(noun: string, rest: string): string | undefined {
  if (noun.startsWith('re-run')) return 're-run';
  if (rest === 'failed') return 'failed';
  if (rest === 'failed again') return 'failed again';
  if (rest.startsWith('altered the execution environment')) return 'env changed';
  if (
    rest === 'skipped' ||
    rest === 'omitted' ||
    rest === 'run no tests' ||
    rest.startsWith('skipped (resource')
  ) {
    return rest;
  }
  return undefined;
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
