import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bus.js';
import { Ops } from '../../src/ops/ops.js';
import { GitHubTracker, TrackerUnavailable } from '../../src/tracker/github.js';
import { suggestFor } from '../../src/tracker/suggestions.js';
import { silentLog } from '../support/fleet.js';
import { type GitHubStandIn, startGitHubStandIn } from '../support/github/server.js';
import { parsePrometheus, sampleValue } from '../support/prometheus.js';

const REPO = 'python/cpython';
const DAY = 86_400_000;
// The stand-in's rate-limit reset is in real time: the test's clock starts there.
const NOW = Date.now();
const ago = (days: number) => new Date(NOW - days * DAY).toISOString();

// Real titles of CPython issues about buildbot failures (and a pull request, which must not come back).
const ISSUES = [
  {
    number: 109_981,
    title: 'test_posix: TestPosixSpawn.test_setsigdef fails on PPC64LE Fedora',
    state: 'open' as const,
    updated_at: ago(3),
  },
  {
    number: 104_011,
    title: 'test_posix: test_sched_setaffinity fails on FreeBSD',
    state: 'closed' as const,
    updated_at: ago(400),
  },
  {
    number: 117_222,
    title: 'test_ssl: test_tls1_3 fails randomly on AMD64 Windows11',
    state: 'open' as const,
    updated_at: ago(30),
    body: 'ConnectionResetError: [WinError 10054]',
  },
  {
    number: 120_000,
    title: 'gh-117222: skip test_tls1_3 on Windows',
    state: 'closed' as const,
    updated_at: ago(20),
    pull_request: true,
  },
];

let hub: GitHubStandIn;
let clock = NOW;

function tracker(extra: Partial<ConstructorParameters<typeof GitHubTracker>[0]> = {}) {
  return new GitHubTracker({
    apiUrl: hub.url,
    token: 'ghp_test_token',
    requests: 30,
    perMs: 60_000,
    timeoutMs: 2_000,
    cacheTtlMs: 600_000,
    log: silentLog,
    now: () => clock,
    ...extra,
  });
}

beforeAll(async () => {
  hub = await startGitHubStandIn(REPO, ISSUES);
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.requests.length = 0;
  hub.mode = 'ok';
  hub.limit = 30;
  hub.resetWindow();
  clock = NOW;
});

