import type { TestOutcome } from '../logs/regrtest.js';
import { sql } from 'kysely';
import type { Db } from './db.js';
import type { OutcomeDbRow } from './tests.js';

/**
 * Read-only queries behind the web dashboard, on SQLite and PostgreSQL alike.
 * Times are epoch seconds, as in the tables.
 */

export interface DashBuild {
  buildid: number;
  number: number;
  results: number | null;
  stateString: string;
  startedAt: number | null;
  completeAt: number | null;
}

export interface DashBuilder {
  master: string;
  builderid: number;
  name: string;
  tags: string[];
  active: boolean;
}

/** One notable outcome of a test in one build. */
export interface DashOutcome {
  master: string;
  buildid: number;
  builderid: number;
  number: number;
  builder: string;
  branch: string | null;
  test: string;
  outcome: TestOutcome;
  completeAt: number;
}

/** Per test and outcome over a period: how often, on how many builders, when last. */
export interface OutcomeCount {
  test: string;
  outcome: TestOutcome;
  n: number;
  lastAt: number;
}

export interface DailyCount {
  test: string;
  /** Days since the start of the period (0 = the first day). */
  day: number;
  n: number;
}

export interface StoredKnown {
  test: string;
  issue: string;
  builders: string | null;
}

export interface AnalysisBlob {
  data: string | null;
  logUrl: string | null;
}

const DAY = 86_400;

interface BuildRow {
  buildid: number;
  number: number;
  results: number | null;
  state_string: string;
  started_at: number | null;
  complete_at: number | null;
}

export class DashboardStore {
  constructor(private readonly db: Db) {}

