/**
 * A ready-to-file tracker issue for a failed build, as a GitHub new-issue URL
 * (`/issues/new?title=...&body=...&labels=...`): the title in CPython's style, a body with what a
 * triager needs, and labels. The URL stays under {@link MAX_URL_BYTES} whatever the log holds:
 * the traceback is cut first, then the list of tests and the reproduction; the build link never.
 */

export interface FileReportTest {
  /** The test file (`test_posix`). */
  test: string;
  /** Its failing cases (`test_spawn_file_actions`, or `TestPosixSpawn.test_x`). */
  cases: readonly string[];
}

export interface FileReportInput {
  /** `owner/name` of the tracker's repository. */
  repo: string;
  /** The tracker's web address (`https://github.com/`). */
  webUrl: string;
  builder: string;
  buildNumber: number;
  buildUrl: string;
  logUrl?: string | undefined;
  worker?: string | undefined;
  branch?: string | undefined;
  revision?: string | undefined;
  /** The failing tests, first the one the title names. */
  tests: readonly FileReportTest[];
  /** True when the tests only failed before passing on re-run. */
  flaky: boolean;
  /** The first traceback, of `tests[0]`. */
  traceback?: readonly string[] | undefined;
  seed?: number | undefined;
  /** The `!repro` commands. */
  repro?: { alone: string; inOrder: string } | undefined;
  /** How to ask the bot for the reproduction (`!repro AMD64 Debian root 3.x 1234`). */
  reproCommand?: string | undefined;
  labels: readonly string[];
}

/** Browsers and GitHub take longer URLs, but 8 KB is where proxies and chat platforms start cutting. */
export const MAX_URL_BYTES = 8000;
const MAX_TITLE = 200;
const MAX_LINE = 300;
const MAX_TESTS = 20;
const MAX_CASES = 8;

/** `test_posix: TestPosixSpawn.test_x fails on PPC64 Fedora 3.x` (CPython's usual title). */
export function issueTitle(input: Pick<FileReportInput, 'tests' | 'builder' | 'flaky'>): string {
  const [first, ...others] = input.tests;
  const fails = input.flaky ? 'fails randomly on' : others.length > 0 ? 'fail on' : 'fails on';
  let subject: string;
  if (!first) subject = 'build';
  else if (others.length > 0) {
    subject = [first, ...others]
      .slice(0, 3)
      .map((t) => t.test)
      .join(', ');
    if (others.length > 2) subject += ` and ${others.length - 2} more`;
  } else if (first.cases.length === 1) subject = `${first.test}: ${first.cases[0]}`;
  else if (first.cases.length > 1)
    subject = `${first.test}: ${first.cases.slice(0, 2).join(', ')}${first.cases.length > 2 ? ', …' : ''}`;
  else subject = first.test;
  return cut(clean(`${subject} ${fails} ${input.builder}`), MAX_TITLE);
}

