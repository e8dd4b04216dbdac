import { describe, expect, it } from 'vitest';
import { likelyCulprits, culpritLines } from '../../src/triage/culprit.js';
import { type Candidate, rankCandidates, searchQueries, suggestionText } from '../../src/triage/search.js';
import { searchTargets } from '../../src/triage/targets.js';
import { parseRegrtest } from '../../src/logs/regrtest.js';
import { fixtureText } from '../support/regrtest-logs.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const DAY = 86_400_000;
const issue = (
  number: number,
  title: string,
  days: number,
  state: 'open' | 'closed' = 'open',
  body = '',
): Candidate => ({
  number,
  title,
  state,
  updatedAt: new Date(NOW - days * DAY).toISOString(),
  url: `https://github.com/python/cpython/issues/${number}`,
  body,
});

describe('ranking tracker candidates', () => {
  const target = { test: 'test_posix', method: 'test_setsigdef', builder: 'PPC64LE Fedora Stable 3.x' };

  it('puts the issue naming the method first, above a newer issue about the same file', () => {
    const ranked = rankCandidates(
      [
        issue(1, 'test_posix: test_sched_setaffinity fails on FreeBSD', 1),
        issue(
          2,
          'Add os.posix_spawn() file actions',
          2,
          'closed',
          'test_posix test_setsigdef is mentioned here',
        ),
        issue(3, 'test_posix: TestPosixSpawn.test_setsigdef fails on PPC64LE Fedora', 200, 'closed'),
      ],
      target,
      NOW,
    );
    expect(ranked[0]?.number).toBe(3);
    expect(ranked.map((r) => r.number)).not.toContain(1);
  });

  it('says nothing (no existing issue) for near misses and issues about other tests', () => {
    expect(
      rankCandidates(
        [
          issue(1, 'test_posix: test_sched_setaffinity fails on FreeBSD', 1),
          issue(2, 'test_os: test_setsigdef_default is flaky', 1),
          issue(3, 'Fedora buildbots are slow', 1),
        ],
        target,
        NOW,
      ),
    ).toEqual([]);
  });

  it('prefers the open issue of two alike, and the same platform', () => {
    const ranked = rankCandidates(
      [
        issue(1, 'test_ssl: test_tls1_3 fails on Windows', 500, 'closed'),
        issue(2, 'test_ssl: test_tls1_3 fails on AMD64 Windows11', 10, 'open'),
      ],
      { test: 'test_ssl', method: 'test_tls1_3', builder: 'AMD64 Windows11 Bigmem 3.x' },
      NOW,
    );
    expect(ranked.map((r) => r.number)).toEqual([2, 1]);
  });

  it('writes a suggestion as "maybe gh-N "title" (state, updated N d ago)"', () => {
    expect(suggestionText(issue(12345, 'test_posix: TestPosixSpawn fails on PPC64 Fedora 3.x', 3), NOW)).toBe(
      'maybe gh-12345 "test_posix: TestPosixSpawn fails on PPC64 Fedora 3.x" (open, updated 3 d ago)',
    );
  });
});

describe('search targets and queries', () => {
  it('searches the lab failure by its method, its file, then its error words, within 256 characters', () => {
    const a = parseRegrtest(fixtureText('logs/3.13.0/hard-par.log'));
    const [target] = searchTargets(a, 'AMD64 Debian root 3.x');
    expect(target?.test).toBe('test_hard');
    expect(target?.method).toMatch(/^test_(error|handshake)$/);
    const queries = searchQueries(target!, 'python/cpython');
    expect(target?.klass).toBe('HardTests');
    expect(queries.map((q) => q.tier)).toEqual(['method', 'class', 'module', 'text']);
    expect(queries[0]?.q).toBe(`repo:python/cpython is:issue "${target?.method}"`);
    expect(queries[1]?.q).toBe('repo:python/cpython is:issue "test_hard" "HardTests" in:title');
    expect(queries[2]?.q).toBe('repo:python/cpython is:issue "test_hard" in:title');
    for (const q of queries) expect(q.q.length).toBeLessThanOrEqual(256);
    const long = searchQueries(
      {
        test: 'test_x',
        errorLine: `ValueError: ${Array.from({ length: 200 }, (_, i) => `word${'x'.repeat(i % 30)}`).join(' ')}`,
      },
      'python/cpython',
    );
    expect(long.at(-1)?.q.length).toBeLessThanOrEqual(256);
  });
});

describe('the likely culprit', () => {
  const c = (revision: string, comments: string) => ({
    revision,
    author: 'Jane Doe <jane@example.org>',
    comments,
  });

  it('names the one change every red builder has since its last green build', () => {
    const culprits = likelyCulprits([
      { builder: 'A', changes: [c('abc1234567', 'gh-12345: Fix the frobnicator'), c('0000000001', 'Docs')] },
      { builder: 'B', changes: [c('abc1234567', 'gh-12345: Fix the frobnicator'), c('0000000002', 'Tests')] },
      { builder: 'C', changes: undefined },
    ]);
    expect(culpritLines(culprits ?? [])).toEqual([
      'likely culprit: abc1234567 Jane Doe: gh-12345: Fix the frobnicator',
    ]);
  });

  it('names nothing for one builder, for no common change, or for more than three', () => {
    const four = ['1', '2', '3', '4'].map((r) => c(r.repeat(10), `change ${r}`));
    expect(likelyCulprits([{ builder: 'A', changes: four }])).toBeUndefined();
    expect(
      likelyCulprits([
        { builder: 'A', changes: four },
        { builder: 'B', changes: four },
      ]),
    ).toBeUndefined();
    expect(
      likelyCulprits([
        { builder: 'A', changes: four.slice(0, 1) },
        { builder: 'B', changes: four.slice(1) },
      ]),
    ).toBeUndefined();
    expect(
      likelyCulprits([
        { builder: 'A', changes: four },
        { builder: 'B', changes: four.slice(1, 3) },
      ])?.length,
    ).toBe(2);
  });
});
