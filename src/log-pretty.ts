/**
 * Log lines for a person at a terminal: one line per entry, `12:34:56 WARN  message key=value ...`,
 * instead of pino's JSON. A small formatter over pino's JSON output rather than pino-pretty: it is
 * not a dependency, and pino's transports run in a worker thread, from which a log line could not
 * be printed above the interactive console's prompt (see LogOutput in log.ts).
 */

export interface PrettyOptions {
  /** ANSI colours for the level and the field names. */
  colour: boolean;
  /** Entries below this pino level number are dropped (30 info, 40 warn...). */
  floor?: number;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const LEVEL_COLOURS: Record<number, string> = {
  10: '\x1b[90m',
  20: '\x1b[90m',
  30: '\x1b[32m',
  40: '\x1b[33m',
  50: '\x1b[31m',
  60: '\x1b[1;31m',
};
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
/** Fields every line has, or that say nothing to the person reading (the process id). */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);
/** A longer value is cut: a line is for reading, the JSON format has everything. */
const VALUE_MAX = 300;

/**
 * One pino JSON line (with or without its newline) as a terminal line ending in a newline, or ''
 * when the entry is below the floor. A line that is not JSON is passed through, made one line.
 */
export function prettyLine(json: string, opts: PrettyOptions): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an entry');
    entry = parsed as Record<string, unknown>;
  } catch {
    return `${oneLine(json.replace(/\n$/, ''))}\n`;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  if (opts.floor !== undefined && level < opts.floor) return '';
  const time = typeof entry.time === 'number' ? clock(entry.time) : '--:--:--';
  const name = (LEVEL_NAMES[level] ?? `L${level}`).padEnd(5);
  const msg = oneLine(typeof entry.msg === 'string' ? entry.msg : '');
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${opts.colour ? `${DIM}${key}=${RESET}` : `${key}=`}${fieldValue(value)}`);
  const head = opts.colour
    ? `${DIM}${time}${RESET} ${LEVEL_COLOURS[level] ?? ''}${name}${RESET}`
    : `${time} ${name}`;
  return `${[`${head} ${msg}`, ...fields].join(' ')}\n`;
}

/** The pino level number of a level name (`warn` → 40). */
export function levelNumber(name: string): number | undefined {
  const found = Object.entries(LEVEL_NAMES).find(([, n]) => n === name.toUpperCase());
  return found ? Number(found[0]) : undefined;
}

function clock(epochMs: number): string {
  const d = new Date(epochMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** A value as one word: bare when it is plain, else JSON (quoted, escapes for control characters). */
function fieldValue(value: unknown): string {
  // An error object (log.ts turns Errors into {type, message, stack}): its message, not its stack.
  if (value !== null && typeof value === 'object' && 'message' in value && 'stack' in value) {
    const e = value as { type?: unknown; message?: unknown };
    value = `${typeof e.type === 'string' ? `${e.type}: ` : ''}${String(e.message)}`;
  }
  const text =
    typeof value === 'string' && /^[\w.:/@%+,=-]+$/.test(value)
      ? value
      : (JSON.stringify(value) ?? String(value));
  return oneLine(text.length > VALUE_MAX ? `${text.slice(0, VALUE_MAX - 1)}…` : text);
}

/** No control characters (line breaks, escape sequences) from a message reach the terminal. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}
