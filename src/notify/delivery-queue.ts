import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Message } from '../messages/message.js';
import { backoffDelay } from '../retry.js';
import type { AnnounceGroup, GroupMember, GroupStore } from '../store/groups.js';
import type { Outbox, OutboxEntry } from '../store/outbox.js';
import { type GroupReason, groupDecision, type OpenGroup } from '../triage/grouping.js';
import { buildAlsoOn, buildGroupCulprit, buildGroupRecovered } from '../messages/group.js';
import type { Transition } from '../state/fleet.js';
import type { Composer, CulpritAnswer } from './composer.js';
import type { Stored } from './planner.js';
import { foldRecoveries } from './recovery-fold.js';

/**
 * Sends a message to a destination (`console`, `irc:#room`); resolves with the platform's reference
 * to it where the platform gives one (to edit it later), rejects when the platform did not take it.
 */
export type Deliver = (destination: string, message: Message) => Promise<string | void>;

/** Replaces a message sent before (by its reference); rejects when the platform did not take it. */
export type Edit = (destination: string, ref: string, message: Message) => Promise<void>;

/** The first wait after a failed delivery, and the longest while a platform is away. */
const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 10_000;

/**
 * How long a later red build waits for its reasons (and the open group's) while a group is open at
 * its destination, before it is announced on its own: the log analysis reads a regrtest tail in
 * well under a second from a responsive master, a few seconds from a loaded one; past 10 s it is
 * slow or failing, and a headline that late is worse than a second message.
 */
export const REASON_WAIT_MS = 10_000;

/**
 * Builders joining a group within this of the first are named in one also-on line (platforms
 * without edits): a burst's builders come in together, and the line stays news: with the log
 * analysis's few hundred milliseconds it keeps each builder's first mention under the 2 s target
 * (bench/group-latency.bench.ts).
 */
export const ALSO_ON_BATCH_MS = 1_000;

/** Builders named in one also-on line: more make a second line (every builder is named). */
export const ALSO_ON_NAMES = 8;

export interface DeliveryQueueOptions {
  destination: string;
  outbox: Outbox;
  composer: Composer;
  deliver: Deliver;
  /** How the destination's platform edits a message; undefined where it cannot (IRC, the console). */
  edit: Edit | undefined;
  /** Where groups are kept; without it, every red is announced on its own. */
  groups: GroupStore | undefined;
  log: Logger;
  now: () => number;
  /** Red builds this close to an open group's first build may join it (0: never); read at each pass. */
  groupWindowMs: () => number;
  /**
   * The longest a recovery of a group's builder waits to be named with the group's others in one
   * line (0: each recovery on its own); read at each pass.
   */
  recoveryHoldMs: () => number;
  /** Give up on a message that could not be delivered for this long. */
  giveUpAfterMs: number;
  /** Shutting down: gathered also-on lines go out at once, and nothing waits for reasons. */
  draining: () => boolean;
}

/** Builders gathered to join one group: sent as one edit or one also-on line. */
interface Joining {
  group: AnnounceGroup;
  reason: GroupReason;
  /** Their announcements, and the details rows the group message makes redundant. */
  entries: OutboxEntry[];
  members: GroupMember[];
  /** When the first of them was decided. */
  since: number;
  /** Entries already marked sent (a line of several went out). */
  sent: Set<number>;
  /** The likely culprit, looked up for the first of them (when the group has none yet). */
  culprit: CulpritAnswer | undefined;
}

/** Recoveries of one group's builders, gathered for one line. */
interface Recovering {
  group: AnnounceGroup;
  reason: GroupReason;
  entries: OutboxEntry[];
  /** The builds that brought them back to green. */
  builds: GroupMember[];
}

