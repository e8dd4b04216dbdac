import type { Logger } from 'pino';
import type { NotifyRule } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import {
  buildAnnouncement,
  buildDetails,
  type ChangeSummary,
  type LogFacts,
  SPLIT_EVENTS,
} from '../messages/announcement.js';
import { causeHeadline } from '../logs/failure-kind.js';
import { type BurstPart, buildBurstAnnouncement } from '../messages/burst.js';
import type { Message } from '../messages/message.js';
import type { FleetView, Transition } from '../state/fleet.js';
import type { Db } from '../store/db.js';
import { Outbox, type OutboxEntry } from '../store/outbox.js';
import { destinationsFor } from './rules.js';

/** Sends a message to a destination (`console`, `irc:#room`); rejects when the platform did not take it. */
export type Deliver = (destination: string, message: Message) => Promise<void>;

/** The changes behind the given builds, newest first. */
export type ChangeLookup = (master: string, buildids: readonly number[]) => Promise<ChangeSummary[]>;

/** What the build's test log says (waits for its analysis); undefined when there is nothing to say. */
export type TestLookup = (transition: Transition) => Promise<LogFacts | undefined>;

/** How long an announcement waits for the test log before it goes out without it. */
const TEST_WAIT_MS = 60_000;
/** The longest wait between two delivery attempts while a platform is away. */
const MAX_RETRY_MS = 10_000;

export interface NotifierOptions {
  outbox: Outbox;
  /** The rules, or where to read the rules in force (runtime subscriptions change them). */
  rules: readonly NotifyRule[] | (() => readonly NotifyRule[]);
  /**
   * Holds back an announcement for a destination (a mute), writing with `tx` (the build's
   * transaction, when there is one); true when it did, and nothing is sent.
   */
  hold?: (transition: Transition, destination: string, tx: Db | undefined) => Promise<boolean>;
  deliver: Deliver;
  changes: ChangeLookup;
  tests?: TestLookup;
  fleet: FleetView;
  log: Logger;
  showMaster: boolean;
  /** Red announcements this close to the previous one to a destination are grouped (0: never). */
  burstWindowMs?: number;
  /**
   * `followup`: a red build's announcement goes out at once and its test log and changes follow
   * in a second message; `inline` (the default here): one message, once both are known.
   */
  details?: 'followup' | 'inline';
  /** Give up on an announcement that could not be delivered for this long. */
  giveUpAfterMs?: number;
  now?: () => number;
}

/** What the outbox keeps for one announcement: the transition, and the message once composed. */
interface Stored {
  transition?: Transition;
  message?: Message;
  /** Of a split announcement: the head (sent at once) or the details (sent when known). */
  part?: 'head' | 'details';
}

/** The outbox event of the details message that follows an announcement. */
const detailsEvent = (event: string) => `${event}:details`;

/** Builds whose changes are looked up for one announcement, at most. */
const MAX_CHANGE_BUILDS = 5;

/**
 * Decides who hears about each transition, records one outbox entry per destination (before
 * anything is sent), composes the message, and delivers pending entries in order, retrying with
 * back-off while a platform is away.
 */
export class Notifier {
  private running: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 2000;
  private burstTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  /** Changes per announced build, so several destinations cost the master one lookup. */
  private readonly changeCache = new Map<string, Promise<ChangeSummary[]>>();
  /**
   * Details messages being composed, by outbox id: they wait for the test log without holding
   * back anything else; `message` is set once composed.
   */
  private readonly details = new Map<number, { message?: Message; failed?: unknown }>();

  /** Shutting down: waiting bursts are released at once. */
  private draining = false;
  private opts: NotifierOptions;

