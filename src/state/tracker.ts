import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { type BuildOrigin, type Bus, Events } from '../bus.js';
import type { BuildbotBuild, BuildbotBuilder } from '../buildbot/types.js';
import { errorMessage } from '../errors.js';
import { type Db, inTransaction } from '../store/db.js';
import { BuildStore } from '../store/builds.js';
import type { Decision, Fleet, Transition } from './fleet.js';

/** A finished build as decided, before it is written: what the build's transaction writes. */
export interface BuildOutcome {
  master: string;
  origin: BuildOrigin;
  decision: Decision;
  /** The transition to announce: undefined for history, for builds too old, and for no change. */
  announce: Transition | undefined;
}

/**
 * Writes what a recorded build causes (its analysis queued, its announcements in the outbox)
 * with `tx`, the transaction that records the build; returns what to run once it is committed.
 */
export type BuildEffects = (outcome: BuildOutcome, tx: Db) => Promise<(() => void) | void>;

export interface TrackerOptions {
  /** Transitions older than this when they reach the bot (after downtime) are recorded, not announced. */
  maxAgeMs: number;
  /** The store the fleet's builds are written to; a build and its effects share one transaction. */
  db: Db;
  effects?: BuildEffects;
  now?: () => number;
}

export interface Tracker {
  /**
   * Resolves once every build handed over so far is written (and its facts told); rejects when
   * one of `master`'s (any master's, without) could not be written since the last call (the
   * caller fetches it again).
   */
  settled(master?: string): Promise<void>;
  stop(): void;
}

/** Builds of one origin written together, a page at a time (multi-row inserts). */
const PAGE = 200;

/**
 * Feeds the fleet from the bus and turns the builds that change a builder's colour into
 * `builder.transition` events: once per build, never for history imported at first start, never
 * for builds older than the configured age.
 *
 * Decide, write once, then tell: a build's transition is decided in memory, the build and what
 * it causes (BuildEffects) are written in one transaction, and only after it is committed do the
 * fleet's memory change and `build.recorded` / `builder.transition` go out on the bus. Builds are
 * handled one page at a time, in arrival order, yielding to the event loop between pages.
 */
export function trackFleet(bus: Bus, fleet: Fleet, log: Logger, opts: TrackerOptions): Tracker {
  const now = opts.now ?? Date.now;
  type Item =
    | { kind: 'builders'; master: string; builders: BuildbotBuilder[] }
    | { kind: 'build'; master: string; build: BuildbotBuild; origin: BuildOrigin };
  const queue: Item[] = [];
  let running: Promise<void> | undefined;
  /** Per master: the first write that failed since its watcher last asked. */
  const failures = new Map<string, unknown>();
  let stopped = false;

  const offBuilders = bus.on(Events.BuildersLoaded, ({ master, builders }) => {
    // In the queue's order: the builds that follow may belong to these builders.
    queue.push({ kind: 'builders', master, builders });
    kick();
  });
  const offBuilds = bus.on(Events.BuildFinished, ({ master, build, origin }) => {
    if (stopped) return;
    queue.push({ kind: 'build', master, build, origin });
    kick();
  });

  function kick(): void {
    if (running || queue.length === 0 || stopped) return;
    running = drain().finally(() => {
      running = undefined;
      kick();
    });
  }

  async function drain(): Promise<void> {
    while (queue.length > 0 && !stopped) {
      const first = queue.shift() as Item;
      try {
        if (first.kind === 'builders') {
          await fleet.setBuilders(first.master, first.builders);
        } else {
          // A page: consecutive builds of one master and origin (history and back-fill come in pages).
          const page = [first.build];
          while (page.length < PAGE) {
            const next = queue[0];
            if (next?.kind !== 'build' || next.master !== first.master || next.origin !== first.origin) break;
            page.push(next.build);
            queue.shift();
          }
          await writePage(first.master, first.origin, page);
        }
      } catch (err) {
        if (!failures.has(first.master)) failures.set(first.master, err);
        log.warn(
          { master: first.master, err: errorMessage(err) },
          first.kind === 'builders'
            ? 'builders not stored'
            : 'finished builds not stored; they will be fetched again',
        );
      }
      // Between pages, whatever else waits (chat, heartbeats) runs.
      await yieldToLoop();
    }
  }

  async function writePage(master: string, origin: BuildOrigin, builds: BuildbotBuild[]): Promise<void> {
    const after: Array<() => void> = [];
    const told: BuildOutcome[] = [];
    const undo: Array<() => void> = [];
    try {
      await inTransaction(opts.db, async (tx) => {
        const added = await new BuildStore(tx).addBuilds(builds.map((b) => fleet.toRecord(master, b)));
        const fresh = new Set(added.map((r) => r.buildid));
        // Decided in arrival order, each on the memory the builds before it left.
        for (const build of builds) {
          if (!fresh.delete(build.buildid)) continue;
          const decision = fleet.decide(master, build, origin);
          undo.push(fleet.apply(decision));
          const outcome: BuildOutcome = {
            master,
            origin,
            decision,
            announce: announceable(decision, origin),
          };
          told.push(outcome);
          const then = await opts.effects?.(outcome, tx);
          if (then) after.push(then);
        }
      });
    } catch (err) {
      // Not written: the memory goes back to what the store holds.
      for (const back of undo.reverse()) back();
      throw err;
    }
    for (const outcome of told) tell(outcome);
    for (const then of after) then();
  }

  function announceable(decision: Decision, origin: BuildOrigin): Transition | undefined {
    const { transition } = decision;
    if (!transition || origin === 'history') return undefined;
    const ageMs = now() - (decision.record.completeAt ?? 0) * 1000;
    if (ageMs > opts.maxAgeMs) {
      log.info(
        {
          master: transition.master,
          builder: transition.builder.name,
          number: transition.build.number,
          event: transition.event,
          ageMs,
        },
        'transition too old to announce; recorded only',
      );
      return undefined;
    }
    return transition;
  }

  /** Facts after commit: listeners never run inside the build's transaction. */
  function tell({ master, origin, decision, announce }: BuildOutcome): void {
    const { record } = decision;
    log.debug(
      {
        master,
        buildid: record.buildid,
        builderid: record.builderid,
        number: record.number,
        results: record.results,
        origin,
      },
      'build recorded',
    );
    bus.emit(Events.BuildRecorded, { master, build: record, origin });
    if (announce) bus.emit(Events.BuilderTransition, announce);
  }

  return {
    async settled(master?: string) {
      while (running || (queue.length > 0 && !stopped)) {
        kick();
        await running;
      }
      const key = master ?? failures.keys().next().value;
      if (key === undefined || !failures.has(key)) return;
      const err = failures.get(key);
      failures.delete(key);
      throw err;
    },
    stop() {
      stopped = true;
      offBuilders();
      offBuilds();
    },
  };
}