describe('the GitHub tracker through @octokit/rest', () => {
  it('searches issues (not pull requests) with its token, and answers a repeated query from its cache', async () => {
    const t = tracker();
    const q = `repo:${REPO} is:issue "test_tls1_3"`;
    const found = await t.search(q);
    expect(found.map((c) => c.number)).toEqual([117_222]);
    expect(found[0]?.state).toBe('open');
    expect(await t.search(q)).toEqual(found);
    expect(hub.requests).toEqual([{ q, authorized: true }]);
  });

  it('suggests the issue naming the failing method, and stops at the first search that finds it', async () => {
    const s = await suggestFor(
      tracker(),
      { test: 'test_posix', method: 'test_setsigdef', builder: 'PPC64LE Fedora Stable 3.x' },
      REPO,
      NOW,
    );
    expect(s.state).toBe('found');
    expect(s.candidates.map((c) => c.number)).toEqual([109_981]);
    expect(hub.requests.map((r) => r.q)).toEqual([`repo:${REPO} is:issue "test_setsigdef"`]);
  });

  it('says "no existing issue" when the only candidates are about other tests of the same file', async () => {
    const s = await suggestFor(
      tracker(),
      {
        test: 'test_posix',
        method: 'test_fexecve',
        errorLine: 'OSError: [Errno <n>] Bad file descriptor',
        builder: 'AMD64 FreeBSD14 3.x',
      },
      REPO,
      NOW,
    );
    expect(s).toEqual({ test: 'test_posix', state: 'none', candidates: [] });
    // Method, then file, then the error's words: the watchers' order.
    expect(hub.requests.map((r) => r.q)).toEqual([
      `repo:${REPO} is:issue "test_fexecve"`,
      `repo:${REPO} is:issue "test_posix" in:title`,
      `repo:${REPO} is:issue "test_posix" descriptor OSError file`,
    ]);
  });

  it('stops asking once X-RateLimit-Remaining is 0, until X-RateLimit-Reset', async () => {
    hub.limit = 2;
    const t = tracker();
    await t.search(`repo:${REPO} is:issue "a1"`);
    await t.search(`repo:${REPO} is:issue "a2"`);
    // The second answer said "0 remaining": the third is not even sent.
    await expect(t.search(`repo:${REPO} is:issue "a3"`)).rejects.toBeInstanceOf(TrackerUnavailable);
    expect(hub.requests).toHaveLength(2);
    expect(t.available()).toBe(false);
    // Another process spent the limit: this one hears it from the 403 and stops too.
    const other = tracker();
    await expect(other.search(`repo:${REPO} is:issue "a4"`)).rejects.toBeInstanceOf(TrackerUnavailable);
    await expect(other.search(`repo:${REPO} is:issue "a5"`)).rejects.toBeInstanceOf(TrackerUnavailable);
    expect(hub.requests).toHaveLength(3);
    // After the reset (the stand-in's window is 60 s), searches go out again.
    hub.resetWindow();
    clock = NOW + 62_000;
    expect(await other.search(`repo:${REPO} is:issue "test_tls1_3"`)).toHaveLength(1);
  });

  it('waits out a 403 secondary limit for its Retry-After, then searches again', async () => {
    hub.mode = 'secondary';
    hub.retryAfter = 45;
    const t = tracker();
    const s = await suggestFor(t, { test: 'test_ssl', method: 'test_tls1_3' }, REPO, NOW);
    expect(s.state).toBe('unavailable');
    hub.mode = 'ok';
    clock = NOW + 44_000;
    await expect(t.search(`repo:${REPO} is:issue "test_tls1_3"`)).rejects.toBeInstanceOf(TrackerUnavailable);
    expect(hub.requests).toHaveLength(1);
    clock = NOW + 46_000;
    expect((await t.search(`repo:${REPO} is:issue "test_tls1_3"`)).map((c) => c.number)).toEqual([117_222]);
    expect(hub.requests).toHaveLength(2);
  });

  it('takes a 422 as "no candidates" and does not ask the same again', async () => {
    const t = tracker();
    const q = `repo:${REPO} is:issue ${'word '.repeat(60)}`;
    expect(await t.search(q)).toEqual([]);
    expect(await t.search(q)).toEqual([]);
    expect(hub.requests).toHaveLength(1);
    // A query without is:issue is refused too (GitHub's rule since 2025).
    expect(await t.search(`repo:${REPO} "test_tls1_3"`)).toEqual([]);
  });

  it('is unavailable, not an error, when GitHub is down or does not answer, and pauses', async () => {
    hub.mode = 'down';
    const t = tracker();
    const down = await suggestFor(t, { test: 'test_ssl', method: 'test_tls1_3' }, REPO, NOW);
    expect(down.state).toBe('unavailable');
    expect(hub.requests).toHaveLength(1);
    hub.mode = 'hang';
    clock = NOW + 61_000;
    const silent = await suggestFor(
      tracker({ timeoutMs: 300 }),
      { test: 'test_ssl', method: 'test_x' },
      REPO,
      NOW,
    );
    expect(silent.state).toBe('unavailable');
  });

  it('spends at most its budget and refuses the rest without asking', async () => {
    const t = tracker({ requests: 2 });
    await t.search(`repo:${REPO} is:issue "b1"`);
    await t.search(`repo:${REPO} is:issue "b2"`);
    await expect(t.search(`repo:${REPO} is:issue "b3"`)).rejects.toBeInstanceOf(TrackerUnavailable);
    expect(hub.requests).toHaveLength(2);
    clock = NOW + 60_001;
    await t.search(`repo:${REPO} is:issue "b3"`);
    expect(hub.requests).toHaveLength(3);
  });
});

describe('tracker metrics', () => {
  /** The operations endpoint of a bot with no master and no adapter: only what the tracker adds. */
  const bareOps = () =>
    new Ops({ bus: new Bus(), masters: [], adapters: [], outboxPending: () => 0, analysisPending: () => 0 });

  it('counts searches sent, cache hits, rate limits, budget skips and errors in /metrics', async () => {
    const ops = bareOps();
    const t = tracker({ requests: 4, observe: ops.trackerObserver() });
    const q = `repo:${REPO} is:issue "test_tls1_3"`;
    await t.search(q); // sent
    await t.search(q); // cached
    await t.search(`repo:${REPO} is:issue ${'word '.repeat(60)}`); // sent, a 422
    hub.mode = 'secondary';
    await expect(t.search(`repo:${REPO} is:issue "c1"`)).rejects.toBeInstanceOf(TrackerUnavailable); // sent, limited
    await expect(t.search(`repo:${REPO} is:issue "c2"`)).rejects.toBeInstanceOf(TrackerUnavailable); // skipped
    hub.mode = 'down';
    clock = NOW + 120_000;
    await expect(t.search(`repo:${REPO} is:issue "c3"`)).rejects.toBeInstanceOf(TrackerUnavailable); // sent, failed
    expect(hub.requests).toHaveLength(4);
    const m = parsePrometheus(await ops.registry.render());
    expect(sampleValue(m, 'bbwatch_tracker_searches_total')).toBe(4);
    expect(sampleValue(m, 'bbwatch_tracker_cache_hits_total')).toBe(1);
    expect(sampleValue(m, 'bbwatch_tracker_rate_limited_total')).toBe(1);
    expect(sampleValue(m, 'bbwatch_tracker_budget_skipped_total')).toBe(1);
    expect(sampleValue(m, 'bbwatch_tracker_errors_total', { kind: 'failure' })).toBe(1);
    expect(sampleValue(m, 'bbwatch_tracker_errors_total', { kind: 'query_refused' })).toBe(1);
  });

  it('are not exported by a bot without a tracker', async () => {
    const ops = bareOps();
    const m = parsePrometheus(await ops.registry.render());
    expect([...m.keys()].filter((k) => k.startsWith('bbwatch_tracker_'))).toEqual([]);
  });
});