  constructor(opts: NotifierOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** Announcement settings from a reloaded config; they apply to what is recorded from now on. */
  configure(settings: Pick<NotifierOptions, 'burstWindowMs' | 'details'>): void {
    this.opts = { ...this.opts, ...settings };
  }

  /**
   * Records the announcements a transition makes; with `tx`, inside that transaction (the build's:
   * a build and its announcements are written together, never one without the other).
   */
  async record(transition: Transition, tx?: Db): Promise<number> {
    const outbox = tx ? new Outbox(tx) : this.opts.outbox;
    const rules = typeof this.opts.rules === 'function' ? this.opts.rules() : this.opts.rules;
    const destinations = destinationsFor(rules, {
      master: transition.master,
      // A red that is not a test's goes where `infra` is asked for (src/state/transitions.ts).
      event: transition.route ?? transition.event,
      builderName: transition.builder.name,
      tags: transition.builder.tags,
    });
    let added = 0;
    for (const destination of destinations) {
      if (await this.opts.hold?.(transition, destination, tx)) continue;
      const split = this.opts.details === 'followup' && SPLIT_EVENTS.has(transition.event);
      const add = (event: string, stored: Stored) =>
        outbox.add(
          transition.master,
          transition.build.buildid,
          event,
          destination,
          JSON.stringify(stored),
          this.now(),
        );
      const entry = await add(transition.event, split ? { transition, part: 'head' } : { transition });
      if (entry) added++;
      // Recorded with the head, in the same transaction: the details cannot be lost in between.
      if (entry && split) await add(detailsEvent(transition.event), { transition, part: 'details' });
    }
    return added;
  }

  /**
   * Records a ready message for one destination (a follow-up to a forced build) under the same
   * once-only key as announcements, and delivers it.
   */
  async send(
    master: string,
    buildid: number,
    event: string,
    destination: string,
    message: Message,
  ): Promise<void> {
    const stored: Stored = { message };
    if (await this.opts.outbox.add(master, buildid, event, destination, JSON.stringify(stored), this.now())) {
      void this.flush();
    }
  }

  /** Delivers everything pending, in order; safe to call often (runs are coalesced). */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          try {
            await this.deliverPending();
          } catch (err) {
            // The outbox could not be read or written (a store that is away): nothing was lost,
            // the entries stay pending; try again on the retry schedule, not at some later event.
            this.opts.log.warn({ err: errorMessage(err) }, 'delivery pass failed; retrying');
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

  /**
   * A platform is reachable again (its adapter said so): what waits goes out now rather than at
   * the next retry tick, and the back-off starts over.
   */
  retryNow(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryDelayMs = 2000;
    return this.flush();
  }

  /**
   * For a clean shutdown: delivers what is pending (bursts included) for up to `deadlineMs`, then
   * stops. What is still pending stays in the outbox for the next start.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((r) => (timer = setTimeout(r, deadlineMs)))]);
    clearTimeout(timer);
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.burstTimer);
    await this.running;
  }

  private async deliverPending(): Promise<void> {
    const blocked = new Set<string>();
    const grouped = new Set<number>();
    let wakeAt: number | undefined;
    let failed = false;
    const pending = await this.opts.outbox.pending();
    for (const entry of pending) {
      if (this.stopped) return;
      if (blocked.has(entry.destination) || grouped.has(entry.id)) continue;
      let message: Message | undefined;
      if (entry.event.endsWith(':details')) {
        // Not ready: skipped without blocking the destination; its completion flushes again.
        try {
          message = this.detailsOf(entry);
        } catch (err) {
          // The entry itself is unreadable: retrying cannot help.
          await this.opts.outbox.markFailed(entry.id, errorMessage(err), true);
          this.opts.log.warn(
            { destination: entry.destination, buildid: entry.buildid, err: errorMessage(err) },
            'details not composed',
          );
          continue;
        }
        if (!message) continue;
      }
      let batch = [entry];
      const release = await this.burstRelease(entry, pending);
      if (release !== undefined) {
        if (this.now() < release) {
          // A burst is gathering: this destination waits (all of it, so its order holds).
          blocked.add(entry.destination);
          wakeAt = Math.min(wakeAt ?? release, release);
          continue;
        }
        batch = pending.filter((p) => p.destination === entry.destination && p.event === 'failure');
        for (const b of batch) grouped.add(b.id);
      }
      try {
        if (batch.length > 1) {
          const burst = await this.composeBurst(batch);
          message = burst.message;
          // A grouped message names each builder's failing tests itself: those builders' details
          // are not sent. A builder whose tests were not known yet keeps its details follow-up,
          // so a group never carries fewer facts than the single announcements would have.
          for (const p of pending) {
            if (
              p.destination === entry.destination &&
              p.event === detailsEvent('failure') &&
              burst.named.has(`${p.master}:${p.buildid}`)
            ) {
              batch.push(p);
              grouped.add(p.id);
            }
          }
        }
        message ??= await this.compose(entry);
        await this.opts.deliver(entry.destination, message);
        for (const b of batch) {
          await this.opts.outbox.markSent(b.id, this.now());
          this.details.delete(b.id);
        }
        this.retryDelayMs = 2000;
        this.opts.log.info(
          {
            destination: entry.destination,
            master: entry.master,
            buildid: entry.buildid,
            ...(batch.length > 1 ? { grouped: batch.map((b) => b.buildid) } : {}),
            event: entry.event,
          },
          batch.length > 1 ? 'announced as a group' : 'announced',
        );
      } catch (err) {
        // Later entries for this destination wait, so that its announcements stay in order.
        blocked.add(entry.destination);
        failed = true;
        const expired = this.now() - entry.createdAt > (this.opts.giveUpAfterMs ?? 86_400_000);
        for (const b of batch) {
          await this.opts.outbox.markFailed(b.id, errorMessage(err), expired).catch((e: unknown) =>
            // The store is away: the entry stays pending as it was, and is tried again.
            this.opts.log.warn({ id: b.id, err: errorMessage(e) }, 'delivery failure not recorded'),
          );
          if (expired) this.details.delete(b.id);
        }
        this.opts.log.warn(
          {
            destination: entry.destination,
            buildid: entry.buildid,
            err: errorMessage(err),
            givingUp: expired,
          },
          'announcement not delivered',
        );
      }
    }
    if (wakeAt !== undefined) this.wakeAt(wakeAt);
    if (failed) this.scheduleRetry();
  }

  /**
   * When a red announcement belongs to a burst (another red one went to the same destination
   * less than `burstWindow` before it was recorded), the moment the burst's batch is released:
   * one window after the oldest waiting red announcement. Undefined: send it now, on its own.
   */
  private async burstRelease(
    entry: OutboxEntry,
    pending: readonly OutboxEntry[],
  ): Promise<number | undefined> {
    const window = this.opts.burstWindowMs ?? 0;
    if (window <= 0 || entry.event !== 'failure') return undefined;
    const last = await this.opts.outbox.lastSent(entry.destination, 'failure');
    if (last === undefined || entry.createdAt - last >= window) return undefined;
    const oldest = pending.find((p) => p.destination === entry.destination && p.event === 'failure') ?? entry;
    // Shutting down: a gathering burst goes out now, as a group.
    return this.draining ? this.now() : oldest.createdAt + window;
  }

  private wakeAt(at: number): void {
    clearTimeout(this.burstTimer);
    this.burstTimer = setTimeout(() => void this.flush(), Math.max(0, at - this.now()) + 10);
    this.burstTimer.unref();
  }

  /**
   * One message for several builders that turned red in one burst, and the builds (`master:buildid`)
   * whose failing tests it names.
   */
  private async composeBurst(
    batch: readonly OutboxEntry[],
  ): Promise<{ message: Message; named: Set<string> }> {
    const parts: BurstPart[] = [];
    const named = new Set<string>();
    for (const entry of batch) {
      const stored = JSON.parse(entry.message) as Stored;
      const t = stored.transition;
      if (!t) continue;
      const changes = await this.changesOf(t).catch(() => [] as ChangeSummary[]);
      // Answered (even "nothing to say") versus not known yet (timed out, or the lookup failed).
      const answer = this.opts.tests
        ? await withTimeout(
            this.opts.tests(t).then((facts) => ({ facts })),
            TEST_WAIT_MS,
          ).catch(() => undefined)
        : { facts: undefined };
      if (answer) named.add(`${t.master}:${t.build.buildid}`);
      const tests = answer?.facts;
      parts.push({
        transition: t,
        newestRevision: changes[0]?.revision ?? undefined,
        failed: tests?.failed.map((m) => m.name) ?? [],
        cause: tests?.cause ? causeHeadline(tests.cause) : undefined,
        buildUrl: this.opts.fleet.buildUrl(t.master, t.builder.builderid, t.build.number),
      });
    }
    return { message: buildBurstAnnouncement(parts, this.opts.showMaster), named };
  }

  /**
   * The delivery retry: a timer of its own rather than src/retry.ts, since a platform that says it
   * is back (retryNow) or a delivery that works starts it over, and without jitter, since one
   * process retries only its own outbox (2 s, doubling to 10 s; test/unit/reconnect.test.ts).
   */
  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, this.retryDelayMs);
    this.retryTimer.unref();
    // Capped low: retries cost nothing at the master, and a platform that comes back should hear
    // what it missed within seconds, not a minute later.
    this.retryDelayMs = Math.min(MAX_RETRY_MS, this.retryDelayMs * 2);
  }

