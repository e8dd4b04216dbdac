/**
 * The doctor's checklist as people read it: one line per check, a `fix:` line under each failure
 * and warning, a summary, and the exit status. Pure: the same results always print the same way.
 * Everything printed passes through `clean`: text from servers is untrusted (no control characters
 * or escape sequences reach the terminal) and no secret is ever printed.
 */
import type { CheckStatus } from '../chat/probe.js';
import { cleanText } from '../messages/message.js';

export interface CheckResult {
  /** `config`, `store`, `master lab`, `irc`, `http`. */
  section: string;
  /** What was checked (`join #lab`). */
  title: string;
  status: CheckStatus;
  detail?: string | undefined;
  fix?: string | undefined;
}

/** `tty`: marks and colours for a terminal. `plain`: words, for a pipe or a file. */
export type Style = 'tty' | 'plain';

const MARKS: Record<Style, Record<CheckStatus, string>> = {
  tty: { ok: '✓', fail: '✗', warn: '!', skip: '-' },
  plain: { ok: 'ok  ', fail: 'FAIL', warn: 'warn', skip: 'skip' },
};
/** SGR colours: green, red, yellow, dim. */
const COLOURS: Record<CheckStatus, string> = { ok: '32', fail: '31', warn: '33', skip: '2' };
const MAX_TEXT = 400;

/**
 * Text fit to print: control characters and escape sequences become spaces, runs of spaces one,
 * every secret `[secret]`, and at most MAX_TEXT characters.
 */
export function clean(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // Longest first: a secret that contains another is masked whole.
  for (const secret of [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('[secret]');
  }
  out = cleanText(out);
  return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT - 1)}…` : out;
}

/** The lines of one check: the check itself, then its fix (each line of it) indented under it. */
export function formatCheck(result: CheckResult, style: Style, secrets: readonly string[] = []): string[] {
  const mark = MARKS[style][result.status];
  const shown = style === 'tty' ? `\x1b[${COLOURS[result.status]}m${mark}\x1b[0m` : mark;
  const detail = result.detail ? ` — ${clean(result.detail, secrets)}` : '';
  const lines = [`${shown} ${clean(result.section, secrets)}: ${clean(result.title, secrets)}${detail}`];
  if (result.fix && (result.status === 'fail' || result.status === 'warn')) {
    const indent = ' '.repeat(style === 'tty' ? 4 : 6);
    const fixes = result.fix
      .split('\n')
      .map((f) => clean(f, secrets))
      .filter(Boolean);
    fixes.forEach((f, i) => lines.push(`${indent}${i === 0 ? 'fix: ' : '     '}${f}`));
  }
  return lines;
}

export interface Tally {
  ok: number;
  fail: number;
  warn: number;
  skip: number;
}

export function tally(results: readonly CheckResult[]): Tally {
  const t: Tally = { ok: 0, fail: 0, warn: 0, skip: 0 };
  for (const r of results) t[r.status]++;
  return t;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The last line: whether bbwatch would work as configured. */
export function summaryLine(results: readonly CheckResult[]): string {
  const t = tally(results);
  const warnings = t.warn > 0 ? `, ${plural(t.warn, 'warning')}` : '';
  const skipped = t.skip > 0 ? `, ${t.skip} not tried` : '';
  if (t.fail > 0)
    return `${plural(t.fail, 'problem')}${warnings}${skipped}: bbwatch would not work as configured (see the fix lines).`;
  if (t.warn > 0) return `Everything needed works (${plural(t.ok, 'check')} passed${warnings}).`;
  return `Everything works: ${plural(t.ok, 'check')} passed.`;
}

/** 0 only when nothing needed failed; warnings and checks not tried do not count. */
export function exitStatus(results: readonly CheckResult[]): 0 | 1 {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/** `--json`: the same checks, cleaned the same way. */
export function checklistJson(
  results: readonly CheckResult[],
  source: string,
  secrets: readonly string[] = [],
): { ok: boolean; config: string; checks: CheckResult[]; summary: string } {
  return {
    ok: exitStatus(results) === 0,
    config: clean(source, secrets),
    checks: results.map((r) => ({
      section: clean(r.section, secrets),
      title: clean(r.title, secrets),
      status: r.status,
      ...(r.detail ? { detail: clean(r.detail, secrets) } : {}),
      ...(r.fix
        ? {
            fix: r.fix
              .split('\n')
              .map((f) => clean(f, secrets))
              .filter(Boolean)
              .join('\n'),
          }
        : {}),
    })),
    summary: summaryLine(results),
  };
}
