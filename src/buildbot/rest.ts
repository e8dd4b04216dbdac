import type { Logger } from 'pino';
import { HttpError, MasterError } from '../errors.js';
import { USER_AGENT } from '../version.js';
import type { RequestBudget } from './budget.js';
import type { BuildbotBuild, BuildbotBuilder, BuildbotChange } from './types.js';

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
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Buildbot's REST API (data API v2): budgeted, timed out, retried with backoff. */
export class BuildbotRest {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(private readonly opts: RestOptions) {
    this.maxAttempts = opts.maxAttempts ?? 4;
    this.backoffMs = opts.backoffMs ?? 500;
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(`api/v2/${path.replace(/^\/+/, '')}`, this.opts.baseUrl);
    for (const [key, value] of Object.entries(query)) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) url.searchParams.append(key, String(v));
    }
    return url.toString();
  }

  /** GETs a collection and returns its list, checking the answer is Buildbot's envelope. */
  async list<T>(path: string, key: string, query: Query = {}, signal?: AbortSignal): Promise<T[]> {
    const url = this.url(path, query);
    const body = await this.getJson(url, signal);
    const items = (body as Record<string, unknown> | null)?.[key];
    if (!Array.isArray(items)) {
      throw new MasterError(`${url} did not answer with Buildbot's API (no "${key}" list in the reply)`);
    }
    return items as T[];
  }

  builders(signal?: AbortSignal): Promise<BuildbotBuilder[]> {
    return this.list<BuildbotBuilder>('builders', 'builders', {}, signal);
  }

  /** Finished builds that completed at or after `sinceEpoch`, oldest first. */
  finishedBuildsSince(sinceEpoch: number, limit: number, offset = 0, signal?: AbortSignal) {
    return this.list<BuildbotBuild>(
      'builds',
      'builds',
      { complete: 'true', complete_at__ge: sinceEpoch, order: ['complete_at', 'buildid'], limit, offset },
      signal,
    );
  }

  /** The most recent finished builds on the whole master, newest first. */
  recentFinishedBuilds(limit: number, signal?: AbortSignal) {
    return this.list<BuildbotBuild>(
      'builds',
      'builds',
      { complete: 'true', order: '-buildid', limit },
      signal,
    );
  }

  /** A builder's most recent finished builds, newest first. */
  builderHistory(builderid: number, limit: number, signal?: AbortSignal) {
    return this.list<BuildbotBuild>(
      `builders/${builderid}/builds`,
      'builds',
      { complete: 'true', order: '-number', limit },
      signal,
    );
  }

  buildChanges(buildid: number, signal?: AbortSignal) {
    return this.list<BuildbotChange>(`builds/${buildid}/changes`, 'changes', {}, signal);
  }

  private async getJson(url: string, signal?: AbortSignal): Promise<unknown> {
    let lastError: Error = new MasterError(`no attempt made for ${url}`);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      signal?.throwIfAborted();
      await this.opts.budget.take();
      let retryAfterMs: number | undefined;
      try {
        const res = await fetch(url, {
          headers: { 'User-Agent': USER_AGENT, Accept: 'application/json' },
          signal: signal
            ? AbortSignal.any([signal, AbortSignal.timeout(this.opts.timeoutMs)])
            : AbortSignal.timeout(this.opts.timeoutMs),
        });
        const text = await res.text();
        if (res.ok) {
          try {
            return JSON.parse(text);
          } catch {
            throw new MasterError(`${url} answered with something that is not JSON (${describeBody(text)})`);
          }
        }
        const error = new HttpError(res.status, url, errorDetail(text));
        if (!RETRYABLE.has(res.status)) throw error;
        lastError = error;
        if (res.status === 429) {
          retryAfterMs = parseRetryAfter(res.headers.get('retry-after')) ?? 10_000;
          this.opts.budget.pause(retryAfterMs);
        }
      } catch (err) {
        if (err instanceof HttpError || err instanceof MasterError) throw err;
        if (signal?.aborted) throw err;
        const timedOut = (err as Error).name === 'TimeoutError';
        lastError = new MasterError(
          timedOut
            ? `${url} did not answer within ${this.opts.timeoutMs} ms`
            : `${url} could not be reached: ${causeMessage(err)}`,
          { cause: err },
        );
      }
      if (attempt < this.maxAttempts) {
        const delay = retryAfterMs ?? backoff(this.backoffMs, attempt);
        this.opts.log.warn(
          { url, attempt, delayMs: delay, err: lastError.message },
          'request failed, retrying',
        );
        await sleep(delay, signal);
      }
    }
    throw lastError;
  }
}

export function backoff(baseMs: number, attempt: number, capMs = 30_000): number {
  const exp = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
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
