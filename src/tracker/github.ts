import type { Octokit } from '@octokit/rest';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Candidate } from '../triage/search.js';
import { USER_AGENT } from '../version.js';
import { SearchBudget } from './budget.js';
import { TtlCache } from './cache.js';

export interface GitHubTrackerOptions {
  /** The REST API root (`https://api.github.com`; a GitHub Enterprise `/api/v3`, or a test stand-in). */
  apiUrl: string;
  token?: string | undefined;
  /** Search requests allowed in any window of `perMs` (GitHub: 30/min with a token, 10/min without). */
  requests: number;
  perMs: number;
  timeoutMs: number;
  cacheTtlMs: number;
  cacheSize?: number;
  /** After a failure (timeout, 5xx, no connection), no request for this long. */
  coolOffMs?: number;
  log: Logger;
  now?: () => number;
  /** Told of each search's fate, for the metrics (src/ops). */
  observe?: (event: TrackerEvent) => void;
}

/**
 * What became of a search: `sent` (a request went to GitHub), `cached` (answered from the cache
 * or by the same search already running), `rate_limited` (GitHub answered with a rate limit),
 * `skipped` (not sent: the budget was spent or searching was paused), `failed` (a timeout, a 5xx,
 * no connection, a refusal that is no limit), `refused_query` (a 422).
 */
export type TrackerEvent = 'sent' | 'cached' | 'rate_limited' | 'skipped' | 'failed' | 'refused_query';

/** Why a search gave no answer: the caller shows no suggestion and says nothing in chat. */
export class TrackerUnavailable extends Error {
  constructor(
    message: string,
    readonly retryAt: number,
  ) {
    super(message);
    this.name = 'TrackerUnavailable';
  }
}

/** What the search endpoint's answer holds for one issue (the parts bbwatch reads). */
interface SearchItem {
  number: number;
  title: string;
  state: string;
  updated_at: string;
  html_url: string;
  body?: string | null;
  pull_request?: unknown;
}

/** Headers of a response or of an error's response. */
type Headers = Record<string, string | number | undefined>;

const PER_PAGE = 20;
const BODY_CHARS = 4000;

/**
 * GitHub's issue search (`GET /search/issues`) through the real `@octokit/rest` client, inside a
 * budget of its own: answers are cached (an identical query within the TTL costs nothing), the
 * rate-limit headers are obeyed (`X-RateLimit-Remaining: 0` waits for `X-RateLimit-Reset`; a 403
 * or 429 secondary limit waits for `Retry-After`, 60 s without it), a 422 (a query GitHub will
 * not run) is answered "no candidates" and cached, and a failure (timeout, 5xx, no connection)
 * pauses the tracker for a minute. A search never queues: without a slot it fails at once, so a
 * caller waits at most one request's timeout.
 */
export class GitHubTracker {
  /** Loaded at the first search: the client costs ~9 MiB, and most bots never search. */
  private octokit: Promise<Octokit> | undefined;
  private readonly budget: SearchBudget;
  private readonly cache: TtlCache<Candidate[]>;
  private readonly inFlight = new Map<string, Promise<Candidate[]>>();
  private readonly now: () => number;

  constructor(private readonly opts: GitHubTrackerOptions) {
    this.now = opts.now ?? Date.now;
    this.budget = new SearchBudget(opts.requests, opts.perMs, this.now);
    this.cache = new TtlCache(opts.cacheSize ?? 500, opts.cacheTtlMs, this.now);
  }

  private client(): Promise<Octokit> {
    this.octokit ??= import('@octokit/rest').then(
      ({ Octokit }) =>
        new Octokit({
          baseUrl: this.opts.apiUrl.replace(/\/+$/, ''),
          userAgent: USER_AGENT,
          ...(this.opts.token ? { auth: this.opts.token } : {}),
          // Octokit's own console logging off: bbwatch logs what matters, with the token masked.
          log: {
            debug: () => undefined,
            info: () => undefined,
            warn: () => undefined,
            error: () => undefined,
          },
        }),
    );
    return this.octokit;
  }

