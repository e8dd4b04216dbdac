import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { parseCron } from '../../src/digest/cron.js';
import { problems } from '../support/config.js';

/** A local time (cron works in the bot's local time zone). */
const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi);

describe('cron expressions', () => {
  it('matches numbers, *, ranges, lists and steps', () => {
    const c = parseCron('0,30 8-10 * * 1-5');
    expect(c.matches(at(2026, 1, 5, 8, 0))).toBe(true); // a Monday
    expect(c.matches(at(2026, 1, 5, 10, 30))).toBe(true);
    expect(c.matches(at(2026, 1, 5, 11, 0))).toBe(false);
    expect(c.matches(at(2026, 1, 5, 8, 15))).toBe(false);
    expect(c.matches(at(2026, 1, 4, 8, 0))).toBe(false); // Sunday
    const steps = parseCron('*/15 */6 * * *');
    expect(steps.matches(at(2026, 3, 1, 6, 45))).toBe(true);
    expect(steps.matches(at(2026, 3, 1, 7, 45))).toBe(false);
    expect(parseCron('5-20/5 * * * *').matches(at(2026, 3, 1, 1, 15))).toBe(true);
    expect(parseCron('5-20/5 * * * *').matches(at(2026, 3, 1, 1, 25))).toBe(false);
    expect(parseCron('10/20 * * * *').matches(at(2026, 3, 1, 1, 50))).toBe(true);
  });

  it('treats 0 and 7 as Sunday, and either day field when both are restricted', () => {
    expect(parseCron('0 0 * * 7').matches(at(2026, 1, 4))).toBe(true);
    expect(parseCron('0 0 * * 0').matches(at(2026, 1, 4))).toBe(true);
    const either = parseCron('0 0 13 * 5');
    expect(either.matches(at(2026, 2, 13))).toBe(true); // Friday the 13th
    expect(either.matches(at(2026, 2, 6))).toBe(true); // a Friday
    expect(either.matches(at(2026, 3, 13))).toBe(true); // a 13th (Friday too, but…)
    expect(either.matches(at(2026, 4, 13))).toBe(true); // a Monday the 13th
    expect(either.matches(at(2026, 4, 14))).toBe(false);
    expect(parseCron('0 0 13 * *').matches(at(2026, 4, 14))).toBe(false);
  });

  it('finds the next matching minute', () => {
    expect(parseCron('0 8 * * 1').next(at(2026, 1, 5, 8, 0))).toEqual(at(2026, 1, 12, 8, 0));
    expect(parseCron('* * * * *').next(at(2026, 1, 5, 8, 59))).toEqual(at(2026, 1, 5, 9, 0));
    expect(parseCron('0 0 1 1 *').next(at(2026, 6, 1))).toEqual(at(2027, 1, 1));
    expect(parseCron('0 0 29 2 *').next(at(2026, 3, 1))).toEqual(at(2028, 2, 29));
    expect(parseCron('0 0 31 2 *').next(at(2026, 1, 1))).toBeUndefined();
  });

  it('names the field that is wrong', () => {
    expect(() => parseCron('0 8 * *')).toThrow(/needs 5 fields/);
    expect(() => parseCron('60 * * * *')).toThrow(/minute '60': must be within 0-59/);
    expect(() => parseCron('* 24 * * *')).toThrow(/hour/);
    expect(() => parseCron('* * 0 * *')).toThrow(/day of month/);
    expect(() => parseCron('* * * 13 *')).toThrow(/month/);
    expect(() => parseCron('* * * * 8')).toThrow(/day of week/);
    expect(() => parseCron('5-1 * * * *')).toThrow(/empty range/);
    expect(() => parseCron('*/0 * * * *')).toThrow(/step/);
    expect(() => parseCron('mon * * * *')).toThrow(/not a number, range, list or step/);
    expect(() => parseCron('1,,2 * * * *')).toThrow(/minute/);
  });
});

describe('cron expressions in a time zone', () => {
  const utc = (iso: string) => new Date(`${iso}Z`);

  it('follows the zone across a DST change: 08:00 in New York is 13:00 UTC, then 12:00', () => {
    // The US change of 2026: Sunday 8 March, 02:00 EST → 03:00 EDT.
    const daily = parseCron('0 8 * * *', 'America/New_York');
    expect(daily.next(utc('2026-03-06T13:00:00'))).toEqual(utc('2026-03-07T13:00:00'));
    expect(daily.next(utc('2026-03-07T13:00:00'))).toEqual(utc('2026-03-08T12:00:00'));
    expect(daily.matches(utc('2026-03-08T12:00:30'))).toBe(true);
    expect(daily.matches(utc('2026-03-08T13:00:00'))).toBe(false);
    // And back on Sunday 1 November.
    expect(daily.next(utc('2026-10-31T12:00:00'))).toEqual(utc('2026-11-01T13:00:00'));
  });

  it('sends a time the spring change skips once, after the gap, and a repeated autumn time once', () => {
    // Europe/Berlin, Sunday 29 March 2026: 02:00 CET → 03:00 CEST, so 02:30 does not exist.
    const skipped = parseCron('30 2 * * *', 'Europe/Berlin');
    expect(skipped.next(utc('2026-03-28T01:30:00'))).toEqual(utc('2026-03-29T01:00:00')); // 03:00 CEST
    expect(skipped.next(utc('2026-03-29T01:00:00'))).toEqual(utc('2026-03-30T00:30:00')); // 02:30 CEST
    const dueMinutes = (cron: ReturnType<typeof parseCron>, fromIso: string, hours: number) => {
      const out: string[] = [];
      for (let t = utc(fromIso).getTime(); t < utc(fromIso).getTime() + hours * 3_600_000; t += 60_000)
        if (cron.matches(new Date(t))) out.push(new Date(t).toISOString());
      return out;
    };
    expect(dueMinutes(skipped, '2026-03-28T22:00:00', 6)).toEqual(['2026-03-29T01:00:00.000Z']);
    // Sunday 25 October 2026: 03:00 CEST → 02:00 CET, so 02:30 happens twice; sent at the first.
    expect(dueMinutes(skipped, '2026-10-24T22:00:00', 6)).toEqual(['2026-10-25T00:30:00.000Z']);
  });

  it('refuses a zone that does not exist', () => {
    expect(() => parseCron('0 8 * * *', 'Europe/Atlantis')).toThrow(/'Europe\/Atlantis' is not a time zone/);
    expect(() => parseCron('0 8 * * *', 'UTC')).not.toThrow();
  });
});

describe('digest time zone in the configuration', () => {
  it('takes an IANA zone and names a wrong one with its line', () => {
    const yaml = (zone: string) =>
      `masters:\n  - name: lab\n    url: http://127.0.0.1:8010\ndigest:\n  - to: console\n    cron: "0 8 * * 1"\n    timezone: ${zone}\n`;
    expect(parseConfig(yaml('Europe/London'), 'test.yaml', {}).digest[0]?.timezone).toBe('Europe/London');
    expect(problems(yaml('Europe/Atlantis'))).toEqual([
      'digest[0].timezone (line 7): is not a time zone (an IANA name such as Europe/Berlin or UTC)',
    ]);
  });
});
