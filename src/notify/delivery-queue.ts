import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Message } from '../messages/message.js';
import { backoffDelay } from '../retry.js';
import type { Outbox, OutboxEntry } from '../store/outbox.js';
import type { Composer } from './composer.js';

/** Sends a message to a destination (`console`, `irc:#room`); rejects when the platform did not take it. */
export type Deliver = (destination: string, message: Message) => Promise<void>;

/** The first wait after a failed delivery, and the longest while a platform is away. */
const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 10_000;

export interface DeliveryQueueOptions {
  destination: string;
  outbox: Outbox;
  composer: Composer;
  deliver: Deliver;
  log: Logger;
  now: () => number;
  /** Red announcements this close to the previous one are grouped (0: never); read at each pass. */
  burstWindowMs: () => number;
  /** Give up on a message that could not be delivered for this long. */
  giveUpAfterMs: number;
  /** Shutting down: a gathering burst goes out at once. */
  draining: () => boolean;
}

/**
 * What waits for one destination, delivered in order by a loop of its own: a platform that hangs
 * or is away holds back only its own destinations. It never rejects: a failure (the platform's, or
 * the store's) is logged and the queue tries again after its own back-off.
 */
export class DeliveryQueue {
  private running: Promise<void> | undefined;
  private again = false;
  /** The running pass has not read the outbox yet: what is asked of it now, it will see. */
  private unread = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private burstTimer: NodeJS.Timeout | undefined;
  /** Failed passes in a row: the back-off's attempt. */
  private failures = 0;
  /**
   * When the last red announcement went out here (null: not read yet). This process is the only
   * one that sends (the leader), so after the first read it is known without asking the store.
   */
  private lastRed: number | undefined | null = null;

  constructor(private readonly opts: DeliveryQueueOptions) {}