  /** Whether a search would be sent now (not paused by a limit or a failure). */
  available(): boolean {
    return this.budget.pausedUntil() <= this.now();
  }

  /** The issues (not pull requests) matching `q`, as the search ranks them. */
  search(q: string): Promise<Candidate[]> {
    const hit = this.cache.get(q) ?? this.inFlight.get(q);
    if (hit) {
      this.opts.observe?.('cached');
      return Promise.resolve(hit);
    }
    const started = this.send(q).finally(() => this.inFlight.delete(q));
    this.inFlight.set(q, started);
    return started;
  }

  private async send(q: string): Promise<Candidate[]> {
    const refused = this.budget.tryTake();
    if (refused !== undefined) {
      this.opts.observe?.('skipped');
      throw new TrackerUnavailable('tracker search budget spent', refused);
    }
    this.opts.observe?.('sent');
    try {
      const octokit = await this.client();
      const res = await octokit.rest.search.issuesAndPullRequests({
        q,
        per_page: PER_PAGE,
        request: { signal: AbortSignal.timeout(this.opts.timeoutMs) },
      });
      this.obeyHeaders(res.headers as Headers);
      const found = (res.data.items as SearchItem[])
        .filter((i) => i.pull_request === undefined)
        .map(toCandidate);
      this.cache.set(q, found);
      return found;
    } catch (err) {
      const status = (err as { status?: number }).status;
      const headers = ((err as { response?: { headers?: Headers } }).response?.headers ?? {}) as Headers;
      if (status === 422) {
        // GitHub will not run this query (too long, bad qualifier): asking again changes nothing.
        this.opts.log.debug({ q, err: errorMessage(err) }, 'tracker refused the query');
        this.opts.observe?.('refused_query');
        this.cache.set(q, []);
        return [];
      }
      if (status === 403 || status === 429) {
        const until = this.limitUntil(status, headers, errorMessage(err));
        if (until !== undefined) {
          this.opts.observe?.('rate_limited');
          this.budget.pause(until);
          this.opts.log.warn(
            { status, until: new Date(until).toISOString() },
            'tracker rate limit: searches paused',
          );
          throw new TrackerUnavailable(`tracker rate limit until ${new Date(until).toISOString()}`, until);
        }
      }
      const until = this.now() + (this.opts.coolOffMs ?? 60_000);
      this.opts.observe?.('failed');
      this.budget.pause(until);
      this.opts.log.warn({ status, err: errorMessage(err) }, 'tracker search failed: searches paused');
      throw new TrackerUnavailable(`tracker search failed: ${errorMessage(err)}`, until);
    }
  }

  /** `X-RateLimit-Remaining: 0` on a successful answer: nothing more until the reset. */
  private obeyHeaders(headers: Headers): void {
    if (String(headers['x-ratelimit-remaining']) === '0') {
      const reset = Number(headers['x-ratelimit-reset']);
      if (Number.isFinite(reset) && reset > 0) this.budget.pause(reset * 1000 + 1000);
    }
  }

  /** When a 403/429 is a rate limit, until when; undefined when it is not one (a plain refusal). */
  private limitUntil(status: number, headers: Headers, message: string): number | undefined {
    const retryAfter = Number(headers['retry-after']);
    if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter))
      return this.now() + Math.max(1, retryAfter) * 1000;
    if (String(headers['x-ratelimit-remaining']) === '0') {
      const reset = Number(headers['x-ratelimit-reset']);
      return Number.isFinite(reset) && reset > 0 ? reset * 1000 + 1000 : this.now() + 60_000;
    }
    // A secondary limit without Retry-After: GitHub asks for at least a minute. A 403 that is no
    // limit at all (a token without access) is a failure, not a limit.
    if (status === 429 || /rate limit/i.test(message)) return this.now() + 60_000;
    return undefined;
  }
}

function toCandidate(i: SearchItem): Candidate {
  return {
    number: i.number,
    title: String(i.title ?? '').slice(0, 500),
    state: i.state === 'open' ? 'open' : 'closed',
    updatedAt: i.updated_at,
    url: i.html_url,
    body: (i.body ?? '').slice(0, BODY_CHARS),
  };
}