  private changesOf(t: Transition): Promise<ChangeSummary[]> {
    const key = `${t.master}:${t.build.buildid}`;
    let found = this.changeCache.get(key);
    if (!found) {
      const ids = t.sinceLastGood.slice(0, MAX_CHANGE_BUILDS).map((b) => b.buildid);
      found = this.opts.changes(t.master, ids);
      found.catch(() => this.changeCache.delete(key));
      this.changeCache.set(key, found);
      if (this.changeCache.size > 200)
        this.changeCache.delete(this.changeCache.keys().next().value as string);
    }
    return found;
  }

  /**
   * The details message of an entry when it is composed; otherwise starts composing it (once) and
   * returns undefined. A failure to compose is thrown to the delivery loop, which retries later.
   */
  private detailsOf(entry: OutboxEntry): Message | undefined {
    const job = this.details.get(entry.id);
    if (job?.message) return job.message;
    if (job && 'failed' in job) {
      this.details.delete(entry.id);
      throw job.failed;
    }
    if (job) return undefined;
    const fresh: { message?: Message; failed?: unknown } = {};
    this.details.set(entry.id, fresh);
    this.compose(entry)
      .then(
        (message) => (fresh.message = message),
        (err: unknown) => (fresh.failed = err),
      )
      .finally(() => {
        if (!this.stopped) void this.flush();
      });
    return undefined;
  }

