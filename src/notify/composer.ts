import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import {
  buildAnnouncement,
  buildDetails,
  type ChangeSummary,
  type LogFacts,
} from '../messages/announcement.js';
import { buildGroupAnnouncement, type GroupView } from '../messages/group.js';
import { builderBranch } from '../state/branches.js';
import type { GroupMember } from '../store/groups.js';
import type { GroupReason } from '../triage/grouping.js';
import type { Message } from '../messages/message.js';
import type { FleetView, Transition } from '../state/fleet.js';
import type { Outbox, OutboxEntry } from '../store/outbox.js';
import type { Stored } from './planner.js';

/** The changes behind the given builds, newest first. */
export type ChangeLookup = (master: string, buildids: readonly number[]) => Promise<ChangeSummary[]>;

/** What the build's test log says (waits for its analysis); undefined when there is nothing to say. */
export type TestLookup = (transition: Transition) => Promise<LogFacts | undefined>;

/** How long an announcement waits for the test log before it goes out without it. */
const TEST_WAIT_MS = 60_000;

/** What a build failed for (src/triage/grouping.ts); undefined when that is not known. */
export type ReasonLookup = (transition: Transition) => Promise<GroupReason[] | undefined>;

/**
 * The likely culprit of a red build that joins a group: `likely culprit: ...` lines, empty when
 * there is none (src/tracker/culprits.ts).
 */
export type CulpritLookup = (transition: Transition) => Promise<string[]>;

/** A likely-culprit lookup under way: its lines once known, or as far as known within a bound. */
export interface CulpritAnswer {
  answer: Promise<string[]>;
  bounded: () => Promise<string[]>;
}

/**
 * How long a group's update waits for the likely culprit, counted from when it is due: the lookup
 * starts when the builder is gathered to join, so it usually has its answer by then.
 */
const CULPRIT_WAIT_MS = 1_000;

/** How long a group's update waits for its first build's changes ("since abc1234"). */
const REVISION_WAIT_MS = 2_000;

interface ReasonJob {
  done: boolean;
  reasons: GroupReason[] | undefined;
  /** Queues to wake when the reasons are known. */
  waiters: Set<() => void>;
}

/** Builds whose changes are looked up for one announcement, at most. */
const MAX_CHANGE_BUILDS = 5;

export interface ComposerOptions {
  outbox: Outbox;
  changes: ChangeLookup;
  tests?: TestLookup | undefined;
  /** A red build's failure reasons, for grouping (none: every red is announced on its own). */
  reasons?: ReasonLookup | undefined;
  /** The likely culprit of a build joining a group (none: groups name no culprit). */
  culprit?: CulpritLookup | undefined;
  fleet: FleetView;
  log: Logger;
  showMaster: boolean;
}

/**
 * Turns outbox rows into messages: looks up a build's changes (once for every destination) and
 * what its test log says, each wait bounded, and stores what it composed so that a resend after a
 * crash sends the same text.
 */
export class Composer {
  /** Changes per announced build, so several destinations cost the master one lookup. */
  private readonly changeCache = new Map<string, Promise<ChangeSummary[]>>();
  /**
   * Details messages being composed, by outbox id: they wait for the test log without holding
   * back anything else; `message` is set once composed.
   */
  private readonly details = new Map<number, { message?: Message; failed?: unknown }>();
  /** Failure reasons per build (`master:buildid`), read once for every destination. */
  private readonly reasonJobs = new Map<string, ReasonJob>();
  /** The likely culprit per build (`master:buildid`), looked up once for every destination. */
  private readonly culprits = new Map<string, Promise<string[]>>();

  constructor(private readonly opts: ComposerOptions) {}

  /**
   * The message of an entry when nothing needs to be looked up for it (a stored message, the head
   * of a split announcement): no await between the outbox and the platform.
   */
  ready(entry: OutboxEntry): Message | undefined {
    const stored = JSON.parse(entry.message) as Stored;
    if (stored.message) return stored.message;
    const t = stored.transition;
    if (stored.part !== 'head' || !t) return undefined;
    // Nothing to wait for: the head says what the master's event said.
    return buildAnnouncement({
      transition: t,
      changes: [],
      changesKnown: true,
      buildUrl: this.buildUrl(t),
      showMaster: this.opts.showMaster,
      part: 'head',
    });
  }

