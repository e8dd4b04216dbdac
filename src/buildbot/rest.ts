import type { Logger } from 'pino';
import { HttpError, MasterError } from '../errors.js';
import { backoffDelay, sleep } from '../retry.js';
import { USER_AGENT } from '../version.js';
import type { RequestBudget } from './budget.js';
import type { z } from 'zod';
import { isPrefixedRaw, RawPrefixStripper } from './raw-prefix.js';
import { Results } from './results.js';
import {
  buildSchema,
  builderSchema,
  changeSchema,
  firstProblem,
  logChunkSchema,
  logSchema,
  stepSchema,
  workerSchema,
} from './schemas.js';
import { BuildbotSession, ReadRefusedError, SessionError } from './session.js';
import type { BuildbotBuild, BuildbotBuilder, BuildbotLog, BuildbotStep, BuildbotWorker } from './types.js';

export type Query = Record<string, string | number | boolean | ReadonlyArray<string | number>>;

export interface RestOptions {
  /** The master's base URL, ending in `/` (the `buildbotURL`, e.g. https://buildbot.python.org/all/). */
  baseUrl: string;
  budget: RequestBudget;
  timeoutMs: number;
  log: Logger;
  maxAttempts?: number;
  /** First retry delay; doubles each time, with jitter, up to 30 s. */
  backoffMs?: number;
  /** The bot's session with this master (default: anonymous); sent with every request. */
  session?: BuildbotSession;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);
const MAX_BACKOFF_MS = 30_000;

/** Buildbot's REST API (data API v2): budgeted, timed out, retried with backoff, in the bot's session. */
export class BuildbotRest {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  /** The master's one session, for the event streams and control of the same master. */
  readonly session: BuildbotSession;