  private async compose(entry: OutboxEntry): Promise<Message> {
    const stored = JSON.parse(entry.message) as Stored;
    if (stored.message) return stored.message;
    const t = stored.transition;
    if (!t) throw new Error(`outbox entry ${entry.id} has neither a message nor a transition`);
    const buildUrl = this.opts.fleet.buildUrl(t.master, t.builder.builderid, t.build.number);
    if (stored.part === 'head') {
      // Nothing to wait for: the head says what the master's event said.
      return buildAnnouncement({
        transition: t,
        changes: [],
        changesKnown: true,
        buildUrl,
        showMaster: this.opts.showMaster,
        part: 'head',
      });
    }
    // The changes and the test log are looked up side by side.
    // A recovery names no culprit: its changes are not shown, so not asked for.
    const changesLookup: Promise<ChangeSummary[] | undefined> =
      t.event === 'recovery'
        ? Promise.resolve([])
        : this.changesOf(t).catch((err: unknown) => {
            this.opts.log.warn(
              { master: t.master, buildid: t.build.buildid, err: errorMessage(err) },
              'changes unavailable',
            );
            return undefined;
          });
    // A purple build's steps say why it failed, as a red one's do.
    const testsLookup: Promise<LogFacts | undefined> =
      this.opts.tests && t.event !== 'recovery'
        ? withTimeout(this.opts.tests(t), TEST_WAIT_MS).catch((err: unknown) => {
            this.opts.log.warn(
              { master: t.master, buildid: t.build.buildid, err: errorMessage(err) },
              'test log unavailable',
            );
            return undefined;
          })
        : Promise.resolve(undefined);
    const [found, tests] = await Promise.all([changesLookup, testsLookup]);
    const changes = found ?? [];
    const changesKnown = found !== undefined;
    const input = { transition: t, tests, changes, changesKnown, buildUrl, showMaster: this.opts.showMaster };
    const message = stored.part === 'details' ? buildDetails(input) : buildAnnouncement(input);
    await this.opts.outbox.setMessage(entry.id, JSON.stringify({ ...stored, message }));
    return message;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
