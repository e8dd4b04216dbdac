import pino from 'pino';
import type { BuildbotBuild, BuildbotBuilder } from '../../src/buildbot/types.js';
import { Fleet } from '../../src/state/fleet.js';
import { BuildStore } from '../../src/store/builds.js';
import { type Db, openDb } from '../../src/store/db.js';
import { TestStore } from '../../src/store/tests.js';
import { Bus } from '../../src/bus.js';
import { Analyzer } from '../../src/logs/analyzer.js';
import { TestHistory } from '../../src/logs/history.js';
import { ControlService } from '../../src/control/service.js';
import { ControlStore } from '../../src/store/control.js';

export const silentLog = pino({ level: 'silent' });
export const MASTER_URL = 'http://127.0.0.1:8010/';

export function builder(builderid: number, name: string, tags: string[] = []): BuildbotBuilder {
  return { builderid, name, tags, masterids: [1] };
}

let nextBuildId = 1;

/** A finished build; `agoS` is how long ago it completed; a red one failed its test step unless `stateString` says. */
export function build(
  builderid: number,
  number: number,
  results: number,
  agoS = 60,
  stateString?: string,
): BuildbotBuild {
  const completeAt = Math.floor(Date.now() / 1000) - agoS;
  return {
    buildid: nextBuildId++,
    builderid,
    number,
    results,
    complete: true,
    started_at: completeAt - 600,
    complete_at: completeAt,
    state_string: stateString ?? (results === 2 ? 'failed test (failure)' : 'build successful'),
  };
}

/** A fleet in an in-memory database, with the given builders and finished builds. */
export async function fleetWith(
  builders: BuildbotBuilder[],
  builds: BuildbotBuild[] = [],
  master = 'lab',
  db?: Db,
): Promise<Fleet> {
  const store = new BuildStore(db ?? (await openDb(':memory:')));
  const fleet = await Fleet.load(store, [{ name: master, url: MASTER_URL, history: 20 }]);
  await fleet.setBuilders(master, builders);
  for (const b of builds) await fleet.record(master, b, 'history');
  return fleet;
}

/** Test history over `db` for unit tests: no master, so analyses come only from the store. */
export function historyWith(db: Db, fleet: Fleet): { store: TestStore; tests: TestHistory } {
  const store = new TestStore(db);
  const analyzer = new Analyzer({
    store,
    fleet,
    bus: new Bus(),
    log: silentLog,
    masters: new Map(),
    maxAgeMs: 3_600_000,
  });
  return { store, tests: new TestHistory(store, analyzer) };
}

/** A control service over `db` with no master behind it: what unit tests of the dispatcher need. */
export function controlWith(db: Db, fleet: Fleet): ControlService {
  return new ControlService({ fleet, store: new ControlStore(db), log: silentLog, masters: new Map() });
}
