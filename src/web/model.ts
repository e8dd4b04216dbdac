import { RESULT_NAMES, resultName } from '../buildbot/results.js';
import { patternMatches } from '../config/pattern.js';
import { formatDuration } from '../duration.js';
import type { TestOutcome } from '../logs/regrtest.js';

/** Words and colours shared by every page: Buildbot results and test outcomes. */

export const OUTCOMES: ReadonlyArray<{ key: TestOutcome; word: string; colour: string }> = [
  { key: 'flaky', word: 'flaky', colour: '#e69a1e' },
  { key: 'failed', word: 'failed', colour: '#d0342c' },
  { key: 'envChanged', word: 'env changed', colour: '#b5a300' },
  { key: 'crashed', word: 'crashed', colour: '#7a0c0c' },
  { key: 'timedOut', word: 'timed out', colour: '#8e44ad' },
  { key: 'leaked', word: 'leaked', colour: '#2e86c1' },
];

/** When several outcomes share a cell, the most serious one colours it. */
const SEVERITY: Record<TestOutcome, number> = {
  crashed: 6,
  timedOut: 5,
  failed: 4,
  leaked: 3,
  flaky: 2,
  envChanged: 1,
};

export function worst(a: TestOutcome | undefined, b: TestOutcome): TestOutcome {
  return a === undefined || SEVERITY[b] > SEVERITY[a] ? b : a;
}

export function outcomeWord(o: TestOutcome): string {
  return OUTCOMES.find((x) => x.key === o)?.word ?? o;
}

export function outcomeColour(o: TestOutcome): string {
  return OUTCOMES.find((x) => x.key === o)?.colour ?? '#888';
}

export function resultWord(results: number | null): string {
  return results === null ? 'unfinished' : resultName(results);
}

/** The CSS class of a build cell (`r2` is red, one per result Buildbot knows); `rn` for no result yet. */
export function resultClass(results: number | null): string {
  return results !== null && RESULT_NAMES[results] !== undefined ? `r${results}` : 'rn';
}

/** `2026-11-22 03:15 UTC` from epoch seconds. */
export function utc(epoch: number | null | undefined): string {
  if (epoch === null || epoch === undefined) return '?';
  return `${new Date(epoch * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `3 h ago` from epoch seconds. */
export function ago(epoch: number, nowMs: number): string {
  return `${formatDuration(Math.max(0, nowMs - epoch * 1000))} ago`;
}

/** A tracker issue as written by `!known` (gh-1234, bpo-1234, an http(s) URL) → a URL. */
export function issueUrl(issue: string): string | undefined {
  const gh = /^gh-(\d{1,7})$/i.exec(issue);
  if (gh) return `https://github.com/python/cpython/issues/${gh[1]}`;
  const bpo = /^bpo-(\d{1,7})$/i.exec(issue);
  if (bpo) return `https://bugs.python.org/issue${bpo[1]}`;
  return /^https?:\/\//i.test(issue) ? issue : undefined;
}

/** Whether a known issue's builder pattern (a case-insensitive regex, or none) covers `builder`. */
export function knownCovers(pattern: string | null, builder: string): boolean {
  if (pattern === null) return true;
  return patternMatches(pattern, builder);
}