  constructor(private readonly opts: RestOptions) {
    this.maxAttempts = opts.maxAttempts ?? 4;
    this.backoffMs = opts.backoffMs ?? 500;
    this.session =
      opts.session ??
      new BuildbotSession({
        baseUrl: opts.baseUrl,
        auth: undefined,
        budget: opts.budget,
        timeoutMs: opts.timeoutMs,
        log: opts.log,
        masterName: URL.canParse(opts.baseUrl) ? new URL(opts.baseUrl).host : opts.baseUrl,
      });
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  /** The master's one request budget, for other clients of the same master (control). */
  get budget(): RequestBudget {
    return this.opts.budget;
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(`api/v2/${path.replace(/^\/+/, '')}`, this.opts.baseUrl);
    for (const [key, value] of Object.entries(query)) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) url.searchParams.append(key, String(v));
    }
    return url.toString();
  }

  /**
   * GETs a collection and returns its list, checking the answer is Buildbot's envelope and each
   * item has the fields the bot reads, with their types: anything else is a MasterError that says
   * what was wrong, never a crash further on.
   */
  private async list<T>(
    path: string,
    key: string,
    schema: z.ZodType<T>,
    query: Query = {},
    signal?: AbortSignal,
  ): Promise<T[]> {
    const url = this.url(path, query);
    const body = await this.getJson(url, signal);
    const items = (body as Record<string, unknown> | null)?.[key];
    if (!Array.isArray(items)) {
      throw new MasterError(`${url} did not answer with Buildbot's API (no "${key}" list in the reply)`);
    }
    return items.map((item: unknown, i) => {
      const parsed = schema.safeParse(item);
      if (!parsed.success) {
        throw new MasterError(
          `${url} answered with a "${key}" list the bot cannot read (${firstProblem(parsed.error, i)})`,
        );
      }
      return parsed.data;
    });
  }

  builders(signal?: AbortSignal): Promise<BuildbotBuilder[]> {
    return this.list('builders', 'builders', builderSchema, {}, signal);
  }

  /** The master's workers, with the masters they are connected to and the builders they serve. */
  workers(signal?: AbortSignal): Promise<BuildbotWorker[]> {
    return this.list('workers', 'workers', workerSchema, {}, signal);
  }

  /** A builder's build by number, or undefined when the master has no such build. */
  async build(builderid: number, number: number, signal?: AbortSignal): Promise<BuildbotBuild | undefined> {
    const [build] = await this.list(
      `builders/${builderid}/builds/${number}`,
      'builds',
      buildSchema,
      {},
      signal,
    );
    return build;
  }

  /** A builder's running builds (only build `number`, when given). */
  runningBuilds(builderid: number, number?: number, signal?: AbortSignal): Promise<BuildbotBuild[]> {
    return this.list(
      `builders/${builderid}/builds`,
      'builds',
      buildSchema,
      { complete: 'false', ...(number !== undefined ? { number } : {}) },
      signal,
    );
  }

  /** The builds a build request started (none while it waits for a worker). */
  /** One build by its id, with the named properties (`?property=a&property=b`). */
  async buildWithProperties(
    buildid: number,
    properties: readonly string[],
    signal?: AbortSignal,
  ): Promise<BuildbotBuild | undefined> {
    const [build] = await this.list(
      `builds/${buildid}`,
      'builds',
      buildSchema,
      { property: [...properties] },
      signal,
    );
    return build;
  }

  buildsOfRequest(brid: number, signal?: AbortSignal): Promise<BuildbotBuild[]> {
    return this.list(`buildrequests/${brid}/builds`, 'builds', buildSchema, {}, signal);
  }

  /**
   * Orange, red and purple builds that completed at or after `sinceEpoch`, oldest first: what has
   * test logs to read, or a failure to classify.
   */
  failedBuildsSince(sinceEpoch: number, limit: number, offset = 0, signal?: AbortSignal) {
    return this.list(
      'builds',
      'builds',
      buildSchema,
      {
        complete: 'true',
        complete_at__ge: sinceEpoch,
        results: [Results.WARNINGS, Results.FAILURE, Results.EXCEPTION],
        order: ['complete_at', 'buildid'],
        limit,
        offset,
      },
      signal,
    );
  }

  /** A build's step by name (or number), or undefined when it has none. */
  async buildStep(buildid: number, step: string, signal?: AbortSignal): Promise<BuildbotStep | undefined> {
    const [found] = await this.list(
      `builds/${buildid}/steps/${encodeURIComponent(step)}`,
      'steps',
      stepSchema,
      {},
      signal,
    );
    return found;
  }

  /** A step's log by slug, or undefined when it has none. */
  async stepLog(stepid: number, slug: string, signal?: AbortSignal): Promise<BuildbotLog | undefined> {
    const [found] = await this.list(
      `steps/${stepid}/logs/${encodeURIComponent(slug)}`,
      'logs',
      logSchema,
      {},
      signal,
    );
    return found;
  }

  /** Where a log's raw text can be downloaded (what `streamRaw` reads). */
  rawLogUrl(logid: number): string {
    return this.url(`logs/${logid}/raw`);
  }

  /** Finished builds that completed at or after `sinceEpoch`, oldest first. */
  finishedBuildsSince(sinceEpoch: number, limit: number, offset = 0, signal?: AbortSignal) {
    return this.list(
      'builds',
      'builds',
      buildSchema,
      { complete: 'true', complete_at__ge: sinceEpoch, order: ['complete_at', 'buildid'], limit, offset },
      signal,
    );
  }

  /** The most recent finished builds on the whole master, newest first. */
  recentFinishedBuilds(limit: number, signal?: AbortSignal) {
    return this.list('builds', 'builds', buildSchema, { complete: 'true', order: '-buildid', limit }, signal);
  }

  /** A builder's most recent finished builds, newest first. */
  builderHistory(builderid: number, limit: number, signal?: AbortSignal) {
    return this.list(
      `builders/${builderid}/builds`,
      'builds',
      buildSchema,
      { complete: 'true', order: '-number', limit },
      signal,
    );
  }

  buildChanges(buildid: number, signal?: AbortSignal) {
    return this.list(`builds/${buildid}/changes`, 'changes', changeSchema, {}, signal);
  }

  /** A build's steps, in order. */
  buildSteps(buildid: number, signal?: AbortSignal) {
    return this.list(`builds/${buildid}/steps`, 'steps', stepSchema, { order: 'number' }, signal);
  }

  /** A step's logs (stdio, and what the step added: warnings, err.text, ...). */
  stepLogs(stepid: number, signal?: AbortSignal) {
    return this.list(`steps/${stepid}/logs`, 'logs', logSchema, {}, signal);
  }

  /** Counts requests and bytes, when a caller wants to know what an operation cost. */
  stats: RequestStats | undefined;

  /** A Buildbot log's lines (with stream tags for stdio logs), `limit` lines from `offset`. */
  async logLines(logid: number, offset: number, limit: number, signal?: AbortSignal): Promise<string[]> {
    const chunks = await this.list(
      `logs/${logid}/contents`,
      'logchunks',
      logChunkSchema,
      { offset, limit },
      signal,
    );
    const lines: string[] = [];
    for (const chunk of chunks) {
      const text = chunk.content.endsWith('\n') ? chunk.content.slice(0, -1) : chunk.content;
      if (text !== '' || chunk.content !== '') lines.push(...text.split('\n'));
    }
    return lines;
  }

  /**
   * Streams a log's raw text (stream tags stripped by the master) to `onChunk` without holding it:
   * exactly the log's lines, without the metadata lines Buildbot 4.x puts in front of a stdio log.
   * Retried only before the first byte arrives: a stream cut midway fails rather than repeat lines.
   */
  async streamRaw(logid: number, onChunk: (chunk: Uint8Array) => void, signal?: AbortSignal): Promise<void> {
    const url = this.rawLogUrl(logid);
    await this.request(url, signal, 'text/plain', async (res, idle) => {
      if (!res.body) return;
      const strip = new RawPrefixStripper(onChunk, isPrefixedRaw(res.headers.get('content-disposition')));
      for await (const chunk of res.body) {
        idle();
        if (this.stats) this.stats.bytes += chunk.byteLength;
        strip.push(chunk);
      }
      strip.end();
    });
  }

  private async getJson(url: string, signal?: AbortSignal): Promise<unknown> {
    return this.request(url, signal, 'application/json', async (res) => {
      const text = await res.text();
      if (this.stats) this.stats.bytes += Buffer.byteLength(text);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new MasterError(`${url} answered with something that is not JSON (${describeBody(text)})`);
      }
    });
  }

  /**
   * One GET, within the budget, with a timeout that restarts whenever data arrives (`idle()`), and
   * retries with back-off for network errors, timeouts, 429 (after Retry-After) and 5xx.
   * A loop of its own rather than `retry` (src/retry.ts): a refused read logs in and tries again
   * without counting an attempt, a 429 waits what the master asks instead of the back-off, and a
   * body cut after its first byte is not retried; the wait is the shared backoffDelay.
   */
  private async request<T>(
    url: string,
    signal: AbortSignal | undefined,
    accept: string,
    read: (res: Response, idle: () => void) => Promise<T>,
  ): Promise<T> {
    let lastError: Error = new MasterError(`no attempt made for ${url}`);
    // Anonymous (or the session the bot has) until the master refuses: then log in, once.
    let login = false;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      signal?.throwIfAborted();
      let retryAfterMs: number | undefined;
      const timeout = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const idle = () => {
        clearTimeout(timer);
        timer = setTimeout(() => timeout.abort(timeoutError()), this.opts.timeoutMs);
      };
      let reading = false;
      try {
        // A refused login is final; a login that cannot reach the master is retried like a request.
        const cookie = login ? await this.session.header() : this.session.current();
        await this.opts.budget.take();
        if (this.stats) this.stats.requests++;
        idle();
        const res = await fetch(url, {
          headers: { 'User-Agent': USER_AGENT, Accept: accept, ...(cookie ? { Cookie: cookie } : {}) },
          signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
        });
        if (res.ok) {
          reading = true;
          return await read(res, idle);
        }
        const text = await res.text();
        if (res.status === 401 || res.status === 403) {
          // No session yet, or an expired one: with a user configured, log in (again) and retry once.
          if (!login && this.session.renew(cookie)) {
            login = true;
            attempt--;
            continue;
          }
          throw new ReadRefusedError(
            res.status,
            url,
            errorDetail(text),
            this.session.refusal(res.status, `GET ${new URL(url).pathname}`, errorDetail(text)),
          );
        }
        const error = new HttpError(res.status, url, errorDetail(text));
        if (!RETRYABLE.has(res.status)) throw error;
        lastError = error;
        if (res.status === 429) {
          retryAfterMs = parseRetryAfter(res.headers.get('retry-after')) ?? 10_000;
          this.opts.budget.pause(retryAfterMs);
        }
      } catch (err) {
        if (err instanceof HttpError || err instanceof MasterError || err instanceof SessionError) throw err;
        if (signal?.aborted) throw err;
        const timedOut = (err as Error).name === 'TimeoutError';
        lastError = new MasterError(
          timedOut
            ? `${url} did not answer within ${this.opts.timeoutMs} ms`
            : `${url} could not be reached: ${causeMessage(err)}`,
          { cause: err },
        );
        if (reading) throw lastError;
      } finally {
        clearTimeout(timer);
      }
      if (attempt < this.maxAttempts) {
        const delay = retryAfterMs ?? backoffDelay(attempt - 1, this.backoffMs, MAX_BACKOFF_MS);
        // Debug: a master that stays away is reported once per change of state, not per request.
        this.opts.log.debug(
          { url, attempt, delayMs: delay, err: lastError.message },
          'request failed, retrying',
        );
        await sleep(delay, signal);
      }
    }
    throw lastError;
  }
}

function timeoutError(): Error {
  const err = new Error('timed out');
  err.name = 'TimeoutError';
  return err;
}

/** What an operation cost the master. */
export interface RequestStats {
  requests: number;
  bytes: number;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function errorDetail(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error.slice(0, 200);
  } catch {
    // not JSON: fall through to a short description
  }
  return describeBody(text);
}

function describeBody(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  if (oneLine === '') return 'an empty body';
  return `"${oneLine.slice(0, 80)}${oneLine.length > 80 ? '…' : ''}"`;
}

function causeMessage(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
