/**
 * The doctor's checks of the issue tracker (a `tracker:` section): the API answers, the token (if
 * any) is accepted and what its search limit allows, and the repository issues are filed on
 * exists. GitHub's side lives in src/tracker/probe.ts; the token is never printed (the doctor
 * masks it wherever it would appear, see secrets.ts).
 */
import type { CheckOutcome } from '../chat/probe.js';
import { fail, ok, warn } from '../chat/probe.js';
import type { TrackerConfig } from '../config/schema.js';
import { type Limit, type ProbeFailure, rateLimits, repository } from '../tracker/probe.js';
import type { CheckRunner } from './runner.js';

export interface TrackerCheckContext {
  runner: CheckRunner;
  key(path: string): string;
  now?: () => number;
}

const SECTION = 'tracker';

export async function checkTracker(tracker: TrackerConfig, ctx: TrackerCheckContext): Promise<void> {
  const { runner, key } = ctx;
  const now = ctx.now ?? Date.now;
  const apiUrl = tracker.api_url;
  const timeoutMs = tracker.timeout + 2_000;
  const fixOnTimeout = `check ${key('tracker.api_url')} and that this machine reaches it (a proxy, a firewall)`;
  const searchBudget = tracker.budget?.requests ?? (tracker.token ? 25 : 9);

  // Without the token first: whether the API answers at all is another question than whether it takes the token.
  const reached = await runner.check(
    SECTION,
    `API answers at ${apiUrl}`,
    async (signal) => {
      const r = await rateLimits({ apiUrl, signal });
      if (!r.ok) return fail(r.failure.message, fixOnTimeout);
      return ok(tracker.token ? 'GitHub API' : `no token: ${limitText(r.value.search, now())}`);
    },
    { timeoutMs, fixOnTimeout },
  );
  if (reached.status === 'fail') {
    if (tracker.token) runner.skip(SECTION, 'token accepted', 'the API does not answer');
    runner.skip(SECTION, `repository ${tracker.repo} exists`, 'the API does not answer');
    return;
  }

  let tokenOk = true;
  if (tracker.token) {
    const token = tracker.token;
    const outcome = await runner.check(
      SECTION,
      'token accepted',
      async (signal): Promise<CheckOutcome> => {
        const r = await rateLimits({ apiUrl, token, signal });
        if (!r.ok) return tokenFailure(r.failure, key);
        const search = r.value.search;
        const text = `${limitText(search, now())}; core ${r.value.core.remaining} of ${r.value.core.limit} left`;
        if (search.remaining === 0)
          return warn(
            text,
            'the search limit is spent for now (another program with the same token?): suggestions wait for its reset',
          );
        if (search.limit > 0 && searchBudget > search.limit)
          return warn(
            text,
            `${key('tracker.budget')} allows ${searchBudget} searches a window, more than GitHub's ${search.limit} a minute: lower it`,
          );
        return ok(text);
      },
      { timeoutMs, fixOnTimeout },
    );
    tokenOk = outcome.status !== 'fail';
  }

  if (!tokenOk) {
    runner.skip(SECTION, `repository ${tracker.repo} exists`, 'the token was refused');
    return;
  }
  await runner.check(
    SECTION,
    `repository ${tracker.repo} exists`,
    async (signal) => {
      const r = await repository({ apiUrl, token: tracker.token, repo: tracker.repo, signal });
      if (!r.ok) {
        if (r.failure.kind === 'not-found')
          return fail(
            'not found',
            `check ${key('tracker.repo')} (owner/name); a private repository needs a ${key('tracker.token')} that can read it`,
          );
        return fail(r.failure.message, fixOnTimeout);
      }
      if (!r.value.hasIssues)
        return fail(
          'its issues are turned off',
          `point ${key('tracker.repo')} at the repository that takes issues`,
        );
      return ok(`${r.value.private ? 'private' : 'public'}, issues on`);
    },
    { timeoutMs, fixOnTimeout },
  );
}

function tokenFailure(f: ProbeFailure, key: (path: string) => string): CheckOutcome {
  if (f.kind === 'refused-token')
    return fail(
      `refused: ${f.message}`,
      `set ${key('tracker.token')} to a valid token (a fine-grained token without permissions reads public repositories), or remove it (10 searches a minute without)`,
    );
  return fail(f.message, `check ${key('tracker.api_url')} and ${key('tracker.token')}`);
}

/** `search 28 of 30 a minute left` (and when it resets, once spent). */
function limitText(l: Limit, now: number): string {
  const reset =
    l.remaining === 0 && l.reset > now ? `, resets in ${Math.ceil((l.reset - now) / 1000)} s` : '';
  return `search ${l.remaining} of ${l.limit} a minute left${reset}`;
}
