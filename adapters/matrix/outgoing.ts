/**
 * Sending events: one at a time (so a room sees them in the order they were given), with a
 * transaction id derived from the message, so that a retry — by this queue after a 429, by the
 * core's outbox after an outage, or after a restart — is recognised by the homeserver as the same
 * event and never posted twice. M_LIMIT_EXCEEDED is honoured: nothing is sent before the
 * homeserver's Retry-After / retry_after_ms has passed.
 */
import { createHash } from 'node:crypto';
import { MatrixError, safeGetRetryAfterMs } from 'matrix-js-sdk';
import type { AdapterServices } from '../../src/chat/adapter.js';
import type { Message } from '../../src/chat/render-kit.js';

/** PUT /rooms/{roomId}/send/m.room.message/{txnId}; resolves with the event id. */
export type PutEvent = (roomId: string, txnId: string, content: Record<string, unknown>) => Promise<string>;

type Content = Record<string, unknown>;

/** One event of a series: its content, or how to make it when its turn comes (after an upload, say). */
export interface QueuedEvent {
  txnId: string;
  content: Content | (() => Promise<Content>);
}

export interface OutgoingOptions {
  /** Consecutive 429 answers to one event before send() gives up (the outbox tries again later). */
  maxRateLimited?: number;
  /** Longest rate-limit wait to sit out inside send(); a longer one rejects at once. */
  maxWaitMs?: number;
}

/**
 * The same message to the same room (and as the answer to the same event) always gets the same
 * transaction id: the outbox keeps the composed message, so a resend after a crash matches too.
 */
export function transactionId(roomId: string, message: Message, replyTo?: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([roomId, replyTo ?? null, message]))
    .digest('base64url');
  return `bbwatch.${digest.slice(0, 32)}`;
}

export class OutgoingQueue {
  private tail: Promise<unknown> = Promise.resolve();
  /** The homeserver asked us not to send before this time (ms since the epoch). */
  private notBefore = 0;
  private closed = false;
  private readonly waits = new Set<() => void>();
  private readonly maxRateLimited: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly put: PutEvent,
    private readonly log: AdapterServices['log'],
    opts: OutgoingOptions = {},
  ) {
    this.maxRateLimited = opts.maxRateLimited ?? 8;
    this.maxWaitMs = opts.maxWaitMs ?? 60_000;
  }

  send(roomId: string, txnId: string, content: Record<string, unknown>): Promise<string> {
    return this.sendAll(roomId, [{ txnId, content }]).then((ids) => ids[0] as string);
  }

  /**
   * Events sent one after the other with nothing else between them; a content made by a function
   * (an upload first) is made in turn, and rate limits apply to it as to the sends.
   */
  sendAll(roomId: string, events: readonly QueuedEvent[]): Promise<string[]> {
    const run = this.tail.then(async () => {
      const ids: string[] = [];
      for (const event of events) {
        const make = event.content;
        const content = typeof make === 'function' ? await this.deliver(roomId, event.txnId, make) : make;
        ids.push(await this.deliver(roomId, event.txnId, () => this.put(roomId, event.txnId, content)));
      }
      return ids;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Rejects what is queued or waiting. */
  close(): void {
    this.closed = true;
    for (const wake of this.waits) wake();
  }

  private async deliver<T>(roomId: string, txnId: string, step: () => Promise<T>): Promise<T> {
    for (let limited = 0; ;) {
      const wait = this.notBefore - Date.now();
      if (wait > this.maxWaitMs) {
        throw new Error(
          `the homeserver asked for a pause of another ${Math.ceil(wait / 1000)} s (rate limit)`,
        );
      }
      if (wait > 0) await this.sleep(wait);
      if (this.closed) throw new Error('the Matrix adapter is stopping');
      try {
        return await step();
      } catch (err) {
        if (!(err instanceof MatrixError) || !err.isRateLimitError()) throw err;
        limited++;
        const retryAfterMs = Math.max(0, safeGetRetryAfterMs(err, 5_000));
        this.notBefore = Date.now() + retryAfterMs;
        this.log.info(
          { room: roomId, retryAfterMs, attempt: limited },
          'rate-limited by the homeserver; waiting',
        );
        if (limited >= this.maxRateLimited) {
          throw new Error(`rate-limited by the homeserver ${limited} times in a row (M_LIMIT_EXCEEDED)`);
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waits.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waits.add(wake);
    });
  }
}