  /** Delivers what is pending for the destination; runs are coalesced. Never rejects. */
  flush(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      if (!this.unread) this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          this.unread = true;
          try {
            await this.pass();
          } catch (err) {
            // The outbox could not be read or written (a store that is away): nothing was lost,
            // the entries stay pending; try again on the retry schedule, not at some later event.
            this.opts.log.warn(
              { destination: this.opts.destination, err: errorMessage(err) },
              'delivery pass failed; retrying',
            );
            this.scheduleRetry();
          }
        } while (this.again && !this.stopped);
      } finally {
        // Cleared in the same tick as the last check of `again`: a flush asked for after that
        // check starts a new run instead of joining one that is already over.
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** The platform is reachable again: what waits goes out now, and the back-off starts over. */
  retryNow(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.failures = 0;
    return this.flush();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.burstTimer);
    await this.running;
  }

  private async pass(): Promise<void> {
    const { destination, outbox, composer } = this.opts;
    let pending: OutboxEntry[];
    try {
      pending = await outbox.pending(destination);
    } finally {
      this.unread = false;
    }
    /** Sent in this pass, or grouped into a message sent in it. */
    const grouped = new Set<number>();
    for (const entry of pending) {
      if (this.stopped) return;
      if (grouped.has(entry.id)) continue;
      let message: Message | undefined;
      if (entry.kind === 'details') {
        // Not ready: skipped without holding back what follows; its completion flushes again.
        try {
          message = composer.detailsOf(entry, () => void this.flush());
        } catch (err) {
          // The entry itself is unreadable: retrying cannot help.
          await outbox.markFailed(entry.id, errorMessage(err), true);
          this.opts.log.warn(
            { destination, ...about(entry), err: errorMessage(err) },
            'details not composed',
          );
          continue;
        }
        if (!message) continue;
      }
      let batch = [entry];
      const waiting = pending.filter((p) => isRed(p) && !grouped.has(p.id));
      const release = await this.burstRelease(entry, waiting);
      if (release !== undefined) {
        if (this.opts.now() < release) {
          // A burst is gathering: the destination waits (all of it, so that its order holds).
          this.wakeAt(release);
          return;
        }
        batch = waiting;
      }
      try {
        if (batch.length > 1) {
          const burst = await composer.burst(batch);
          message = burst.message;
          // A grouped message names each builder's failing tests itself: those builders' details
          // are not sent. A builder whose tests were not known yet keeps its details follow-up,
          // so a group never carries fewer facts than the single announcements would have.
          for (const p of pending) {
            if (
              p.kind === 'details' &&
              !grouped.has(p.id) &&
              p.event === 'failure' &&
              burst.named.has(p.subject)
            ) {
              batch.push(p);
              grouped.add(p.id);
            }
          }
        }
        // The head of a split announcement (or a stored message) goes straight to the platform.
        message ??= composer.ready(entry) ?? (await composer.compose(entry));
        await this.opts.deliver(destination, message);
        const sentAt = this.opts.now();
        if (batch.some(isRed)) this.lastRed = sentAt;
        for (const b of batch) grouped.add(b.id);
        for (const b of batch) {
          await outbox.markSent(b.id, sentAt);
          composer.forget(b.id);
        }
        this.failures = 0;
        this.opts.log.info(
          {
            destination,
            ...about(entry),
            ...(batch.length > 1 ? { grouped: batch.map((b) => b.buildid) } : {}),
            event: entry.event,
          },
          batch.length > 1 ? 'announced as a group' : 'announced',
        );
      } catch (err) {
        // What follows for this destination waits, so that its messages stay in order.
        const expired = this.opts.now() - entry.createdAt > this.opts.giveUpAfterMs;
        for (const b of batch) {
          await outbox.markFailed(b.id, errorMessage(err), expired).catch((e: unknown) =>
            // The store is away: the entry stays pending as it was, and is tried again.
            this.opts.log.warn({ id: b.id, err: errorMessage(e) }, 'delivery failure not recorded'),
          );
          if (expired) composer.forget(b.id);
        }
        this.opts.log.warn(
          { destination, ...about(entry), err: errorMessage(err), givingUp: expired },
          'announcement not delivered',
        );
        this.scheduleRetry();
        return;
      }
    }
  }

  /**
   * When a red announcement belongs to a burst (another red one went to this destination less
   * than the window before it was recorded), the moment the burst's batch is released: one window
   * after the oldest waiting red announcement. Undefined: send it now, on its own.
   */
  private async burstRelease(
    entry: OutboxEntry,
    waiting: readonly OutboxEntry[],
  ): Promise<number | undefined> {
    const window = this.opts.burstWindowMs();
    if (window <= 0 || !isRed(entry)) return undefined;
    if (this.lastRed === null)
      this.lastRed = await this.opts.outbox.lastSent(this.opts.destination, 'failure');
    const last = this.lastRed;
    if (last === undefined || entry.createdAt - last >= window) return undefined;
    const oldest = waiting[0] ?? entry;
    return this.opts.draining() ? this.opts.now() : oldest.createdAt + window;
  }

  private wakeAt(at: number): void {
    clearTimeout(this.burstTimer);
    this.burstTimer = setTimeout(() => void this.flush(), Math.max(0, at - this.opts.now()) + 10);
    this.burstTimer.unref();
  }

  /**
   * The retry after a failed pass: the bot's back-off without jitter (one process retries only its
   * own outbox): 2 s, doubling to 10 s (test/unit/reconnect.test.ts); a delivery that works or a
   * platform that says it is back starts it over.
   */
  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    // Capped low: retries cost nothing at the master, and a platform that comes back should hear
    // what it missed within seconds, not a minute later.
    const delay = backoffDelay(this.failures++, FIRST_RETRY_MS, MAX_RETRY_MS, () => 1);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, delay);
    this.retryTimer.unref();
  }
}

/** A red build's announcement: what a burst groups. */
const isRed = (entry: OutboxEntry): boolean => entry.kind === 'announcement' && entry.event === 'failure';

/** What a log line says a row is about: its kind and subject, and its master and build where it has them. */
function about(entry: OutboxEntry): Record<string, string | number> {
  return {
    kind: entry.kind,
    subject: entry.subject,
    ...(entry.master !== null ? { master: entry.master } : {}),
    ...(entry.buildid !== null ? { buildid: entry.buildid } : {}),
  };
}
