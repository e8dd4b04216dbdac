import type { Logger } from 'pino';
import type { NotifyRule } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { backoffDelay } from '../retry.js';
import type { Message } from '../messages/message.js';
import type { FleetView, Transition } from '../state/fleet.js';
import type { Db } from '../store/db.js';
import { Outbox, type OutboxAbout } from '../store/outbox.js';
import {
  type ChangeLookup,
  Composer,
  type CulpritLookup,
  type ReasonLookup,
  type TestLookup,
} from './composer.js';
import { type Deliver, DeliveryQueue, type Edit } from './delivery-queue.js';
import type { GroupStore } from '../store/groups.js';
import { planAnnouncements, type Stored } from './planner.js';

export type { ChangeLookup, ReasonLookup, TestLookup } from './composer.js';
export type { Deliver, Edit } from './delivery-queue.js';

/** Mutes and snoozes, as the notifier sees them. */
export interface Holds {
  /** Whether a mute covers the transition for `destination` (a decision, in memory). */
  covers(transition: Transition, destination: string): boolean;
  /** Records the transition as held back for `destination`, with `tx` when there is one. */
  hold(transition: Transition, destination: string, tx: Db | undefined): Promise<unknown>;
}

export interface NotifierOptions {
  outbox: Outbox;
  /** The rules, or where to read the rules in force (runtime subscriptions change them). */
  rules: readonly NotifyRule[] | (() => readonly NotifyRule[]);
  /** Mutes: an announcement a mute covers is held back instead of recorded. */
  holds?: Holds;
  deliver: Deliver;
  changes: ChangeLookup;
  tests?: TestLookup;
  fleet: FleetView;
  log: Logger;
  showMaster: boolean;
  /**
   * A red build whose failure an open group at a destination shares, its first build having
   * finished at most this long before, joins the group instead of being announced (0: never).
   */
  groupWindowMs?: number;
  /**
   * The longest a recovery of a group's builder waits to be named with the group's other builders
   * in one line (0, the default here: every recovery on its own).
   */
  recoveryHoldMs?: number;
  /** The likely culprit of a red build joining a group: named once, in the group's update. */
  culprit?: CulpritLookup;
  /** A red build's failure reasons (the log analysis's), for grouping. */
  reasons?: ReasonLookup;
  /** Where groups are kept (with the outbox's database); without it, no grouping. */
  groups?: GroupStore;
  /** How a destination's platform edits a message it sent; undefined where it cannot. */
  editorFor?: (destination: string) => Edit | undefined;
  /**
   * `followup`: a red build's announcement goes out at once and its test log and changes follow
   * in a second message; `inline` (the default here): one message, once both are known.
   */
  details?: 'followup' | 'inline';
  /** Give up on an announcement that could not be delivered for this long. */
  giveUpAfterMs?: number;
  now?: () => number;
}

/** A ready message's row: what it is about (src/store/outbox.ts) and where it goes. */
export type SendKey = OutboxAbout & { destination: string };

/** The first wait, and the longest, before the outbox is read again after it could not be. */
const STORE_RETRY_MS = [2000, 10_000] as const;

/**
 * The delivery path's coordinator: the planner decides who hears about a transition
 * (src/notify/planner.ts), the rows are recorded in the outbox before anything is sent, and one
 * delivery queue per destination (src/notify/delivery-queue.ts) sends them in order, composed by
 * the composer (src/notify/composer.ts). A destination whose platform hangs or is away holds back
 * only itself.
 */
export class Notifier {
  private readonly queues = new Map<string, DeliveryQueue>();
  private readonly composer: Composer;
  /** Destinations recorded for since the last flush: their queues start without asking the store. */
  private readonly fresh = new Set<string>();
  /** Destinations whose queues this flush started itself: the store scan leaves them be. */
  private started = new Set<string>();
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private scanTimer: NodeJS.Timeout | undefined;
  private scanFailures = 0;
  private stopped = false;
  /** Shutting down: gathered also-on lines go out at once, and nothing waits for reasons. */
  private draining = false;
  private readonly now: () => number;
  private opts: NotifierOptions;

  constructor(opts: NotifierOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.composer = new Composer({
      outbox: opts.outbox,
      changes: opts.changes,
      tests: opts.tests,
      reasons: opts.reasons,
      culprit: opts.culprit,
      fleet: opts.fleet,
      log: opts.log,
      showMaster: opts.showMaster,
    });
  }

  /** Announcement settings from a reloaded config; they apply to what is recorded from now on. */
  configure(settings: Pick<NotifierOptions, 'groupWindowMs' | 'recoveryHoldMs' | 'details'>): void {
    this.opts = { ...this.opts, ...settings };
  }

