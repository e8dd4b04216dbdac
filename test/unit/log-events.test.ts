import { describe, expect, it } from 'vitest';
import { testEvents } from '../../src/logs/events.js';
import { normalizeIssue, normalizeTestName } from '../../src/logs/known.js';
import { parseRegrtest, type RegrtestAnalysis } from '../../src/logs/regrtest.js';
import { reproCommands } from '../../src/logs/repro.js';

function analysis(failed: string[], flaky: string[] = []): RegrtestAnalysis {
  return { ...parseRegrtest(''), failed, flaky, partial: false, result: 'X', summaryFound: true };
}

describe('testEvents', () => {
  it.each<
    [string, number, RegrtestAnalysis, Parameters<typeof testEvents>[2], ReturnType<typeof testEvents>]
  >([
    ['orange with a flaky test', 1, analysis([], ['test_a']), undefined, [{ event: 'flaky' }]],
    ['orange from env changed only', 1, analysis([]), undefined, []],
    [
      'red after green (that is a failure, not newfailure)',
      2,
      analysis(['test_a']),
      { results: 0, analysis: undefined },
      [],
    ],
    [
      'red after red with a new test',
      2,
      analysis(['test_a', 'test_b']),
      { results: 2, analysis: analysis(['test_a']) },
      [{ event: 'newfailure', newFailures: ['test_b'] }],
    ],
    [
      'red after red with the same tests',
      2,
      analysis(['test_a']),
      { results: 2, analysis: analysis(['test_a', 'test_c']) },
      [],
    ],
    [
      'red after red whose log was not read',
      2,
      analysis(['test_a']),
      { results: 2, analysis: undefined },
      [],
    ],
  ])('%s', (_name, results, a, previous, expected) => {
    expect(testEvents(results, a, previous)).toEqual(expected);
  });
});

describe('reproCommands', () => {
  it('keeps the flags that matter, the seed, and the failing cases', () => {
    const a = {
      ...analysis(['test_ssl']),
      seed: 1234,
      cases: { test_ssl: ['test_handshake'] },
      command: `make buildbottest TESTOPTS='-j2 --junit-xml test-results.xml -u all,-cpu --fail-env-changed --timeout=900'`,
    };
    expect(reproCommands(a, ['test_ssl'])).toEqual({
      alone:
        './python -m test -u all,-cpu --fail-env-changed --timeout 900 --randseed 1234 -v test_ssl -m test_handshake',
      inOrder: './python -m test -u all,-cpu --fail-env-changed --timeout 900 -r --randseed 1234',
    });
  });

  it('quotes what a shell would misread and drops suspicious values', () => {
    const a = { ...analysis(['test_x']), command: './python -m test -u "all;rm -rf /" --slow-ci' };
    expect(reproCommands(a, ['test_x']).alone).toBe('./python -m test -u all -v test_x');
  });
});

describe('known issues', () => {
  it.each([
    ['gh-1234', 'gh-1234'],
    ['#1234', 'gh-1234'],
    ['1234', 'gh-1234'],
    ['bpo-42', 'bpo-42'],
    ['https://github.com/python/cpython/issues/1', 'https://github.com/python/cpython/issues/1'],
  ])('issue %s → %s', (text, expected) => expect(normalizeIssue(text)).toBe(expected));

  it.each(['javascript:alert(1)', 'gh-', 'not an issue', 'ftp://x/y'])('refuses %j', (text) => {
    expect(() => normalizeIssue(text)).toThrow(/is not an issue/);
  });

  it('normalizes test names and refuses others', () => {
    expect(normalizeTestName('test.test_os')).toBe('test_os');
    expect(normalizeTestName('test_asyncio.test_tasks')).toBe('test_asyncio.test_tasks');
    expect(() => normalizeTestName('rm -rf')).toThrow(/is not a test name/);
    expect(() => normalizeTestName('<script>')).toThrow(/is not a test name/);
  });
});
