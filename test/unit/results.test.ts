import { describe, expect, it } from 'vitest';
import { isCodeVerdict, isGood, isRed, isVerdict, resultName, Results } from '../../src/buildbot/results.js';

describe('Buildbot results', () => {
  // Buildbot's own numbering (buildbot/process/results.py): the names are what the master means.
  it('names the codes as Buildbot does', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(resultName)).toEqual([
      'success',
      'warnings',
      'failure',
      'skipped',
      'exception',
      'retry',
      'cancelled',
    ]);
    expect(resultName(9)).toBe('result 9');
    expect(Results.FAILURE).toBe(2);
  });

  it('counts green, orange, red and purple as verdicts; skipped, retry, cancelled and unfinished not', () => {
    const verdicts = [null, 0, 1, 2, 3, 4, 5, 6].filter((r) => isVerdict(r));
    expect(verdicts).toEqual([0, 1, 2, 4]);
    expect(isVerdict(undefined)).toBe(false);
  });

  it('leaves purple out of the verdicts on the code', () => {
    expect([null, 0, 1, 2, 3, 4, 5, 6].filter((r) => isCodeVerdict(r))).toEqual([0, 1, 2]);
  });

  it('tells good from red', () => {
    expect([null, 0, 1, 2, 3, 4, 5, 6].filter((r) => isGood(r))).toEqual([0, 1]);
    expect([null, 0, 1, 2, 3, 4, 5, 6].filter((r) => isRed(r))).toEqual([2]);
  });
});
