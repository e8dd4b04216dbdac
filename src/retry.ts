import pRetry from 'p-retry';

/**
 * The one back-off of the bot: every retry, reconnect and login waits `backoffDelay`, and a call
 * that is simply tried again until it works goes through `retry` (p-retry).
 */

/**
 * How long to wait before retry `attempt` (0 for the first): doubling from `minMs` up to `maxMs`,
 * with "equal jitter" (half fixed, half random) so that bots which lost the same server do not
 * all come back in the same second.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface RetryOptions {
  /** The first wait; it doubles (with jitter, see backoffDelay) up to `maxMs`. */
  minMs: number;
  maxMs: number;
  /** Retries after the first attempt (default: until it works or `signal` aborts). */
  retries?: number;
  /** Stops waiting and trying: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Whether this error is worth another try (default: every error). */
  shouldRetry?: (err: unknown) => boolean;
  /** Told before each wait: the error, the attempt that failed (1 for the first), the wait. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Calls `fn` until it resolves, waiting backoffDelay between attempts; rejects with the last error. */
export function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  return pRetry(fn, {
    retries: opts.retries ?? Number.POSITIVE_INFINITY,
    // p-retry counts and stops; the wait is ours (onFailedAttempt), so that it has the bot's jitter
    // and the caller can say when the next try is.
    minTimeout: 0,
    maxTimeout: 0,
    randomize: false,
    ...(opts.signal ? { signal: opts.signal } : {}),
    shouldRetry: ({ error }) => opts.shouldRetry?.(error) ?? true,
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (retriesLeft === 0 || !(opts.shouldRetry?.(error) ?? true)) return;
      const delay = backoffDelay(attemptNumber - 1, opts.minMs, opts.maxMs);
      opts.onRetry?.(error, attemptNumber, delay);
      await sleep(delay, opts.signal);
    },
  });
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
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
