import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { causeHeadline } from '../logs/failure-kind.js';
import {
  buildAnnouncement,
  buildDetails,
  type ChangeSummary,
  type LogFacts,
} from '../messages/announcement.js';
import { type BurstPart, buildBurstAnnouncement } from '../messages/burst.js';
import type { Message } from '../messages/message.js';
import type { FleetView, Transition } from '../state/fleet.js';
import { buildSubject, type Outbox, type OutboxEntry } from '../store/outbox.js';
import type { Stored } from './planner.js';

/** The changes behind the given builds, newest first. */
export type ChangeLookup = (master: string, buildids: readonly number[]) => Promise<ChangeSummary[]>;

/** What the build's test log says (waits for its analysis); undefined when there is nothing to say. */
export type TestLookup = (transition: Transition) => Promise<LogFacts | undefined>;

/** How long an announcement waits for the test log before it goes out without it. */
const TEST_WAIT_MS = 60_000;

/** Builds whose changes are looked up for one announcement, at most. */
const MAX_CHANGE_BUILDS = 5;

export interface ComposerOptions {
  outbox: Outbox;
  changes: ChangeLookup;
  tests?: TestLookup | undefined;
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
   * One message for several builders that turned red in one burst, and the builds (as outbox
   * subjects, `buildSubject`) whose failing tests it names. The builders' lookups run side by side:
   * the burst waits for the slowest test log (at most TEST_WAIT_MS), not for the sum of them.
   */
  async burst(batch: readonly OutboxEntry[]): Promise<{ message: Message; named: Set<string> }> {
    const transitions = batch.flatMap((entry) => {
      const t = (JSON.parse(entry.message) as Stored).transition;
      return t ? [t] : [];
    });
    const named = new Set<string>();
    const parts = await Promise.all(
      transitions.map(async (t): Promise<BurstPart> => {
        const [changes, answer] = await Promise.all([
          this.changesOf(t).catch(() => [] as ChangeSummary[]),
          // Answered (even "nothing to say") versus not known yet (timed out, or the lookup failed).
          this.opts.tests
            ? withTimeout(
                this.opts.tests(t).then((facts) => ({ facts })),
                TEST_WAIT_MS,
              ).catch(() => undefined)
            : Promise.resolve({ facts: undefined }),
        ]);
        if (answer) named.add(buildSubject(t.master, t.build.buildid));
        const tests = answer?.facts;
        return {
          transition: t,
          newestRevision: changes[0]?.revision ?? undefined,
          failed: tests?.failed.map((m) => m.name) ?? [],
          cause: tests?.cause ? causeHeadline(tests.cause) : undefined,
          buildUrl: this.buildUrl(t),
        };
      }),
    );
    return { message: buildBurstAnnouncement(parts, this.opts.showMaster), named };
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
