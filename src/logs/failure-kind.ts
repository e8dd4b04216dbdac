import { type FailureEvidence, failedStepSummary, type StepFacts } from '../buildbot/failing-step.js';
import { Results } from '../buildbot/types.js';

/** Why a red or purple build failed. */
export type FailureKind = 'test' | 'compile' | 'checkout' | 'worker-lost' | 'timeout' | 'disk-full' | 'other';

/** A build's failure, classified: what went wrong, where, and the words from the log that say so. */
export interface FailureCause {
  kind: FailureKind;
  /** The step that failed; undefined when none did (a build that lost its worker before any step). */
  step?: string;
  /** The log line that says what went wrong (a compiler error, an exception, ENOSPC), cleaned and cut. */
  detail?: string;
  /** The step raised an exception on the master (Buildbot's EXCEPTION) rather than failing. */
  exception?: boolean;
  /** For `timeout`: after how long Buildbot killed the step, and why (no output, or its time limit). */
  timeout?: { seconds: number; reason: 'silence' | 'elapsed' };
  /** For `worker-lost`: the worker, when the build names it. */
  worker?: string;
  /** Tests that were running when the test step was cut (killed, worker lost). */
  running?: string[];
  /** The failing step's log in the master's UI. */
  logUrl?: string;
  /** A few lines of that log around what went wrong, for `!why`. */
  excerpt: string[];
}

/**
 * The kinds that are not a test's failure: a red build of these kinds is routed as the `infra`
 * event (to the destinations that asked for it, or for `worker`), not as `failure`.
 */
export const INFRA_KINDS: ReadonlySet<FailureKind> = new Set<FailureKind>([
  'compile',
  'checkout',
  'worker-lost',
  'timeout',
  'disk-full',
]);

/** What a failing step is by its name alone: the test step, a compile or a checkout step, or neither. */
export function stepKind(name: string, testStep: string): 'test' | 'compile' | 'checkout' | undefined {
  if (name === testStep) return 'test';
  if (COMPILE_STEP.test(name)) return 'compile';
  if (CHECKOUT_STEP.test(name)) return 'checkout';
  return undefined;
}

/**
 * What a red build is, as far as its state string says, before any request (pure): `compile` or
 * `checkout` when the first step that failed is one (by the same names as {@link classifyFailure},
 * read from Buildbot's summary of the step); undefined when only its log can tell (the test step
 * failed: a test, or a kill, a full disk, a lost worker).
 */
export function kindFromState(stateString: string, testStep: string): 'compile' | 'checkout' | undefined {
  const step = failedStepSummary(stateString);
  const kind = step === undefined ? undefined : stepKind(step, testStep);
  return kind === 'test' ? undefined : kind;
}

export interface ClassifyInput {
  build: { results: number | null; stateString: string };
  evidence: FailureEvidence;
  /** The step that runs the tests (the master's `logs.step`; CPython's builders: `test`). */
  testStep: string;
  /** From the test log's analysis: the tests still running when it ended. */
  running?: readonly string[];
}

// Buildbot's worker writes these header lines when it kills a command (buildbot_worker/runprocess.py).
const TIMED_OUT = /^command timed out: (\d+) seconds (without output|elapsed)/;
// ENOSPC as glibc, musl and Windows say it, and a full quota (EDQUOT).
const DISK_FULL = /No space left on device|There is not enough space on the disk|Disk quota exceeded/i;
const CONNECTION_LOST = /ConnectionLost|Connection to the other side was lost|\blost connection\b/;
// Step names of Buildbot's Compile and Configure steps, and what builders call their build steps.
const COMPILE_STEP = /^(?:compile|configure|make|build)(?![a-z])/i;
// Buildbot's source steps (Git, GitHub, GitLab, Gerrit, SVN, Mercurial, ...) and common names for them.
const CHECKOUT_STEP =
  /^(?:git|github|gitlab|gerrit|svn|hg|mercurial|bzr|cvs|darcs|monotone|p4|repo|checkout|clone|source|update)(?![a-z])/i;
// A compiler's, linker's or tool's error line: gcc/clang `file:1:2: error: ...`, MSVC `file(1): error
// C2065: ...`, `configure: error: ...`, git's `fatal: ...`, ld's `undefined reference to ...`.
const ERROR_LINE = /(?:^|[\s:)])(?:fatal )?error(?: [A-Z]+\d+)?:|^fatal:|undefined reference to /i;
// A Python exception line: `OSError: [Errno 28] ...`, `builtins.RuntimeError: ...`.
const EXCEPTION_LINE = /^[\w.]*(?:Error|Exception|Exit|Interrupt): /;
// make's own summary of a failed target.
const MAKE_LINE = /^(?:g?make|nmake|ninja)(?:\[\d+\])?: (?:\*\*\*|fatal|build stopped)/i;
const WORKER_READY = /^worker (\S+) ready$/;
// Terminal colours (compilers colour their errors) and other control characters.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;
const MAX_DETAIL = 240;
const EXCERPT = 6;

/**
 * Classifies a red or purple build from its steps and the end of its failing step's log (pure).
 * In order: a lost worker, a step Buildbot killed for silence or time, a full disk, then by the
 * failing step: the test step (a test failure, or an exception on the master), a compile or
 * configure step, a checkout; anything else is `other`.
 */
