/**
 * What `bbwatch doctor` asks the issue tracker, in GitHub's terms, through the same
 * `@octokit/rest` client the bot searches with: the rate limits (`GET /rate_limit`, which costs
 * nothing and says whether a token is accepted) and the repository (`GET /repos/{owner}/{repo}`).
 */
import { Octokit } from '@octokit/rest';
import { errorMessage } from '../errors.js';
import { USER_AGENT } from '../version.js';

export interface TrackerProbeOptions {
  apiUrl: string;
  token?: string | undefined;
  signal: AbortSignal;
}

/** One of GitHub's limits: requests per window, how many are left, and when the window resets. */
export interface Limit {
  limit: number;
  remaining: number;
  /** Epoch ms. */
  reset: number;
}

/** Why a request to the tracker failed, in the doctor's terms. */
export type ProbeFailure =
  | { kind: 'refused-token'; message: string }
  | { kind: 'not-found'; message: string }
  | { kind: 'forbidden'; message: string }
  | { kind: 'unreachable'; message: string };

export type ProbeResult<T> = { ok: true; value: T } | { ok: false; failure: ProbeFailure };

function client(opts: TrackerProbeOptions): Octokit {
  return new Octokit({
    baseUrl: opts.apiUrl.replace(/\/+$/, ''),
    userAgent: USER_AGENT,
    ...(opts.token ? { auth: opts.token } : {}),
    // Octokit's console logging off: the doctor prints what matters, secrets masked.
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

function failure(err: unknown): ProbeFailure {
  const status = (err as { status?: unknown }).status;
  // Octokit's message of an HTTP error is the server's JSON `message` (and the docs link): the first line.
  const message = (errorMessage(err).split('\n')[0] ?? '').replace(/ - https?:\/\/\S+$/, '');
  if (status === 401) return { kind: 'refused-token', message };
  if (status === 404) return { kind: 'not-found', message };
  if (status === 403) return { kind: 'forbidden', message };
  return {
    kind: 'unreachable',
    message: typeof status === 'number' && status >= 400 ? `HTTP ${status}: ${message}` : message,
  };
}

/** The search and core limits of whoever asks (the token's, or this address's without one). */
export async function rateLimits(
  opts: TrackerProbeOptions,
): Promise<ProbeResult<{ search: Limit; core: Limit }>> {
  try {
    const res = await client(opts).rest.rateLimit.get({ request: { signal: opts.signal } });
    const limit = (l: { limit: number; remaining: number; reset: number } | undefined): Limit => ({
      limit: Number(l?.limit ?? 0),
      remaining: Number(l?.remaining ?? 0),
      reset: Number(l?.reset ?? 0) * 1000,
    });
    return {
      ok: true,
      value: { search: limit(res.data.resources.search), core: limit(res.data.resources.core) },
    };
  } catch (err) {
    return { ok: false, failure: failure(err) };
  }
}

/** Whether the repository exists for whoever asks, and whether it takes issues. */
export async function repository(
  opts: TrackerProbeOptions & { repo: string },
): Promise<ProbeResult<{ fullName: string; private: boolean; hasIssues: boolean }>> {
  const [owner = '', repo = ''] = opts.repo.split('/');
  try {
    const res = await client(opts).rest.repos.get({ owner, repo, request: { signal: opts.signal } });
    return {
      ok: true,
      value: {
        fullName: String(res.data.full_name),
        private: res.data.private === true,
        hasIssues: res.data.has_issues !== false,
      },
    };
  } catch (err) {
    return { ok: false, failure: failure(err) };
  }
}
