import type { TestOutcome } from '../logs/regrtest.js';
import type { Db, Statement } from './db.js';
import type { OutcomeDbRow } from './tests.js';

/**
 * Read-only queries behind the web dashboard. Portable SQL only (it must also run on PostgreSQL):
 * `?` placeholders, no SQLite-only functions, every selected column aggregated or grouped.
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
  /** Prepared once per SQL text: pages run the same few statements many times. */
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Db) {}

  private stmt<P extends unknown[], R>(sql: string): Statement<P, R> {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    // Each SQL text is always prepared with the same parameter and row types.
    return s as unknown as Statement<P, R>;
  }

  /** A builder by master and name (inactive ones too: their history is still worth a page). */
  builder(master: string, name: string): DashBuilder | undefined {
    const row = this.stmt<
      [string, string],
      { master: string; builderid: number; name: string; tags: string; active: number }
    >('SELECT master, builderid, name, tags, active FROM builders WHERE master = ? AND name = ?').get(
      master,
      name,
    );
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
  recentBuilds(master: string, builderid: number, limit: number): DashBuild[] {
    return this.stmt<[string, number, number], BuildRow>(
      `SELECT buildid, number, results, state_string, started_at, complete_at FROM builds
         WHERE master = ? AND builderid = ? ORDER BY number DESC LIMIT ?`,
    )
      .all(master, builderid, limit)
      .map(fromBuildRow);
  }

  /** A builder's builds completed since `since`, oldest first. */
  buildsSince(master: string, builderid: number, since: number): DashBuild[] {
    return this.stmt<[string, number, number], BuildRow>(
      `SELECT buildid, number, results, state_string, started_at, complete_at FROM builds
         WHERE master = ? AND builderid = ? AND complete_at >= ? ORDER BY number`,
    )
      .all(master, builderid, since)
      .map(fromBuildRow);
  }

  /** The notable test outcomes of one builder since `since`, newest first. */
  builderOutcomes(master: string, builderid: number, since: number): DashOutcome[] {
    return this.stmt<[string, number, number], OutcomeDbRow>(
      `SELECT master, buildid, builderid, number, builder, branch, test, outcome, complete_at FROM test_outcomes
         WHERE master = ? AND builderid = ? AND complete_at >= ? ORDER BY complete_at DESC, test`,
    )
      .all(master, builderid, since)
      .map(fromOutcomeRow);
  }

  /** The tests flaky most often since `since`, most first. */
  flakiestTests(since: number, limit: number): string[] {
    return this.stmt<[number, number], { test: string; n: number }>(
      `SELECT test, COUNT(*) AS n FROM test_outcomes WHERE outcome = 'flaky' AND complete_at >= ?
         GROUP BY test ORDER BY n DESC, test LIMIT ?`,
    )
      .all(since, limit)
      .map((r) => r.test);
  }

  /** Counts per test and outcome since `since`, for the given tests. */
  outcomeCounts(tests: readonly string[], since: number): OutcomeCount[] {
    if (tests.length === 0) return [];
    return this.stmt<unknown[], { test: string; outcome: TestOutcome; n: number; last_at: number }>(
      `SELECT test, outcome, COUNT(*) AS n, MAX(complete_at) AS last_at FROM test_outcomes
         WHERE complete_at >= ? AND test IN (${marks(tests.length)}) GROUP BY test, outcome`,
    )
      .all(since, ...tests)
      .map((r) => ({ test: r.test, outcome: r.outcome, n: r.n, lastAt: r.last_at }));
  }

  /** How many builders each of the given tests had a notable outcome on since `since`. */
  builderCounts(tests: readonly string[], since: number): Map<string, number> {
    if (tests.length === 0) return new Map();
    const rows = this.stmt<unknown[], { test: string; n: number }>(
      `SELECT test, COUNT(DISTINCT builder) AS n FROM test_outcomes
         WHERE complete_at >= ? AND test IN (${marks(tests.length)}) GROUP BY test`,
    ).all(since, ...tests);
    return new Map(rows.map((r) => [r.test, r.n]));
  }

  /** Flaky outcomes per test and day since `since` (day 0 starts at `since`). */
  dailyFlaky(tests: readonly string[], since: number): DailyCount[] {
    if (tests.length === 0) return [];
    return this.stmt<unknown[], DailyCount>(
      `SELECT test, (complete_at - ?) / ${DAY} AS day, COUNT(*) AS n FROM test_outcomes
         WHERE outcome = 'flaky' AND complete_at >= ? AND test IN (${marks(tests.length)})
         GROUP BY test, day`,
    ).all(since, since, ...tests);
  }

  /** One test's notable outcomes since `since`, newest first. */
  testOutcomes(test: string, since: number): DashOutcome[] {
    return this.stmt<[string, number], OutcomeDbRow>(
      `SELECT master, buildid, builderid, number, builder, branch, test, outcome, complete_at FROM test_outcomes
         WHERE test = ? AND complete_at >= ? ORDER BY complete_at DESC, buildid DESC`,
    )
      .all(test, since)
      .map(fromOutcomeRow);
  }

  /** When a test was first and last notable, and how often, over all the stored history. */
  testSpan(test: string): { first: number; last: number; n: number } | undefined {
    const row = this.stmt<[string], { first: number | null; last: number | null; n: number }>(
      'SELECT MIN(complete_at) AS first, MAX(complete_at) AS last, COUNT(*) AS n FROM test_outcomes WHERE test = ?',
    ).get(test);
    if (!row || row.n === 0 || row.first === null || row.last === null) return undefined;
    return { first: row.first, last: row.last, n: row.n };
  }

  /** The stored analysis of a build (the parser's JSON, tracebacks included when they were read). */
  analysis(master: string, buildid: number): AnalysisBlob | undefined {
    const row = this.stmt<[string, number], { data: string | null; log_url: string | null }>(
      `SELECT data, log_url FROM analyses WHERE master = ? AND buildid = ? AND status = 'done'`,
    ).get(master, buildid);
    return row ? { data: row.data, logUrl: row.log_url } : undefined;
  }

  knownIssues(): StoredKnown[] {
    return this.stmt<[], StoredKnown>(
      'SELECT test, issue, builders FROM known_issues ORDER BY test, id',
    ).all();
  }
}

function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

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