  /** A builder by master and name (inactive ones too: their history is still worth a page). */
  async builder(master: string, name: string): Promise<DashBuilder | undefined> {
    const row = await this.db
      .selectFrom('builders')
      .select(['master', 'builderid', 'name', 'tags', 'active'])
      .where('master', '=', master)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      master: row.master,
      builderid: row.builderid,
      name: row.name,
      tags: parseTags(row.tags),
      active: row.active === 1,
    };
  }

  /** A builder's newest builds, newest first. */
  async recentBuilds(master: string, builderid: number, limit: number): Promise<DashBuild[]> {
    const rows = await this.db
      .selectFrom('builds')
      .select(BUILD_COLUMNS)
      .where('master', '=', master)
      .where('builderid', '=', builderid)
      .orderBy('number', 'desc')
      .limit(limit)
      .execute();
    return rows.map(fromBuildRow);
  }

  /**
   * The newest builds (at most `limit` each) of the given builders, newest first, keyed by master
   * and builderid: one query. Each builder's lowest number to show is found first (an index walk
   * of `limit` entries per builder, materialized so that it is done once per builder), so only the
   * builds shown are read, however long the history.
   */
  async recentBuildsOf(
    builders: ReadonlyArray<{ master: string; builderid: number }>,
    limit: number,
  ): Promise<Map<string, Map<number, DashBuild[]>>> {
    const out = new Map<string, Map<number, DashBuild[]>>();
    if (builders.length === 0 || limit < 1) return out;
    const wanted = new Set(builders.map((b) => `${b.master}\0${b.builderid}`));
    const masters = [...new Set(builders.map((b) => b.master))];
    const ids = [...new Set(builders.map((b) => b.builderid))];
    // A superset (each master with each id); the pairs not asked for are dropped below.
    const { rows } = await sql<BuildRow & { master: string; builderid: number }>`
      WITH t AS MATERIALIZED (
        SELECT r.master AS master, r.builderid AS builderid,
               COALESCE((SELECT x.number FROM builds x WHERE x.master = r.master AND x.builderid = r.builderid
                         ORDER BY x.number DESC LIMIT 1 OFFSET ${limit - 1}), ${-1}) AS lowest
        FROM builders r
        WHERE r.master IN (${sql.join(masters)}) AND r.builderid IN (${sql.join(ids)}))
      SELECT b.master AS master, b.builderid AS builderid, b.buildid AS buildid, b.number AS number,
             b.results AS results, b.state_string AS state_string, b.started_at AS started_at,
             b.complete_at AS complete_at
      FROM t JOIN builds b ON b.master = t.master AND b.builderid = t.builderid AND b.number >= t.lowest
      ORDER BY b.master, b.builderid, b.number DESC`.execute(this.db);
    for (const row of rows) {
      if (!wanted.has(`${row.master}\0${row.builderid}`)) continue;
      let byBuilder = out.get(row.master);
      if (!byBuilder) out.set(row.master, (byBuilder = new Map()));
      const list = byBuilder.get(row.builderid) ?? [];
      list.push(fromBuildRow(row));
      byBuilder.set(row.builderid, list);
    }
    return out;
  }

  /** A builder's builds completed since `since`, oldest first. */
  async buildsSince(master: string, builderid: number, since: number): Promise<DashBuild[]> {
    const rows = await this.db
      .selectFrom('builds')
      .select(BUILD_COLUMNS)
      .where('master', '=', master)
      .where('builderid', '=', builderid)
      .where('complete_at', '>=', since)
      .orderBy('number')
      .execute();
    return rows.map(fromBuildRow);
  }

  /** The notable test outcomes of one builder since `since`, newest first. */
  async builderOutcomes(master: string, builderid: number, since: number): Promise<DashOutcome[]> {
    const rows = await this.db
      .selectFrom('test_outcomes')
      .select(OUTCOME_COLUMNS)
      .where('master', '=', master)
      .where('builderid', '=', builderid)
      .where('complete_at', '>=', since)
      .orderBy('complete_at', 'desc')
      .orderBy('test')
      .execute();
    return rows.map((r) => fromOutcomeRow(r as OutcomeDbRow));
  }

  /** The tests flaky most often since `since`, most first. */
  async flakiestTests(since: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('test_outcomes')
      .select(['test', (eb) => eb.fn.countAll<number>().as('n')])
      .where('outcome', '=', 'flaky')
      .where('complete_at', '>=', since)
      .groupBy('test')
      .orderBy('n', 'desc')
      .orderBy('test')
      .limit(limit)
      .execute();
    return rows.map((r) => r.test);
  }

  /** Counts per test and outcome since `since`, for the given tests. */
  async outcomeCounts(tests: readonly string[], since: number): Promise<OutcomeCount[]> {
    if (tests.length === 0) return [];
    const rows = await this.db
      .selectFrom('test_outcomes')
      .select([
        'test',
        'outcome',
        (eb) => eb.fn.countAll<number>().as('n'),
        (eb) => eb.fn.max('complete_at').as('last_at'),
      ])
      .where('complete_at', '>=', since)
      .where('test', 'in', [...tests])
      .groupBy(['test', 'outcome'])
      .execute();
    return rows.map((r) => ({
      test: r.test,
      outcome: r.outcome as TestOutcome,
      n: Number(r.n),
      lastAt: Number(r.last_at),
    }));
  }

  /** How many builders each of the given tests had a notable outcome on since `since`. */
  async builderCounts(tests: readonly string[], since: number): Promise<Map<string, number>> {
    if (tests.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('test_outcomes')
      .select(['test', (eb) => eb.fn.count<number>('builder').distinct().as('n')])
      .where('complete_at', '>=', since)
      .where('test', 'in', [...tests])
      .groupBy('test')
      .execute();
    return new Map(rows.map((r) => [r.test, Number(r.n)]));
  }

  /** Flaky outcomes per test and day since `since` (day 0 starts at `since`). */
  async dailyFlaky(tests: readonly string[], since: number): Promise<DailyCount[]> {
    if (tests.length === 0) return [];
    const { rows } = await sql<DailyCount>`
      SELECT test, (complete_at - ${since}) / ${sql.lit(DAY)} AS day, COUNT(*) AS n FROM test_outcomes
        WHERE outcome = 'flaky' AND complete_at >= ${since} AND test IN (${sql.join([...tests])})
        GROUP BY test, day`.execute(this.db);
    return rows.map((r) => ({ test: r.test, day: Number(r.day), n: Number(r.n) }));
  }

  /** One test's notable outcomes since `since`, newest first. */
  async testOutcomes(test: string, since: number): Promise<DashOutcome[]> {
    const rows = await this.db
      .selectFrom('test_outcomes')
      .select(OUTCOME_COLUMNS)
      .where('test', '=', test)
      .where('complete_at', '>=', since)
      .orderBy('complete_at', 'desc')
      .orderBy('buildid', 'desc')
      .execute();
    return rows.map((r) => fromOutcomeRow(r as OutcomeDbRow));
  }

  /** When a test was first and last notable, and how often, over all the stored history. */
  async testSpan(test: string): Promise<{ first: number; last: number; n: number } | undefined> {
    const row = await this.db
      .selectFrom('test_outcomes')
      .select([
        (eb) => eb.fn.min('complete_at').as('first'),
        (eb) => eb.fn.max('complete_at').as('last'),
        (eb) => eb.fn.countAll<number>().as('n'),
      ])
      .where('test', '=', test)
      .executeTakeFirst();
    if (!row || Number(row.n) === 0 || row.first === null || row.last === null) return undefined;
    return { first: Number(row.first), last: Number(row.last), n: Number(row.n) };
  }

  /** The stored analysis of a build (the parser's JSON, tracebacks included when they were read). */
  async analysis(master: string, buildid: number): Promise<AnalysisBlob | undefined> {
    const row = await this.db
      .selectFrom('analyses')
      .select(['data', 'log_url'])
      .where('master', '=', master)
      .where('buildid', '=', buildid)
      .where('status', '=', 'done')
      .executeTakeFirst();
    return row ? { data: row.data, logUrl: row.log_url } : undefined;
  }

  async knownIssues(): Promise<StoredKnown[]> {
    return this.db
      .selectFrom('known_issues')
      .select(['test', 'issue', 'builders'])
      .orderBy('test')
      .orderBy('id')
      .execute();
  }
}

const BUILD_COLUMNS = ['buildid', 'number', 'results', 'state_string', 'started_at', 'complete_at'] as const;
const OUTCOME_COLUMNS = [
  'master',
  'buildid',
  'builderid',
  'number',
  'builder',
  'branch',
  'test',
  'outcome',
  'complete_at',
] as const;

function parseTags(text: string): string[] {
  try {
    const tags: unknown = JSON.parse(text);
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

function fromBuildRow(r: BuildRow): DashBuild {
  return {
    buildid: r.buildid,
    number: r.number,
    results: r.results,
    stateString: r.state_string,
    startedAt: r.started_at,
    completeAt: r.complete_at,
  };
}

function fromOutcomeRow(r: OutcomeDbRow): DashOutcome {
  return {
    master: r.master,
    buildid: r.buildid,
    builderid: r.builderid,
    number: r.number,
    builder: r.builder,
    branch: r.branch,
    test: r.test,
    outcome: r.outcome,
    completeAt: r.complete_at,
  };
}
