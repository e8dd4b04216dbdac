/**
 * Suggestion quality (issue 17): on a labelled set of real CPython buildbot failures
 * (bench/triage-set.ts), the issue bbwatch suggests against a naive watcher's search, in the same
 * run, both through the real @octokit/rest client against the local GitHub stand-in. The naive
 * search asks for the method name, then the test file, then the error text, and takes the top
 * three of the first search that finds anything; it says "no issue" only when none does.
 * Figures: right issue first and in the top three (failures that have an issue), "no existing
 * issue" said (failures whose issue is left out), and how often a "no existing issue" is wrong.
 */
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GitHubTracker } from '../src/tracker/github.js';
import { suggestFor } from '../src/tracker/suggestions.js';
import { normaliseErrorLine } from '../src/triage/reason.js';
import { errorWords } from '../src/triage/search.js';
import { type GitHubStandIn, startGitHubStandIn } from '../test/support/github/server.js';
import {
  DISTRACTORS,
  FAILURES,
  HELD_OUT_FAILURES,
  HELD_OUT_ISSUES,
  ISSUES,
  type LabelledFailure,
} from './triage-set.js';

const REPO = 'python/cpython';
const NOW = Date.parse('2026-12-04T12:00:00Z');
let hubs: GitHubStandIn[] = [];

function trackerOf(hub: GitHubStandIn): GitHubTracker {
  hub.limit = 100_000;
  return new GitHubTracker({
    apiUrl: hub.url,
    requests: 100_000,
    perMs: 60_000,
    timeoutMs: 10_000,
    cacheTtlMs: 0,
    log: pino({ level: 'silent' }),
    now: () => NOW,
  });
}

beforeAll(async () => {
  hubs = [
    await startGitHubStandIn(REPO, ISSUES),
    await startGitHubStandIn(REPO, [...ISSUES, ...DISTRACTORS]),
    await startGitHubStandIn(REPO, [...ISSUES, ...DISTRACTORS, ...HELD_OUT_ISSUES]),
  ];
});
afterAll(() => Promise.all(hubs.map((h) => h.close())));

/** The answer: up to three issue numbers, best first; empty is "no existing issue". */
async function ours(tracker: GitHubTracker, f: LabelledFailure): Promise<number[]> {
  const s = await suggestFor(
    tracker,
    { test: f.test, method: f.method, errorLine: normaliseErrorLine(f.error), builder: f.builder },
    REPO,
    NOW,
  );
  return s.candidates.map((c) => c.number);
}

async function naive(tracker: GitHubTracker, f: LabelledFailure): Promise<number[]> {
  const file = f.test.split('.').pop() as string;
  const words = errorWords(normaliseErrorLine(f.error)).slice(0, 4);
  for (const q of [`"${f.method}"`, `"${file}"`, words.join(' ')]) {
    if (!q.trim()) continue;
    const found = await tracker.search(`repo:${REPO} is:issue ${q}`);
    if (found.length > 0) return found.slice(0, 3).map((c) => c.number);
  }
  return [];
}

function score(answers: Array<{ f: LabelledFailure; got: number[] }>) {
  const having = answers.filter((a) => a.f.truth !== null);
  const none = answers.filter((a) => a.f.truth === null);
  const saidNone = answers.filter((a) => a.got.length === 0);
  const pct = (n: number, d: number) => (d === 0 ? 0 : Math.round((100 * n) / d));
  return {
    first: pct(having.filter((a) => a.got[0] === a.f.truth).length, having.length),
    top3: pct(having.filter((a) => a.got.includes(a.f.truth as number)).length, having.length),
    none: pct(none.filter((a) => a.got.length === 0).length, none.length),
    noneWrong: pct(saidNone.filter((a) => a.f.truth !== null).length, saidNone.length),
    having: having.length,
    without: none.length,
  };
}

it('suggests the right issue more often than a naive search, and says "no existing issue" when there is none', async () => {
  const row = (name: string, s: ReturnType<typeof score>) =>
    `  ${name.padEnd(14)} first ${String(s.first).padStart(3)}%  top-3 ${String(s.top3).padStart(3)}%  "no issue" said ${String(s.none).padStart(3)}%  "no issue" wrong ${String(s.noneWrong).padStart(3)}%`;
  const out: string[] = [];
  for (const [i, hub] of hubs.entries()) {
    const tracker = trackerOf(hub);
    const mine: Array<{ f: LabelledFailure; got: number[] }> = [];
    const theirs: Array<{ f: LabelledFailure; got: number[] }> = [];
    for (const f of i === 2 ? HELD_OUT_FAILURES : FAILURES) {
      mine.push({ f, got: await ours(tracker, f) });
      theirs.push({ f, got: await naive(tracker, f) });
    }
    const a = score(mine);
    const b = score(theirs);
    out.push(
      [
        `Tracker suggestions: ${a.having} failures with an issue, ${a.without} whose issue is not in the tracker; ${ISSUES.length} real CPython issues`,
        `The same with ${DISTRACTORS.length} synthetic distractors (tracking issues listing tests, a common method name in another file)`,
        `Held out (not used to tune the ranking): ${a.having} + ${a.without} failures, ${HELD_OUT_ISSUES.length} more real issues in the tracker`,
      ][i] as string,
      row('bbwatch', a),
      row('naive search', b),
      ...mine
        .filter((m) => (m.f.truth === null ? m.got.length > 0 : m.got[0] !== m.f.truth))
        .map(
          (m) =>
            `    miss: ${m.f.test}.${m.f.method} on ${m.f.builder}: truth ${m.f.truth ?? 'none'}, got [${m.got.join(', ')}]`,
        ),
    );
    // Ours must say "no existing issue" where the naive search offers a near miss (asserted on the
    // tuned sets only: the held-out figures are printed as they come).
    if (i < 2) {
      expect(a.none).toBeGreaterThan(b.none);
      expect(a.first).toBeGreaterThanOrEqual(80);
    }
  }
  out.push('targets: first >= 80%, top-3 >= 95%, "no issue" said >= 70%, "no issue" wrong <= 10%');
  console.log(out.join('\n'));
});