/**
 * What waits for one destination, delivered in order by a loop of its own: a platform that hangs
 * or is away holds back only its own destinations. It never rejects: a failure (the platform's, or
 * the store's) is logged and the queue tries again after its own back-off.
 *
 * One message per failure (issue 17): a red build is announced at once when no group is open at
 * the destination; while one is, it waits (at most REASON_WAIT_MS) for its reasons, and when it
 * shares one with an open group it joins it instead of being announced: the group's message is
 * edited where the platform can, else one "also on: X, Y" line names the builders that joined
 * within ALSO_ON_BATCH_MS.
 */
export class DeliveryQueue {
  private running: Promise<void> | undefined;
  private again = false;
  /** The running pass has not read the outbox yet: what is asked of it now, it will see. */
  private unread = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeTime = Infinity;
  /** Failed passes in a row: the back-off's attempt. */
  private failures = 0;
  /** Builders gathered to join each group (by its id), not sent yet. */
  private readonly joining = new Map<number, Joining>();
  /** Groups whose likely culprit is still being looked up after their update went out. */
  private readonly culpritWatch = new Set<number>();
  /** Likely culprits found after their group's update went out, by group id: sent at the next pass. */
  private readonly lateCulprits = new Map<number, { reason: GroupReason; lines: string[] }>();
  /** When this queue first saw each red announcement: its wait for reasons counts from then. */
  private readonly firstSeen = new Map<number, number>();
  private readonly wake = (): void => void this.flush();

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
            this.joining.clear();
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
    clearTimeout(this.wakeTimer);
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
    /** Sent in this pass, or gathered into a group's update. */
    const done = new Set<number>();
    for (const j of this.joining.values()) for (const e of j.entries) done.add(e.id);
    /** Recoveries of groups' builders: gathered anew at each pass (they stay pending until named). */
    const recovering = new Map<number, Recovering>();
    for (const entry of pending) {
      if (this.stopped) return;
      if (done.has(entry.id)) continue;
      if (isRecovery(entry) && (await this.gatherRecovery(entry, recovering, done))) continue;
      if (isRed(entry)) {
        // A builder red again: its gathered recovery is named first, so the channel reads in order.
        if (!(await this.sendRecoveries(recovering, sameBuilder(transitionOf(entry))))) return;
        const verdict = await this.decide(entry, pending, done);
        // Waiting for reasons: the destination waits (all of it, so that its order holds); what
        // was gathered before it goes out when due.
        if (verdict === 'wait') {
          await this.sendJoins(true);
          return;
        }
        if (verdict === 'joined') continue;
      }
      let message: Message | undefined;
      if (entry.kind === 'details') {
        // Not ready: skipped without holding back what follows; its completion flushes again.
        try {
          message = composer.detailsOf(entry, this.wake);
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
      // Builders gathered for a group go out before anything after them: the order holds.
      if (!(await this.sendJoins(false))) return;
      try {
        // The head of a split announcement (or a stored message) goes straight to the platform.
        message ??= composer.ready(entry) ?? (await composer.compose(entry));
        const ref = await this.opts.deliver(destination, message);
        const sentAt = this.opts.now();
        done.add(entry.id);
        if (isRed(entry)) await this.openGroup(entry, typeof ref === 'string' ? ref : undefined, sentAt);
        await outbox.markSent(entry.id, sentAt);
        composer.forget(entry.id);
        this.firstSeen.delete(entry.id);
        this.failures = 0;
        this.opts.log.info({ destination, ...about(entry), event: entry.event }, 'announced');
      } catch (err) {
        // What follows for this destination waits, so that its messages stay in order.
        await this.failed([entry], err);
        return;
      }
    }
    // Gathered builders go out now where the message is edited, else once their line is due.
    if (!(await this.sendJoins(true))) return;
    if (!(await this.sendRecoveries(recovering))) return;
    await this.sendLateCulprits();
  }

  /** Looks out for a likely culprit that comes after its group's update went out without it. */
  private watchCulprit(group: AnnounceGroup, reason: GroupReason, culprit: CulpritAnswer): void {
    if (this.culpritWatch.has(group.id)) return;
    this.culpritWatch.add(group.id);
    void culprit.answer.then((lines) => {
      if (lines.length === 0 || this.stopped) {
        this.culpritWatch.delete(group.id);
        return;
      }
      this.lateCulprits.set(group.id, { reason, lines });
      void this.flush();
    });
  }

  /**
   * Names a likely culprit found late, once per group: the group's message edited where the
   * platform edits, else one line of its own. A hint: one that cannot be sent is dropped, not
   * retried (the builders are named, and `!why` finds it).
   */
  private async sendLateCulprits(): Promise<void> {
    const { destination, composer, edit } = this.opts;
    for (const [id, late] of [...this.lateCulprits]) {
      this.lateCulprits.delete(id);
      this.culpritWatch.delete(id);
      try {
        const group = await this.opts.groups?.get(id);
        if (!group || group.culprit) continue;
        const reason = group.reason ?? late.reason;
        if (edit && group.ref !== undefined)
          await edit(
            destination,
            group.ref,
            composer.groupMessage(
              {
                reason,
                members: group.members,
                revision: group.revision,
                culprit: late.lines,
                recovered: group.recovered,
              },
              group.lead,
            ),
          );
        else await this.opts.deliver(destination, buildGroupCulprit(reason, late.lines));
        await this.opts.groups?.setCulprit(id, late.lines);
        this.opts.log.info({ destination, group: id }, 'likely culprit sent');
      } catch (err) {
        this.opts.log.warn({ destination, group: id, err: errorMessage(err) }, 'likely culprit not sent');
      }
    }
  }

  /**
   * Whether a recovery is gathered with its group's others (true) instead of being announced on
   * its own: it is when its builder is in a group of two or more builders at this destination
   * (the newest one naming it). One that was named before a restart is only marked sent.
   */
  private async gatherRecovery(
    entry: OutboxEntry,
    recovering: Map<number, Recovering>,
    done: Set<number>,
  ): Promise<boolean> {
    const t = transitionOf(entry);
    const store = this.opts.groups;
    if (!t || !store || this.opts.groupWindowMs() <= 0 || this.opts.recoveryHoldMs() <= 0) return false;
    const group = await store.latestWith(this.opts.destination, t.master, t.builder.name, this.opts.now());
    if (!group?.reason || new Set(group.members.map((m) => m.builder)).size < 2) return false;
    done.add(entry.id);
    if (group.recovered.some((r) => r.master === t.master && r.buildid === t.build.buildid)) {
      await this.opts.outbox.markSent(entry.id, this.opts.now());
      return true;
    }
    const r: Recovering = recovering.get(group.id) ?? {
      group,
      reason: group.reason,
      entries: [],
      builds: [],
    };
    r.entries.push(entry);
    r.builds.push(this.opts.composer.memberOf(t));
    recovering.set(group.id, r);
    return true;
  }

  /**
   * Names the gathered recoveries of each group in one line, once every builder of the group is
   * green again, or once the first of them has waited the hold (at once when shutting down, and
   * those `now` picks); where the platform edits messages, the group's message marks them too.
   * Sent ones leave `recovering`. False when a delivery failed.
   */
  private async sendRecoveries(
    recovering: Map<number, Recovering>,
    now: (r: Recovering) => boolean = () => false,
  ): Promise<boolean> {
    const { destination, composer, edit } = this.opts;
    for (const [id, r] of [...recovering]) {
      const { group } = r;
      const fold = foldRecoveries({
        members: group.members,
        named: group.recovered,
        gathered: r.builds,
        firstAt: Math.min(...r.entries.map((e) => e.createdAt)),
        holdMs: this.opts.recoveryHoldMs(),
        now: this.opts.now(),
        force: this.opts.draining() || now(r),
      });
      if (fold.kind === 'wait') {
        this.wakeAt(fold.until);
        continue;
      }
      const { recovered } = fold;
      recovering.delete(id);
      try {
        if (edit && group.ref !== undefined)
          await edit(
            destination,
            group.ref,
            composer.groupMessage(
              {
                reason: group.reason ?? r.reason,
                members: group.members,
                revision: group.revision,
                culprit: group.culprit,
                recovered,
              },
              group.lead,
            ),
          );
        await this.opts.deliver(
          destination,
          buildGroupRecovered(fold.builders, r.reason, fold.stillRed, fold.total),
        );
        const sentAt = this.opts.now();
        await this.opts.groups?.recover(group.id, recovered);
        for (const e of r.entries) {
          await this.opts.outbox.markSent(e.id, sentAt);
          composer.forget(e.id);
        }
        this.failures = 0;
        this.opts.log.info(
          { destination, group: group.id, recovered: r.builds.map((b) => b.buildid) },
          'group recovery line sent',
        );
      } catch (err) {
        await this.failed(r.entries, err);
        return false;
      }
    }
    return true;
  }

  /**
   * What becomes of a red announcement: sent (on its own), gathered into an open group's update,
   * or held while its reasons (or the open groups') are being read, at most REASON_WAIT_MS.
   */
  private async decide(
    entry: OutboxEntry,
    pending: readonly OutboxEntry[],
    done: Set<number>,
  ): Promise<'send' | 'wait' | 'joined'> {
    const { composer, destination } = this.opts;
    const window = this.opts.groupWindowMs();
    const t = transitionOf(entry);
    const store = this.opts.groups;
    if (window <= 0 || !t || !store) return 'send';
    const completedAt = completedAtOf(t, entry);
    const groups = (await store.openAt(destination, completedAt - window)).filter(
      (g) => !sameBuild(g.lead, t.master, t.build.buildid),
    );
    // The first red of a quiet period never waits.
    if (groups.length === 0) return 'send';
    // It joined before a restart (its group's update went out, the mark did not): only marked now.
    if (groups.some((g) => g.members.some((m) => m.master === t.master && m.buildid === t.build.buildid))) {
      await this.opts.outbox.markSent(entry.id, this.opts.now());
      done.add(entry.id);
      return 'joined';
    }
    const now = this.opts.now();
    const seen = this.firstSeen.get(entry.id) ?? now;
    this.firstSeen.set(entry.id, seen);
    const late = this.opts.draining() || now >= seen + REASON_WAIT_MS;
    const mine = composer.reasonsNow(t, this.wake);
    const leads = groups.map((g) =>
      g.keys ? undefined : { group: g, answer: composer.reasonsNow(g.lead, this.wake) },
    );
    if (!late && (mine.state === 'waiting' || leads.some((l) => l?.answer.state === 'waiting'))) {
      this.wakeAt(seen + REASON_WAIT_MS);
      return 'wait';
    }
    this.firstSeen.delete(entry.id);
    // Its reasons are not known (a slow or failed analysis): announced on its own, as before.
    if (mine.state !== 'done' || !mine.reasons) return 'send';
    for (const l of leads) {
      if (l?.answer.state !== 'done' || !l.answer.reasons) continue;
      l.group.keys = l.answer.reasons.map((r) => r.key);
      await store.setKeys(l.group.id, l.group.keys);
    }
    const open: OpenGroup[] = groups.flatMap((g) =>
      g.keys
        ? [
            {
              id: String(g.id),
              keys: g.keys,
              openedAt: g.openedAt,
              builders: g.members.map((m) => m.builder),
            },
          ]
        : [],
    );
    const keys = mine.reasons.map((r) => r.key);
    const decision = groupDecision({ builder: t.builder.name, keys, completedAt }, open, window);
    if (decision.kind === 'new') return 'send';
    const group = groups.find((g) => String(g.id) === decision.group);
    const shared = mine.reasons.find((r) => r.key === decision.shared[0]);
    if (!group || !shared) return 'send';
    // The group reads as its first build's log says it (its error line, how it ended).
    const lead = composer.reasonsNow(group.lead, this.wake);
    const leadReason = lead.state === 'done' ? lead.reasons?.find((r) => r.key === shared.key) : undefined;
    const j: Joining = this.joining.get(group.id) ?? {
      group,
      reason: group.reason ?? leadReason ?? shared,
      entries: [],
      members: [],
      since: now,
      sent: new Set(),
      // Started now, so that it has its answer (usually) by the time the update is due.
      culprit: group.culprit ? undefined : composer.culpritOf(t),
    };
    j.entries.push(entry);
    j.members.push(composer.memberOf(t));
    done.add(entry.id);
    // Its details would repeat the group's message when the group has every reason it has.
    if (decision.shared.length === new Set(keys).size) {
      const details = pending.find(
        (p) =>
          p.kind === 'details' && p.subject === entry.subject && p.event === 'failure' && !done.has(p.id),
      );
      if (details) {
        j.entries.push(details);
        done.add(details.id);
      }
    }
    this.joining.set(group.id, j);
    return 'joined';
  }

  /**
   * Sends what was gathered for each group: an edit of its message, or one also-on line. With
   * `onlyDue`, an also-on line waits until ALSO_ON_BATCH_MS after its first builder. False when a
   * delivery failed (the rest of the destination waits for the retry).
   */
  private async sendJoins(onlyDue: boolean): Promise<boolean> {
    const { destination, composer, edit } = this.opts;
    for (const [id, j] of [...this.joining]) {
      const editable = edit !== undefined && j.group.ref !== undefined;
      const due = j.since + ALSO_ON_BATCH_MS;
      if (onlyDue && !editable && !this.opts.draining() && this.opts.now() < due) {
        this.wakeAt(due);
        continue;
      }
      this.joining.delete(id);
      const known = new Set(j.group.members.map((m) => `${m.master}:${m.buildid}`));
      const members = [
        ...j.group.members,
        ...j.members.filter((m) => !known.has(`${m.master}:${m.buildid}`)),
      ];
      try {
        const revision = j.group.revision ?? (await composer.newestRevision(j.group.lead));
        // Named once per group: in its message where it is edited, else under the first line
        // that finds it.
        const found = j.group.culprit ? [] : ((await j.culprit?.bounded()) ?? []);
        const culprit = j.group.culprit ?? (found.length > 0 ? found : undefined);
        // Not known yet (a slow master): named on its own once it is.
        if (!culprit && j.culprit) this.watchCulprit(j.group, j.reason, j.culprit);
        if (editable) {
          await edit(
            destination,
            j.group.ref as string,
            composer.groupMessage(
              { reason: j.reason, members, revision, culprit, recovered: j.group.recovered },
              j.group.lead,
            ),
          );
          await this.joined(j, j.members, members, revision, culprit);
        } else {
          // A line per ALSO_ON_NAMES builders, each recorded once sent: a failure midway names
          // no builder twice.
          for (let i = 0; i < j.members.length; i += ALSO_ON_NAMES) {
            const chunk = j.members.slice(i, i + ALSO_ON_NAMES);
            await this.opts.deliver(
              destination,
              buildAlsoOn(
                chunk.map((m) => m.builder),
                j.reason,
                i === 0 && found.length > 0 ? found : undefined,
              ),
            );
            const upTo = j.group.members.length + i + chunk.length;
            await this.joined(j, chunk, members.slice(0, upTo), revision, culprit);
          }
        }
        this.failures = 0;
        this.opts.log.info(
          { destination, group: id, joined: j.members.map((m) => m.buildid) },
          editable ? 'group message edited' : 'also-on line sent',
        );
      } catch (err) {
        await this.failed(
          j.entries.filter((e) => !j.sent.has(e.id)),
          err,
        );
        return false;
      }
    }
    return true;
  }

  /** Records builders as joined: the group's members, and their entries marked sent. */
  private async joined(
    j: Joining,
    chunk: readonly GroupMember[],
    members: readonly GroupMember[],
    revision: string | undefined,
    culprit: readonly string[] | undefined,
  ): Promise<void> {
    const sentAt = this.opts.now();
    await this.opts.groups?.join(j.group.id, members, j.reason, revision, culprit);
    const builds = new Set(chunk.map((m) => `${m.master}:${m.buildid}`));
    for (const e of j.entries) {
      if (!builds.has(`${e.master}:${e.buildid}`)) continue;
      await this.opts.outbox.markSent(e.id, sentAt);
      this.opts.composer.forget(e.id);
      j.sent.add(e.id);
    }
  }

  /** After a red is sent on its own: the group later builders may join (none when grouping is off). */
  private async openGroup(entry: OutboxEntry, ref: string | undefined, sentAt: number): Promise<void> {
    const t = transitionOf(entry);
    if (!t || this.opts.groupWindowMs() <= 0) return;
    await this.opts.groups?.open(
      { destination: this.opts.destination, lead: t, openedAt: completedAtOf(t, entry), revision: undefined },
      this.opts.composer.memberOf(t),
      ref,
      sentAt,
    );
  }

  /** A delivery failed: the entries stay pending (or are given up on), and the queue retries. */
  private async failed(entries: readonly OutboxEntry[], err: unknown): Promise<void> {
    const oldest = Math.min(...entries.map((e) => e.createdAt));
    const expired = this.opts.now() - oldest > this.opts.giveUpAfterMs;
    for (const b of entries) {
      await this.opts.outbox.markFailed(b.id, errorMessage(err), expired).catch((e: unknown) =>
        // The store is away: the entry stays pending as it was, and is tried again.
        this.opts.log.warn({ id: b.id, err: errorMessage(e) }, 'delivery failure not recorded'),
      );
      if (expired) this.opts.composer.forget(b.id);
    }
    this.opts.log.warn(
      {
        destination: this.opts.destination,
        ...(entries[0] ? about(entries[0]) : {}),
        err: errorMessage(err),
        givingUp: expired,
      },
      'announcement not delivered',
    );
    this.scheduleRetry();
  }

  /** A pass again at `at` (the earliest asked for wins). */
  private wakeAt(at: number): void {
    if (this.wakeTimer && at >= this.wakeTime) return;
    clearTimeout(this.wakeTimer);
    this.wakeTime = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeTime = Infinity;
        void this.flush();
      },
      Math.max(0, at - this.opts.now()) + 10,
    );
    this.wakeTimer.unref();
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

/** A red build's announcement: what opens or joins a group. */
const isRed = (entry: OutboxEntry): boolean => entry.kind === 'announcement' && entry.event === 'failure';

/** Gathered recoveries that include a build of `t`'s builder. */
const sameBuilder =
  (t: Transition | undefined) =>
  (r: Recovering): boolean =>
    t !== undefined && r.builds.some((b) => b.master === t.master && b.builder === t.builder.name);

/** A builder's announcement that it is green again: gathered with its group's others. */
const isRecovery = (entry: OutboxEntry): boolean =>
  entry.kind === 'announcement' && entry.event === 'recovery';

/** What a log line says a row is about: its kind and subject, and its master and build where it has them. */
function about(entry: OutboxEntry): Record<string, string | number> {
  return {
    kind: entry.kind,
    subject: entry.subject,
    ...(entry.master !== null ? { master: entry.master } : {}),
    ...(entry.buildid !== null ? { buildid: entry.buildid } : {}),
  };
}

function transitionOf(entry: OutboxEntry): Transition | undefined {
  return (JSON.parse(entry.message) as Stored).transition;
}

/** When the build finished (epoch ms); when it was recorded, for a build without the time. */
function completedAtOf(t: Transition, entry: OutboxEntry): number {
  return t.build.completeAt !== null ? t.build.completeAt * 1000 : entry.createdAt;
}

const sameBuild = (t: Transition, master: string, buildid: number): boolean =>
  t.master === master && t.build.buildid === buildid;