  /**
   * Records the announcements a transition makes; with `tx`, inside that transaction (the build's:
   * a build and its announcements are written together, never one without the other).
   */
  async record(transition: Transition, tx?: Db): Promise<number> {
    const outbox = tx ? new Outbox(tx) : this.opts.outbox;
    const holds = this.opts.holds;
    const plan = planAnnouncements(transition, {
      rules: typeof this.opts.rules === 'function' ? this.opts.rules() : this.opts.rules,
      details: this.opts.details,
      ...(holds ? { muted: (destination: string) => holds.covers(transition, destination) } : {}),
    });
    for (const destination of plan.held) await holds?.hold(transition, destination, tx);
    let added = 0;
    let headAdded = false;
    for (const planned of plan.entries) {
      // Recorded with its head, in the same transaction: the details cannot be lost in between;
      // a head recorded before (a replay) brings no second details row either.
      if (planned.kind === 'details' && !headAdded) continue;
      const entry = await outbox.add(
        {
          kind: planned.kind,
          master: transition.master,
          buildid: transition.build.buildid,
          event: planned.event,
          destination: planned.destination,
          message: JSON.stringify(planned.stored),
        },
        this.now(),
      );
      if (planned.kind === 'announcement') {
        headAdded = entry !== undefined;
        if (entry) {
          added++;
          this.fresh.add(planned.destination);
        }
      }
    }
    return added;
  }

  /**
   * Records a ready message for one destination (a follow-up to a forced build, a digest, a mute's
   * summary, a worker alert) in the outbox, once per its key (src/store/outbox.ts), and delivers it.
   */
  async send(key: SendKey, message: Message): Promise<void> {
    const stored: Stored = { message };
    if (await this.opts.outbox.add({ ...key, message: JSON.stringify(stored) }, this.now())) {
      this.fresh.add(key.destination);
      void this.flush();
    }
  }

  /**
   * Delivers everything pending, each destination in its own queue; resolves when every queue's
   * pass is over (a queue whose platform hangs keeps it waiting, and no other queue). Never rejects.
   */
  flush(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // What was just recorded goes to its queues at once; the store is asked what else waits.
    const fresh = [...this.fresh].map((d) => {
      this.started.add(d);
      return this.queue(d).flush();
    });
    this.fresh.clear();
    return Promise.all([...fresh, this.scan()]).then(() => undefined);
  }

  /**
   * A platform is reachable again (its adapter said so): what waits goes out now rather than at
   * the next retry tick, and the back-off starts over.
   */
  retryNow(): Promise<void> {
    this.scanFailures = 0;
    for (const queue of this.queues.values()) void queue.retryNow();
    return this.flush();
  }

  /**
   * For a clean shutdown: delivers what is pending (gathered also-on lines included) for up to `deadlineMs`, then
   * stops. What is still pending stays in the outbox for the next start.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, deadlineMs)));
    await Promise.race([this.flush(), deadline]);
    // A send still waiting for its platform (an IRC server that has not confirmed) is left to
    // fail when the adapter closes; its entry stays pending for the next start.
    await Promise.race([this.stop(), deadline]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.scanTimer);
    await this.scanning;
    await Promise.all([...this.queues.values()].map((q) => q.stop()));
  }

  /** Asks the store which destinations have something waiting and flushes their queues. */
  private scan(): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      try {
        do {
          this.rescan = false;
          // A queue is asked once per flush: a second pass at once would not wait for its back-off.
          const started = this.started;
          this.started = new Set();
          let destinations: string[];
          try {
            destinations = await this.opts.outbox.pendingDestinations();
            this.scanFailures = 0;
          } catch (err) {
            // A store that is away: nothing is lost, the entries stay pending; read again soon.
            this.opts.log.warn({ err: errorMessage(err) }, 'delivery pass failed; retrying');
            this.scheduleScan();
            return;
          }
          await Promise.all(destinations.filter((d) => !started.has(d)).map((d) => this.queue(d).flush()));
        } while (this.rescan && !this.stopped);
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  private scheduleScan(): void {
    if (this.scanTimer || this.stopped) return;
    const [min, max] = STORE_RETRY_MS;
    this.scanTimer = setTimeout(
      () => {
        this.scanTimer = undefined;
        void this.flush();
      },
      backoffDelay(this.scanFailures++, min, max),
    );
    this.scanTimer.unref();
  }

  private queue(destination: string): DeliveryQueue {
    let queue = this.queues.get(destination);
    if (!queue) {
      queue = new DeliveryQueue({
        destination,
        outbox: this.opts.outbox,
        composer: this.composer,
        deliver: this.opts.deliver,
        log: this.opts.log,
        now: this.now,
        edit: this.opts.editorFor?.(destination),
        groups: this.opts.groups,
        groupWindowMs: () => this.opts.groupWindowMs ?? 0,
        recoveryHoldMs: () => this.opts.recoveryHoldMs ?? 0,
        giveUpAfterMs: this.opts.giveUpAfterMs ?? 86_400_000,
        draining: () => this.draining,
      });
      this.queues.set(destination, queue);
    }
    return queue;
  }
}
