/**
 * A small cron expression parser: five fields (minute hour day-of-month month day-of-week) of
 * numbers, `*`, ranges `a-b`, lists `a,b` and steps `*\/n` or `a-b/n`. Day of week 0-7 (0 and 7 are
 * Sunday). As in Vixie cron, when both day fields are restricted a day matches either of them.
 * Times are the bot's local time (set TZ to choose).
 */
export interface Cron {
  /** The expression as written. */
  readonly source: string;
  /** Whether the minute that contains `date` is one of the expression's. */
  matches(date: Date): boolean;
  /** The first matching minute strictly after `date` (seconds zero), or undefined within 5 years. */
  next(date: Date): Date | undefined;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

export class CronError extends Error {}

/** Parses `expr`; throws CronError naming the field that is wrong. */
export function parseCron(expr: string): Cron {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === '') {
    throw new CronError(`'${expr}' needs 5 fields (minute hour day-of-month month day-of-week)`);
  }
  const sets = parts.map((part, i) => parseField(part, FIELDS[i] as (typeof FIELDS)[number]));
  const [minutes, hours, doms, months, dows] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  if (dows.has(7)) dows.add(0);
  const domRestricted = parts[2] !== '*' && !(parts[2] ?? '').startsWith('*/');
  const dowRestricted = parts[4] !== '*' && !(parts[4] ?? '').startsWith('*/');
  const dayMatches = (d: Date) => {
    const dom = doms.has(d.getDate());
    const dow = dows.has(d.getDay());
    if (domRestricted && dowRestricted) return dom || dow;
    return dom && dow;
  };
  const matches = (d: Date) =>
    minutes.has(d.getMinutes()) && hours.has(d.getHours()) && months.has(d.getMonth() + 1) && dayMatches(d);
  return {
    source: expr,
    matches,
    next(date: Date) {
      const d = new Date(date.getTime());
      d.setSeconds(0, 0);
      d.setMinutes(d.getMinutes() + 1);
      const limit = date.getTime() + 5 * 366 * 86_400_000;
      while (d.getTime() <= limit) {
        if (!months.has(d.getMonth() + 1)) {
          d.setMonth(d.getMonth() + 1, 1);
          d.setHours(0, 0, 0, 0);
        } else if (!dayMatches(d)) {
          d.setDate(d.getDate() + 1);
          d.setHours(0, 0, 0, 0);
        } else if (!hours.has(d.getHours())) {
          d.setHours(d.getHours() + 1, 0, 0, 0);
        } else if (!minutes.has(d.getMinutes())) {
          d.setMinutes(d.getMinutes() + 1, 0, 0);
        } else {
          return d;
        }
      }
      return undefined;
    },
  };
}

function parseField(part: string, field: { name: string; min: number; max: number }): Set<number> {
  const out = new Set<number>();
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
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}