/** The issue's body, in Markdown, with `tracebackLines` of the traceback (all when undefined). */
function issueBody(
  input: FileReportInput,
  parts: { traceback: number; tests: number; repro: boolean },
): string {
  const out: string[] = [];
  out.push(`Build: ${input.buildUrl}`);
  if (input.logUrl) out.push(`Log: ${input.logUrl}`);
  out.push(`Builder: ${field(input.builder)}${input.worker ? ` (worker: ${field(input.worker)})` : ''}`);
  const where = [
    input.branch ? `branch ${field(input.branch)}` : undefined,
    input.revision ? `revision ${field(input.revision)}` : undefined,
  ].filter(Boolean);
  if (where.length > 0) out.push(`Built: ${where.join(', ')}`);
  out.push('');
  const tests = input.tests.slice(0, parts.tests);
  if (input.tests.length > 0) {
    out.push(input.flaky ? 'Failed, then passed on re-run:' : 'Failing tests:');
    for (const t of tests) {
      const cases = t.cases.slice(0, MAX_CASES).map((c) => `\`${field(c)}\``);
      const more = t.cases.length > MAX_CASES ? `, … (${t.cases.length - MAX_CASES} more)` : '';
      out.push(`- \`${field(t.test)}\`${cases.length > 0 ? `: ${cases.join(', ')}${more}` : ''}`);
    }
    if (input.tests.length > tests.length) out.push(`- … and ${input.tests.length - tests.length} more`);
    out.push('');
  }
  const trace = (input.traceback ?? []).map((l) => cut(clean(l, true), MAX_LINE));
  if (trace.length > 0 && parts.traceback > 0) {
    // The innermost frames and the exception are the useful end: a cut traceback keeps them.
    const kept = trace.slice(-parts.traceback);
    out.push(`First traceback${input.tests[0] ? ` (${field(input.tests[0].test)})` : ''}:`, '');
    out.push(...fenced([...(kept.length < trace.length ? ['…'] : []), ...kept]), '');
  }
  if (input.seed !== undefined) out.push(`Random seed: ${input.seed}`);
  if (input.repro && parts.repro) {
    out.push(
      '',
      'Reproduce:',
      '',
      ...fenced([input.repro.alone, input.repro.inOrder].map((c) => cut(clean(c, true), 1000))),
    );
  }
  if (input.reproCommand)
    out.push('', `(\`${cut(clean(input.reproCommand), 200)}\` in the bot's channel says the same.)`);
  return out.join('\n');
}

/** The new-issue URL: every field filled, at most `maxBytes` ({@link MAX_URL_BYTES}) bytes. */
export function newIssueUrl(
  input: FileReportInput,
  title = issueTitle(input),
  maxBytes = MAX_URL_BYTES,
): string {
  const base = `${input.webUrl.replace(/\/*$/, '/')}${input.repo}/issues/new`;
  const make = (parts: { traceback: number; tests: number; repro: boolean }) => {
    const query = new URLSearchParams();
    query.set('title', title);
    query.set('body', issueBody(input, parts));
    if (input.labels.length > 0) query.set('labels', input.labels.map((l) => clean(l)).join(','));
    return `${base}?${query.toString().replace(/\+/g, '%20')}`;
  };
  const traceLines = input.traceback?.length ?? 0;
  const tests = Math.min(input.tests.length, MAX_TESTS);
  // Cheapest cut first: traceback lines from the top (binary search), then tests, then the commands.
  const fits = (p: { traceback: number; tests: number; repro: boolean }) => byteLength(make(p)) <= maxBytes;
  let parts = { traceback: traceLines, tests, repro: true };
  if (fits(parts)) return make(parts);
  let lo = 0;
  let hi = traceLines;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits({ ...parts, traceback: mid })) lo = mid;
    else hi = mid - 1;
  }
  parts = { ...parts, traceback: lo };
  if (lo > 0 || fits(parts)) return make(parts);
  for (let n = tests; n >= 1 && !fits(parts); n = Math.floor(n / 2)) parts = { ...parts, tests: n };
  if (!fits(parts)) parts = { ...parts, repro: false };
  if (!fits(parts)) parts = { ...parts, tests: 0 };
  return make(parts);
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Control characters out (a log's escapes, NULs); tabs kept in code. */
function clean(text: string, code = false): string {
  const t = text.replace(code ? /[\x00-\x08\x0b-\x1f\x7f]/g : /[\x00-\x1f\x7f]+/g, code ? '' : ' ');
  return code ? t : t.trim();
}

/** A short field of the body (a name, a revision): one line, cut. */
function field(text: string): string {
  return cut(clean(text), 120);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A code block whose fence no line of the text can close (tracebacks may hold backticks). */
function fenced(lines: readonly string[]): string[] {
  let longest = 2;
  for (const l of lines) for (const run of l.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  return [fence, ...lines, fence];
}

/** The version label of a branch (`3.14` → `3.14`); `3.x`/main only through `versions`. */
export function versionLabel(
  branch: string | undefined,
  versions: Readonly<Record<string, string>>,
): string | undefined {
  if (!branch) return undefined;
  if (versions[branch] !== undefined) return versions[branch] || undefined;
  return /^\d+\.\d+$/.test(branch) ? branch : undefined;
}
