/**
 * Seeds a store with builders, builds and analysed test logs, as the bot would have recorded them:
 * for the dashboard's unit tests (a handful of builds) and its benchmark (90 days of 100 builders).
 */
import type { RegrtestAnalysis } from '../../src/logs/regrtest.js';
import { BuildStore } from '../../src/store/builds.js';
import type { Db } from '../../src/store/db.js';
import { TestStore } from '../../src/store/tests.js';

export function analysis(extra: Partial<RegrtestAnalysis> = {}): RegrtestAnalysis {
  return {
    result: undefined,
    partial: false,
    summaryFound: true,
    seed: 1234,
    command: undefined,
    python: undefined,
    workers: 2,
    failed: [],
    flaky: [],
    envChanged: [],
    crashed: [],
    timedOut: [],
    leaked: [],
    failedFirstRun: [],
    running: [],
    details: {},
    cases: {},
    tracebacks: {},
    leaks: {},
    duration: undefined,
    counts: {},
    ...extra,
  };
}

export interface SeedBuilder {
  builderid: number;
  name: string;
  tags: string[];
}

export interface SeedBuild {
  builderid: number;
  buildid: number;
  number: number;
  results: number;
  /** Epoch seconds. */
  completeAt: number;
  /** What its test log said (red and orange builds). */
  log?: Partial<RegrtestAnalysis>;
}

/** Writes builders, builds and analyses for one master, in transactions of `batch` builds. */
export async function seed(
  db: Db,
  master: string,
  builders: readonly SeedBuilder[],
  builds: Iterable<SeedBuild>,
  batch = 2000,
): Promise<void> {
  const store = new BuildStore(db);
  await store.replaceBuilders(
    master,
    builders.map((b) => ({ master, ...b, description: null, active: true })),
  );
  const byId = new Map(builders.map((b) => [b.builderid, b]));
  let chunk: SeedBuild[] = [];
  const flush = async () => {
    const todo = chunk;
    chunk = [];
    await db.transaction().execute(async (tx) => {
      const tests = new TestStore(tx);
      await new BuildStore(tx).addBuilds(
        todo.map((b) => ({
          master,
          buildid: b.buildid,
          builderid: b.builderid,
          number: b.number,
          results: b.results,
          stateString: b.results === 2 ? 'failed test (failure)' : 'build successful',
          startedAt: b.completeAt - 1800,
          completeAt: b.completeAt,
        })),
      );
      for (const b of todo) {
        if (!b.log) continue;
        const builder = byId.get(b.builderid);
        await tests.saveDone(
          { master, buildid: b.buildid, builderid: b.builderid, number: b.number },
          analysis(b.log),
          `http://master.invalid/#/builders/${b.builderid}/builds/${b.number}/steps/5/logs/stdio`,
          { name: builder?.name ?? `builder ${b.builderid}`, branch: builder?.tags[0] ?? null },
          b.completeAt,
          b.completeAt * 1000,
        );
      }
    });
  };
  for (const b of builds) {
    chunk.push(b);
    if (chunk.length >= batch) await flush();
  }
  if (chunk.length > 0) await flush();
}