  /** The message of an entry, looking up what it needs. */
  async compose(entry: OutboxEntry): Promise<Message> {
    const now = this.ready(entry);
    if (now) return now;
    const stored = JSON.parse(entry.message) as Stored;
    const t = stored.transition;
    if (!t) throw new Error(`outbox entry ${entry.id} has neither a message nor a transition`);
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
    const input = {
      transition: t,
      tests,
      changes,
      changesKnown,
      buildUrl: this.buildUrl(t),
      showMaster: this.opts.showMaster,
    };
    const message = stored.part === 'details' ? buildDetails(input) : buildAnnouncement(input);
    await this.opts.outbox.setMessage(entry.id, JSON.stringify({ ...stored, message }));
    return message;
  }

  /**
   * The details message of an entry when it is composed; otherwise starts composing it (once) and
   * returns undefined, calling `settled` when it is done. A failure to compose is thrown (once).
   */
  detailsOf(entry: OutboxEntry, settled: () => void): Message | undefined {
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
      .finally(settled);
    return undefined;
  }

  /** The entry is done with (sent, or given up): its composed details are dropped. */
  forget(id: number): void {
    this.details.delete(id);
  }

  /**
   * A build's failure reasons when they are known (`reasons` undefined: the analysis failed or
   * there is none); otherwise starts reading them (once, for every destination) and calls `wake`
   * when they are.
   */
  reasonsNow(
    t: Transition,
    wake: () => void,
  ): { state: 'waiting' } | { state: 'done'; reasons: GroupReason[] | undefined } {
    const lookup = this.opts.reasons;
    if (!lookup) return { state: 'done', reasons: undefined };
    const key = `${t.master}:${t.build.buildid}`;
    let job = this.reasonJobs.get(key);
    if (!job) {
      const fresh: ReasonJob = { done: false, reasons: undefined, waiters: new Set() };
      job = fresh;
      this.reasonJobs.set(key, fresh);
      if (this.reasonJobs.size > 500) this.reasonJobs.delete(this.reasonJobs.keys().next().value as string);
      void lookup(t)
        .catch((err: unknown) => {
          this.opts.log.warn(
            { master: t.master, buildid: t.build.buildid, err: errorMessage(err) },
            'failure reasons unavailable',
          );
          return undefined;
        })
        .then((reasons) => {
          fresh.done = true;
          fresh.reasons = reasons;
          for (const w of fresh.waiters) w();
          fresh.waiters.clear();
        });
    }
    if (job.done) return { state: 'done', reasons: job.reasons };
    job.waiters.add(wake);
    return { state: 'waiting' };
  }

  /** A builder as a group lists it. */
  memberOf(t: Transition): GroupMember {
    return {
      master: t.master,
      buildid: t.build.buildid,
      builder: t.builder.name,
      number: t.build.number,
      branch: builderBranch(t.builder.name, t.builder.tags),
      url: this.buildUrl(t),
    };
  }

  /**
   * The likely culprit of a build joining a group: starts the lookup (once for every destination)
   * and resolves with its lines, or with none once it has not answered within CULPRIT_WAIT_MS of
   * `bounded` being asked; `answer` whenever it comes. Never rejects.
   */
  culpritOf(t: Transition): CulpritAnswer {
    const lookup = this.opts.culprit;
    const key = `${t.master}:${t.build.buildid}`;
    let found = this.culprits.get(key);
    if (!found) {
      found = lookup
        ? lookup(t).catch((err: unknown) => {
            this.opts.log.warn(
              { master: t.master, buildid: t.build.buildid, err: errorMessage(err) },
              'likely culprit unavailable',
            );
            return [];
          })
        : Promise.resolve([]);
      this.culprits.set(key, found);
      if (this.culprits.size > 200) this.culprits.delete(this.culprits.keys().next().value as string);
    }
    const answer = found;
    return { answer, bounded: async () => (await withTimeout(answer, CULPRIT_WAIT_MS)) ?? [] };
  }

  /** The newest change of a build ("since abc1234"), when the master tells it within a few seconds. */
  async newestRevision(t: Transition): Promise<string | undefined> {
    const changes = await withTimeout(this.changesOf(t), REVISION_WAIT_MS).catch(() => undefined);
    return changes?.[0]?.revision ?? undefined;
  }

  /** A group's message, as the platforms that edit it show it. */
  groupMessage(view: Omit<GroupView, 'master'>, lead: Transition): Message {
    return buildGroupAnnouncement({ ...view, ...(this.opts.showMaster ? { master: lead.master } : {}) });
  }

  private buildUrl(t: Transition): string {
    return this.opts.fleet.buildUrl(t.master, t.builder.builderid, t.build.number);
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
}

/** `promise`, or undefined when it has not settled after `ms`. */
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
