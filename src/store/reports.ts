import { sql } from 'kysely';
import { CODE_VERDICTS } from '../buildbot/results.js';
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
  async analysisPending(): Promise<number> {
    const row = await this.db
      .selectFrom('analyses')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Builds completed in [since, until), of active builders, oldest first per builder. */
  async buildsBetween(since: number, until: number): Promise<ReportBuild[]> {
    const { rows } = await sql<ReportBuild>`
      SELECT b.master AS master, b.builderid AS builderid, r.name AS builder, b.number AS number,
             b.results AS results, b.complete_at AS "completeAt"
      FROM builds b JOIN builders r ON r.master = b.master AND r.builderid = b.builderid
      WHERE r.active = 1 AND b.complete_at >= ${since} AND b.complete_at < ${until}
      ORDER BY b.master, b.builderid, b.number`.execute(this.db);
    return rows;
  }

  /** The last build of each active builder completed before `before` (to know its colour then). */
  async lastBefore(before: number): Promise<ReportBuild[]> {
    const verdicts = sql.join(CODE_VERDICTS.map((code) => sql.lit(code)));
    const { rows } = await sql<ReportBuild>`
      SELECT b.master AS master, b.builderid AS builderid, r.name AS builder, b.number AS number,
             b.results AS results, b.complete_at AS "completeAt"
      FROM builds b JOIN builders r ON r.master = b.master AND r.builderid = b.builderid
      WHERE r.active = 1 AND b.complete_at < ${before} AND b.results IN (${verdicts})
        AND b.number = (SELECT MAX(x.number) FROM builds x
                        WHERE x.master = b.master AND x.builderid = b.builderid
                          AND x.complete_at < ${before} AND x.results IN (${verdicts}))`.execute(this.db);
    return rows;
  }

  /** Tests that failed in [since, until) and never failed before `since`. */
  async firstFailures(since: number, until: number): Promise<FirstFailure[]> {
    const firstFailed = sql`outcome = 'failed' AND complete_at >= ${since} AND complete_at < ${until}
           AND test NOT IN (SELECT test FROM test_outcomes WHERE outcome = 'failed' AND complete_at < ${since})`;
    const { rows } = await sql<{ test: string; firstAt: number; builds: number }>`
      SELECT test, MIN(complete_at) AS "firstAt", COUNT(DISTINCT master || ':' || buildid) AS builds
      FROM test_outcomes WHERE ${firstFailed}
      GROUP BY test ORDER BY "firstAt", test`.execute(this.db);
    // The builders in a second query: no aggregate into a list is common to SQLite and PostgreSQL.
    const builders = new Map<string, string[]>();
    const pairs = await sql<{ test: string; builder: string }>`
      SELECT DISTINCT test, builder FROM test_outcomes WHERE ${firstFailed}`.execute(this.db);
    for (const r of pairs.rows) builders.set(r.test, [...(builders.get(r.test) ?? []), r.builder]);
    return rows.map((r) => ({
      test: r.test,
      firstAt: Number(r.firstAt),
      builds: Number(r.builds),
      builders: (builders.get(r.test) ?? []).sort(),
    }));
  }

  /** How often each test was flaky in [since, until). */
  async flakyBetween(since: number, until: number): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('test_outcomes')
      .select(['test', (eb) => eb.fn.countAll<number>().as('n')])
      .where('outcome', '=', 'flaky')
      .where('complete_at', '>=', since)
      .where('complete_at', '<', until)
      .groupBy('test')
      .execute();
    return new Map(rows.map((r) => [r.test, Number(r.n)]));
  }
}
