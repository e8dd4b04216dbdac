import { Cron as Croner } from 'croner';

/**
 * Cron expressions for digests: five fields (minute hour day-of-month month day-of-week) of
 * numbers, `*`, ranges `a-b`, lists `a,b` and steps `*\/n`, `a-b/n` or `a/n` (from a to the end).
 * Day of week 0-7 (0 and 7 are Sunday). As in Vixie cron, when both day fields are restricted a day
 * matches either of them. Times are those of `timezone` (an IANA name), or the bot's local time.
 * The fields are checked here, so that an error names the one that is wrong; croner computes the
 * times, across daylight-saving changes: a time that a spring change skips runs at the first minute
 * after the gap, and a time that an autumn change repeats runs once.
 */
export interface Cron {
  /** The expression as written. */
  readonly source: string;
  /** Whether the expression is due in the minute that contains `date`. */
  matches(date: Date): boolean;
  /** The first due minute strictly after `date` (seconds zero), or undefined within 5 years. */
  next(date: Date): Date | undefined;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

const FIVE_YEARS_MS = 5 * 366 * 86_400_000;

export class CronError extends Error {}

/** Whether `name` is a time zone this Node knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Parses `expr`, in `timezone` (default: local time); throws CronError naming the field that is wrong. */
export function parseCron(expr: string, timezone?: string): Cron {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === '') {
    throw new CronError(`'${expr}' needs 5 fields (minute hour day-of-month month day-of-week)`);
  }
  if (timezone !== undefined && !isTimeZone(timezone)) {
    throw new CronError(`'${timezone}' is not a time zone (an IANA name such as Europe/Berlin or UTC)`);
  }
  const fields = parts.map((part, i) => parseField(part, FIELDS[i] as (typeof FIELDS)[number]));
  const restricted = (field: string) => field !== '*' && !field.startsWith('*/');
  const domRestricted = restricted(parts[2] ?? '*');
  const dowRestricted = restricted(parts[4] ?? '*');
  const croner = new Croner(fields.join(' '), {
    mode: '5-part',
    // Vixie cron: either day field when both are restricted (a `*\/n` field is not), else both.
    domAndDow: !(domRestricted && dowRestricted),
    ...(timezone !== undefined ? { timezone } : {}),
  });
  const next = (date: Date): Date | undefined => {
    const run = croner.nextRun(date);
    return run && run.getTime() - date.getTime() <= FIVE_YEARS_MS ? run : undefined;
  };
  return {
    source: expr,
    // Due when the first run after the minute before is this minute: a run that a DST change
    // moves (out of the gap) or repeats (the autumn hour) is due exactly once.
    matches(date: Date) {
      const minute = Math.floor(date.getTime() / 60_000) * 60_000;
      return next(new Date(minute - 60_000))?.getTime() === minute;
    },
    next,
  };
}

/** Checks one field and writes it as croner reads it (`10/20` becomes `10-59/20`). */
function parseField(part: string, field: { name: string; min: number; max: number }): string {
  const out: string[] = [];
  const bad = (why: string) => new CronError(`${field.name} '${part}': ${why}`);
  for (const item of part.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) throw bad(`'${item}' is not a number, range, list or step`);
    let lo = field.min;
    let hi = field.max;
    if (m[1] !== '*') {
      lo = Number(m[2]);
      hi = m[3] === undefined ? (m[4] === undefined ? lo : field.max) : Number(m[3]);
    }
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (lo < field.min || hi > field.max) throw bad(`must be within ${field.min}-${field.max}`);
    if (lo > hi) throw bad(`${lo}-${hi} is an empty range`);
    if (step < 1) throw bad('a step must be at least 1');
    out.push(m[1] !== '*' && m[3] === undefined && m[4] !== undefined ? `${lo}-${hi}/${step}` : item);
  }
  return out.join(',');
}
