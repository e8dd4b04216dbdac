import { describe, expect, it } from 'vitest';
import { parseCron } from '../../src/digest/cron.js';

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
