import type { Logger } from 'pino';
import { type Bus, Events } from '../bus.js';
import type { Fleet } from './fleet.js';

export interface TrackerOptions {
  /** Transitions older than this when they reach the bot (after downtime) are recorded, not announced. */
  maxAgeMs: number;
  /** Runs a build's bookkeeping and what it triggers as one unit (a database transaction). */
  atomically?: (fn: () => void) => void;
  now?: () => number;
}

/**
 * Feeds the fleet from the bus and turns the builds that change a builder's colour into
 * `builder.transition` events: once per build, never for history imported at first start, never
 * for builds older than the configured age.
 */
export function trackFleet(bus: Bus, fleet: Fleet, log: Logger, opts: TrackerOptions): () => void {
  const now = opts.now ?? Date.now;
  const offBuilders = bus.on(Events.BuildersLoaded, ({ master, builders }) =>
    fleet.setBuilders(master, builders),
  );
  const atomically = opts.atomically ?? ((fn: () => void) => fn());
  const offBuilds = bus.on(Events.BuildFinished, ({ master, build, origin }) =>
    atomically(() => {
      const outcome = fleet.record(master, build, origin);
      if (!outcome) return;
      bus.emit(Events.BuildRecorded, { master, build: outcome.record, origin });
      log.debug(
        {
          master,
          buildid: build.buildid,
          builderid: build.builderid,
          number: build.number,
          results: build.results,
          origin,
        },
        'build recorded',
      );
      if (!outcome.transition) return;
      const { transition } = outcome;
      const ageMs = now() - (build.complete_at ?? 0) * 1000;
      if (origin === 'history') return;
      if (ageMs > opts.maxAgeMs) {
        log.info(
          { master, builder: transition.builder.name, number: build.number, event: transition.event, ageMs },
          'transition too old to announce; recorded only',
        );
        return;
      }
      bus.emit(Events.BuilderTransition, transition);
    }),
  );
  return () => {
    offBuilders();
    offBuilds();
  };
}
