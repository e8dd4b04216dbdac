import type { Db } from './db.js';

/** A finished build with its builder's name, for reports. Times are epoch seconds. */
export interface ReportBuild {
  master: string;
  builderid: number;
  builder: string;
  number: number;
  results: number | null;
  completeAt: number;
}

/** A test failing in a period with no failure of it recorded before. */
export interface FirstFailure {
  test: string;
  firstAt: number;
  builds: number;
  builders: string[];
}

/** Read-only queries behind digests and operations metrics. */
export class ReportStore {
  constructor(private readonly db: Db) {}

  /** Test logs waiting to be read. */
  analysisPending(): number {
    return (
      this.db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM analyses WHERE status = 'pending'`).get()
        ?.n ?? 0
    );
  }

  /** Builds completed in [since, until), of active builders, oldest first per builder. */
  buildsBetween(since: number, until: number): ReportBuild[] {
    return this.db
      .prepare<[number, number], ReportBuild>(
        `SELECT b.master AS master, b.builderid AS builderid, r.name AS builder, b.number AS number,
                b.results AS results, b.complete_at AS completeAt
         FROM builds b JOIN builders r ON r.master = b.master AND r.builderid = b.builderid
         WHERE r.active = 1 AND b.complete_at >= ? AND b.complete_at < ?
         ORDER BY b.master, b.builderid, b.number`,
      )
      .all(since, until);
  }

  /** The last build of each active builder completed before `before` (to know its colour then). */
  lastBefore(before: number): ReportBuild[] {
    return this.db
      .prepare<[number, number], ReportBuild>(
        `SELECT b.master AS master, b.builderid AS builderid, r.name AS builder, b.number AS number,
                b.results AS results, b.complete_at AS completeAt
         FROM builds b JOIN builders r ON r.master = b.master AND r.builderid = b.builderid
         WHERE r.active = 1 AND b.complete_at < ? AND b.results IN (0, 1, 2)
           AND b.number = (SELECT MAX(x.number) FROM builds x
                           WHERE x.master = b.master AND x.builderid = b.builderid
                             AND x.complete_at < ? AND x.results IN (0, 1, 2))`,
      )
      .all(before, before);
  }

  /** Tests that failed in [since, until) and never failed before `since`. */
  firstFailures(since: number, until: number): FirstFailure[] {
    const firstFailed = `outcome = 'failed' AND complete_at >= ? AND complete_at < ?
           AND test NOT IN (SELECT test FROM test_outcomes WHERE outcome = 'failed' AND complete_at < ?)`;
    const rows = this.db
      .prepare<[number, number, number], { test: string; firstAt: number; builds: number }>(
        `SELECT test, MIN(complete_at) AS firstAt, COUNT(DISTINCT master || ':' || buildid) AS builds
         FROM test_outcomes WHERE ${firstFailed}
         GROUP BY test ORDER BY firstAt, test`,
      )
      .all(since, until, since);
    // The builders in a second query: no aggregate into a list is common to SQLite and PostgreSQL.
    const builders = new Map<string, string[]>();
    for (const r of this.db
      .prepare<[number, number, number], { test: string; builder: string }>(
        `SELECT DISTINCT test, builder FROM test_outcomes WHERE ${firstFailed}`,
      )
      .all(since, until, since)) {
      builders.set(r.test, [...(builders.get(r.test) ?? []), r.builder]);
    }
    return rows.map((r) => ({ ...r, builders: (builders.get(r.test) ?? []).sort() }));
  }

  /** How often each test was flaky in [since, until). */
  flakyBetween(since: number, until: number): Map<string, number> {
    const rows = this.db
      .prepare<[number, number], { test: string; n: number }>(
        `SELECT test, COUNT(*) AS n FROM test_outcomes WHERE outcome = 'flaky' AND complete_at >= ? AND complete_at < ?
         GROUP BY test`,
      )
      .all(since, until);
    return new Map(rows.map((r) => [r.test, r.n]));
  }
}