export function classifyFailure(input: ClassifyInput): FailureCause {
  const { build, evidence, testStep } = input;
  const failing = evidence.failing;
  const worker = workerOf(evidence.steps);
  const tail = (failing?.tail ?? []).map((l) => ({ stream: l.stream, text: clean(l.text) }));
  const output = tail.filter((l) => l.stream === 'output').map((l) => l.text);
  const base = {
    ...(failing ? { step: failing.step.name } : {}),
    ...(failing?.log ? { logUrl: failing.log.url } : {}),
  };
  const isTestStep = failing?.step.name === testStep;
  const running = isTestStep && input.running && input.running.length > 0 ? [...input.running] : undefined;

  if (!failing) {
    const lost = build.results === Results.RETRY || CONNECTION_LOST.test(build.stateString);
    return lost
      ? { kind: 'worker-lost', ...(worker ? { worker } : {}), excerpt: [] }
      : { kind: 'other', excerpt: [] };
  }

  if (
    failing.step.results === Results.RETRY ||
    CONNECTION_LOST.test(failing.step.stateString) ||
    lostInLog(failing.step, output)
  ) {
    return {
      kind: 'worker-lost',
      ...base,
      ...(worker ? { worker } : {}),
      ...(running ? { running } : {}),
      excerpt: lastLines(output, 3),
    };
  }

  const killed = tail.find((l) => l.stream === 'header' && TIMED_OUT.test(l.text));
  const timedOut = killed ? TIMED_OUT.exec(killed.text) : null;
  if (timedOut) {
    return {
      kind: 'timeout',
      ...base,
      timeout: { seconds: Number(timedOut[1]), reason: timedOut[2] === 'elapsed' ? 'elapsed' : 'silence' },
      ...(running ? { running } : {}),
      // What the step printed last, before the silence.
      excerpt: lastLines(output, 3),
    };
  }

  const full = output.findIndex((l) => DISK_FULL.test(l));
  if (full >= 0)
    return { kind: 'disk-full', ...base, detail: cut(output[full] ?? ''), excerpt: from(output, full) };

  if (failing.step.results === Results.EXCEPTION) {
    // The step raised on the master: its err.text ends with the exception.
    const last = lastLines(output, 1)[0];
    return {
      kind: 'other',
      ...base,
      exception: true,
      ...(last ? { detail: cut(last) } : {}),
      excerpt: lastLines(output, 3),
    };
  }
  const byName = stepKind(failing.step.name, testStep);
  if (byName === 'test') return { kind: 'test', ...base, excerpt: [] };

  const at = errorLine(output);
  const found =
    at >= 0
      ? { detail: cut(output[at] ?? ''), excerpt: from(output, at) }
      : { excerpt: lastLines(output, 3) };
  return { kind: byName ?? 'other', ...base, ...found };
}

/**
 * The words a headline uses for a cause ("failed compile: Modules/_ssl.c:123: error: ...",
 * "worker w1 lost during test", "test killed after 1200 s without output while running test_x");
 * undefined for a test failure (Buildbot's own state string says it) and for an unknown cause.
 */
export function causeHeadline(cause: FailureCause): string | undefined {
  const step = cause.step ?? 'build';
  const detail = cause.detail ? `: ${cause.detail}` : '';
  const running = cause.running && cause.running.length > 0 ? ` while running ${names(cause.running)}` : '';
  switch (cause.kind) {
    case 'test':
      return undefined;
    case 'compile':
      return `failed ${step}${detail}`;
    case 'checkout':
      return `failed checkout (${step})${detail}`;
    case 'worker-lost':
      return `worker ${cause.worker ? `${cause.worker} ` : ''}lost${cause.step ? ` during ${cause.step}` : ''}${running}`;
    case 'timeout': {
      const t = cause.timeout;
      const how = !t
        ? ''
        : t.reason === 'silence'
          ? ` after ${t.seconds} s without output`
          : ` after ${t.seconds} s (its time limit)`;
      return `${step} killed${how}${running}`;
    }
    case 'disk-full':
      return `disk full during ${step}${detail}`;
    case 'other':
      if (!cause.step) return undefined;
      return cause.exception ? `exception in ${step}${detail}` : `failed ${step}${detail}`;
  }
}

/** `test_a, test_b, test_c and 2 more`. */
function names(tests: readonly string[]): string {
  const shown = tests.slice(0, 3).join(', ');
  return tests.length > 3 ? `${shown} and ${tests.length - 3} more` : shown;
}

/** `worker w1 ready`: Buildbot's worker_preparation step names the build's worker. */
function workerOf(steps: readonly StepFacts[]): string | undefined {
  for (const s of steps) {
    const m = WORKER_READY.exec(s.stateString);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** A step that raised because the connection went: its log says ConnectionLost, and nothing ran after. */
function lostInLog(step: StepFacts, output: readonly string[]): boolean {
  return step.results === Results.EXCEPTION && output.some((l) => CONNECTION_LOST.test(l));
}

/** The error that says the most: a compiler's or tool's error line, else an exception, else make's. */
function errorLine(lines: readonly string[]): number {
  const own = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l) && !MAKE_LINE.test(l));
  const at = own(ERROR_LINE);
  if (at >= 0) return at;
  const exception = own(EXCEPTION_LINE);
  return exception >= 0 ? exception : lines.findIndex((l) => MAKE_LINE.test(l));
}

/** Up to EXCERPT non-empty lines from `at`, as printed (indentation kept: a caret points somewhere). */
function from(lines: readonly string[], at: number): string[] {
  return lines
    .slice(at)
    .filter((l) => l.trim() !== '')
    .slice(0, EXCERPT)
    .map(cutEnd);
}

function lastLines(lines: readonly string[], n: number): string[] {
  return lines
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .map(cutEnd);
}

function clean(text: string): string {
  return text.replace(ANSI, '').replace(/\t/g, ' ').trimEnd();
}

function cut(text: string): string {
  return cutEnd(text.trim());
}

function cutEnd(text: string): string {
  const t = text.trimEnd();
  return t.length > MAX_DETAIL ? `${t.slice(0, MAX_DETAIL - 1)}…` : t;
}
