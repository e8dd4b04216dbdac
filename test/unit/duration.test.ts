import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/duration.js';

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['250', 250],
    ['500ms', 500],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '5 parsecs', '1h junk', '-3s'])('refuses %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it.each([
    [0, '0 s'],
    [40_000, '40 s'],
    [61_000, '1 min'],
    [3_600_000 + 5 * 60_000 + 7_000, '1 h 5 min'],
    [3 * 86_400_000 + 4 * 3_600_000 + 60_000, '3 d 4 h'],
    [2 * 86_400_000 + 60_000, '2 d'],
  ])('formats %i ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
