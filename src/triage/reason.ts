/**
 * A failure's *reason*: the failing test plus its error line, normalised the way LUCI Analysis
 * clusters failures (numbers, hex, addresses, temporary paths and worker names masked), so that
 * the same failure on two builders gives the same reason whatever the run-specific values in its
 * message, and two different assertions give two.
 */

export interface FailureReason {
  /** The test file, and the failing method when the traceback or the cases name it (`test_posix.test_x`). */
  test: string;
  /** The error line as the log shows it (cut to {@link MAX_LINE} characters); empty when none was found. */
  error: string;
  /** The error line with run-specific values masked. */
  normalised: string;
  /** One string per reason: equal keys, same failure. */
  key: string;
}

/** Longer error lines are cut before masking: the masks then stay linear and the reason short. */
const MAX_LINE = 500;

/**
 * A token holding a temporary path: /tmp/..., /var/folders/... (macOS), ...\Temp\... (Windows),
 * or one of CPython's own temporary names (test_python_xxx, @test_123_tmp).
 */
const TEMP_PATH =
  /(?:\b[A-Za-z]:)?[^\s'"`()<>[\],;:=]*(?:[\\/](?:tmp|temp|var[\\/]folders)[\\/]|test_python_|@test_\d+_tmp)[^\s'"`()<>[\],;:=]*/gi;
const HEX = /\b0x[0-9a-f]+\b/gi;
/** Bare hex of 8+ digits (hashes, ids) that contains at least one digit: not a word like `deadbeef`... */
const BARE_HEX = /\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi;
const NUMBER = /\d+(?:\.\d+)?/g;

/** Python's exception line: `ValueError: ...`, `test.support.TestFailed: ...`, `AssertionError`. */
const EXCEPTION_LINE = /^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Warning|Interrupt|Failed|Failure)\b(?::|$)/;
/** A line a traceback shows as context, not its error: frames, source, carets, the header. */
const CONTEXT_LINE = /^(?:\s|Traceback \(most recent call last\)|[~^\s]+$|-{5,}|={5,})/;

/** Masks the run-specific values of an error line (`workers`: worker names to mask as well). */
export function normaliseErrorLine(line: string, workers: readonly string[] = []): string {
  let text = line.slice(0, MAX_LINE).trim();
  for (const worker of workers) {
    if (worker.length < 3) continue;
    text = text.split(worker).join('<worker>');
  }
  return text
    .replace(TEMP_PATH, '<tmp>')
    .replace(HEX, '<hex>')
    .replace(BARE_HEX, '<hex>')
    .replace(NUMBER, '<n>')
    .replace(/\s+/g, ' ');
}

/** The error line of a traceback: its last exception line, else its last line that is not context. */
export function errorLine(traceback: readonly string[]): string | undefined {
  const lines = traceback.map((l) => l.slice(0, MAX_LINE * 4).trimEnd()).filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i] as string;
    if (EXCEPTION_LINE.test(l)) return l;
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i] as string;
    if (!CONTEXT_LINE.test(l) && l.trim() !== '…') return l;
  }
  return undefined;
}

/**
 * The failing method: the innermost frame of the traceback that is a test method
 * (`File "...", line 7, in test_x`) among the failing cases, else the only failing case.
 */
export function failingMethod(cases: readonly string[], traceback: readonly string[]): string | undefined {
  const methods = cases.map((c) => c.split('.').pop() as string);
  for (let i = traceback.length - 1; i >= 0; i--) {
    const frame = /^\s*File ".*", line \d+, in (test\w*)\s*$/.exec((traceback[i] as string).slice(0, 2000));
    if (frame?.[1] && (methods.length === 0 || methods.includes(frame[1]))) return frame[1];
  }
  return methods.length === 1 ? methods[0] : undefined;
}

/** The reason of one failing test of a build. */
export function failureReason(
  test: string,
  cases: readonly string[],
  traceback: readonly string[],
  workers: readonly string[] = [],
): FailureReason {
  const method = failingMethod(cases, traceback);
  const id = method ? `${test}.${method}` : test;
  const error = errorLine(traceback)?.slice(0, MAX_LINE) ?? '';
  const normalised = normaliseErrorLine(error, workers);
  return { test: id, error, normalised, key: `${id}\n${normalised}` };
}
