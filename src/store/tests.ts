import { sql } from 'kysely';
import { patternMatches } from '../config/pattern.js';
import type { FailureCause } from '../logs/failure-kind.js';
import {
  completeAnalysis,
  normalize,
  type RegrtestAnalysis,
  sameTest,
  type TestOutcome,
} from '../logs/regrtest.js';
import { failureReasons } from '../triage/targets.js';
import { type Db, inTransaction } from './db.js';

/** A build's analysis as stored: the parser's findings plus where the log is. */
export interface StoredAnalysis {
  master: string;
  buildid: number;
  builderid: number;
  number: number;
  status: 'pending' | 'done' | 'failed';
  /** The test log's analysis; undefined when the build has no test log (it failed before its tests). */
  analysis: RegrtestAnalysis | undefined;
  logUrl: string | undefined;
  /** Why a red or purple build failed; undefined for other builds and for analyses older than it. */
  cause: FailureCause | undefined;
  error: string | undefined;
  /** Whether the derived events (newfailure, flaky) of this build may be announced. */
  announce: boolean;
  attempts: number;
}

/** Per test over a period: how often each outcome happened, where, first and last. */
export interface TestStats {
  test: string;
  counts: Partial<Record<TestOutcome, number>>;
  builds: number;
  builders: string[];
  branches: string[];
  firstAt: number;
  lastAt: number;
  latest: { master: string; builderid: number; number: number; builder: string; outcome: TestOutcome };
}

/** A build that failed for a given reason (`!similar`). */
export interface SameReasonBuild {
  master: string;
  buildid: number;
  builderid: number;
  number: number;
  builder: string;
  key: string;
  /** Epoch seconds. */
  completedAt: number;
}

export interface KnownIssue {
  id: number;
  test: string;
  issue: string;
  /** A regular expression on builder names, or null for every builder. */
  builders: string | null;
  addedBy: string | null;
  addedAt: number;
}

const OUTCOMES: readonly TestOutcome[] = ['failed', 'flaky', 'envChanged', 'crashed', 'timedOut', 'leaked'];

/** Analyses, the history of every notable test, and known issues. */
export class TestStore {
  constructor(private readonly db: Db) {}

  /** Queues a build for analysis; false when it was queued (or analysed) before. */
  async enqueue(
    b: { master: string; buildid: number; builderid: number; number: number },
    announce: boolean,
    now = Date.now(),
  ): Promise<boolean> {
    const result = await this.db
      .insertInto('analyses')
      .values({
        master: b.master,
        buildid: b.buildid,
        builderid: b.builderid,
        number: b.number,
        status: 'pending',
        announce: announce ? 1 : 0,
        created_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async pending(limit = 50): Promise<StoredAnalysis[]> {
    const rows = await this.db
      .selectFrom('analyses')
      .selectAll()
      .where('status', '=', 'pending')
      .orderBy('created_at')
      .orderBy('master')
      .orderBy('buildid')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  async get(master: string, buildid: number): Promise<StoredAnalysis | undefined> {
    const row = await this.db
      .selectFrom('analyses')
      .selectAll()
      .where('master', '=', master)
      .where('buildid', '=', buildid)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /**
   * Stores a finished analysis (the test log's, when the build has one; why it failed, when it is
   * red or purple), the outcomes of its notable tests and the reasons of its failed tests
   * (src/triage/reason.ts, with `workers`' names masked), in one transaction. Saved again (read
   * again for tracebacks), the build's reasons are replaced.
   */
  async saveDone(
    key: { master: string; buildid: number; builderid: number; number: number },
    analysis: RegrtestAnalysis | undefined,
    logUrl: string | undefined,
    builder: { name: string; branch: string | null },
    completeAt: number,
    now = Date.now(),
    cause?: FailureCause,
    workers: readonly string[] = [],
  ): Promise<void> {
    const reasons = (analysis ? failureReasons(analysis, workers) : []).map((r) => ({
      master: key.master,
      buildid: key.buildid,
      builderid: key.builderid,
      number: key.number,
      builder: builder.name,
      reason_key: r.key,
      test: r.test,
      completed_at: completeAt,
    }));
    const outcomes = analysis
      ? OUTCOMES.flatMap((kind) =>
          analysis[kind].map((test) => ({
            master: key.master,
            buildid: key.buildid,
            builderid: key.builderid,
            number: key.number,
            builder: builder.name,
            branch: builder.branch,
            test,
            outcome: kind,
            complete_at: completeAt,
          })),
        )
      : [];
    await inTransaction(this.db, async (tx) => {
      await tx
        .insertInto('analyses')
        .values({
          master: key.master,
          buildid: key.buildid,
          builderid: key.builderid,
          number: key.number,
          status: 'done',
          result: analysis?.result ?? null,
          partial: analysis?.partial ? 1 : 0,
          data: analysis ? JSON.stringify(analysis) : null,
          log_url: logUrl ?? null,
          cause: cause ? JSON.stringify(cause) : null,
          created_at: now,
          analysed_at: now,
          attempts: 1,
          announce: 0,
        })
        .onConflict((oc) =>
          oc.columns(['master', 'buildid']).doUpdateSet((eb) => ({
            status: 'done',
            result: eb.ref('excluded.result'),
            partial: eb.ref('excluded.partial'),
            data: eb.ref('excluded.data'),
            log_url: eb.ref('excluded.log_url'),
            cause: eb.ref('excluded.cause'),
            analysed_at: eb.ref('excluded.analysed_at'),
            attempts: eb('analyses.attempts', '+', 1),
            error: null,
          })),
        )
        .execute();
      // Multi-row inserts, a page at a time (9 parameters a row).
      for (let i = 0; i < outcomes.length; i += 500) {
        await tx
          .insertInto('test_outcomes')
          .values(outcomes.slice(i, i + 500))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      await tx
        .deleteFrom('failure_reasons')
        .where('master', '=', key.master)
        .where('buildid', '=', key.buildid)
        .execute();
      // 8 parameters a row.
      for (let i = 0; i < reasons.length; i += 500)
        await tx
          .insertInto('failure_reasons')
          .values(reasons.slice(i, i + 500))
          .execute();
    });
  }

  /** The reasons a build's failed tests were stored with (empty for one analysed before they were kept). */
  async reasonsOf(master: string, buildid: number): Promise<Array<{ key: string; test: string }>> {
    const rows = await this.db
      .selectFrom('failure_reasons')
      .select(['reason_key', 'test'])
      .where('master', '=', master)
      .where('buildid', '=', buildid)
      .orderBy('reason_key')
      .execute();
    return rows.map((r) => ({ key: r.reason_key, test: r.test }));
  }

  /**
   * The builds that failed for one of `keys` since `sinceEpoch`, `exclude` apart, newest first:
   * at most `limit` per key.
   */
  async sameReason(
    keys: readonly string[],
    sinceEpoch: number,
    exclude: { master: string; buildid: number },
    limit: number,
  ): Promise<SameReasonBuild[]> {
    const out: SameReasonBuild[] = [];
    for (const key of keys) {
      const rows = await this.db
        .selectFrom('failure_reasons')
        .select(['master', 'buildid', 'builderid', 'number', 'builder', 'reason_key', 'completed_at'])
        .where('reason_key', '=', key)
        .where('completed_at', '>=', sinceEpoch)
        .where((eb) =>
          eb.not(eb.and([eb('master', '=', exclude.master), eb('buildid', '=', exclude.buildid)])),
        )
        .orderBy('completed_at', 'desc')
        .orderBy('master')
        .orderBy('buildid', 'desc')
        .limit(limit)
        .execute();
      for (const r of rows)
        out.push({
          master: r.master,
          buildid: r.buildid,
          builderid: r.builderid,
          number: r.number,
          builder: r.builder,
          key: r.reason_key,
          completedAt: r.completed_at,
        });
    }
    return out;
  }

  /** Records a failed attempt; gives up (status failed) when `final`. */
  async saveFailed(master: string, buildid: number, error: string, final: boolean): Promise<void> {
    await this.db
      .updateTable('analyses')
      .set((eb) => ({
        status: final ? 'failed' : 'pending',
        error: error.slice(0, 500),
        attempts: eb('attempts', '+', 1),
      }))
      .where('master', '=', master)
      .where('buildid', '=', buildid)
      .execute();
  }

  /** Test names that have history, matching `query` with or without `test.` and by unique prefix. */
  async resolveTest(query: string): Promise<string[]> {
    const wanted = normalize(query.trim());
    const exact = await this.db
      .selectFrom('test_outcomes')
      .select('test')
      .where('test', '=', wanted)
      .limit(1)
      .execute();
    if (exact.length > 0) return [wanted];
    const pattern = `${wanted.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const { rows } = await sql<{ test: string }>`
      SELECT DISTINCT test FROM test_outcomes WHERE test LIKE ${pattern} ESCAPE '\\' ORDER BY test LIMIT 20`.execute(
      this.db,
    );
    return rows.map((r) => r.test);
  }

  /** Every test name with history, sorted. */
  async testNames(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('test_outcomes')
      .select('test')
      .distinct()
      .orderBy('test')
      .execute();
    return rows.map((r) => r.test);
  }

  /** One test's history since `sinceEpoch`. */
  async stats(test: string, sinceEpoch: number): Promise<TestStats | undefined> {
    const rows = await this.db
      .selectFrom('test_outcomes')
      .selectAll()
      .where('test', '=', test)
      .where('complete_at', '>=', sinceEpoch)
      .orderBy('complete_at', 'desc')
      .orderBy('buildid', 'desc')
      .execute();
    return summarize(test, rows as OutcomeDbRow[]);
  }

  /** The tests that were flaky most often since `sinceEpoch`. */
  async flakiest(sinceEpoch: number, limit: number): Promise<TestStats[]> {
    const names = await this.db
      .selectFrom('test_outcomes')
      .select(['test', (eb) => eb.fn.countAll<number>().as('n')])
      .where('outcome', '=', 'flaky')
      .where('complete_at', '>=', sinceEpoch)
      .groupBy('test')
      .orderBy('n', 'desc')
      .orderBy('test')
      .limit(limit)
      .execute();
    const out: TestStats[] = [];
    for (const r of names) {
      const stats = await this.stats(r.test, sinceEpoch);
      if (stats) out.push(stats);
    }
    return out;
  }

  /** How many times each test was flaky since `sinceEpoch`. */
  async flakyCounts(tests: readonly string[], sinceEpoch: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>(tests.map((t) => [t, 0]));
    if (tests.length === 0) return counts;
    const rows = await this.db
      .selectFrom('test_outcomes')
      .select(['test', (eb) => eb.fn.countAll<number>().as('n')])
      .where('test', 'in', [...tests])
      .where('outcome', '=', 'flaky')
      .where('complete_at', '>=', sinceEpoch)
      .groupBy('test')
      .execute();
    for (const r of rows) counts.set(r.test, Number(r.n));
    return counts;
  }

  async addKnown(
    test: string,
    issue: string,
    builders: string | null,
    addedBy: string | null,
    now = Date.now(),
  ): Promise<boolean> {
    const result = await this.db
      .insertInto('known_issues')
      .values({ test, issue, builders, added_by: addedBy, added_at: now })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Removes the rules for `test` (only the one for `issue` when given); returns how many. */
  async removeKnown(test: string, issue?: string): Promise<number> {
    let query = this.db.deleteFrom('known_issues').where('test', '=', test);
    if (issue) query = query.where('issue', '=', issue);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async knownIssues(): Promise<KnownIssue[]> {
    const rows = await this.db.selectFrom('known_issues').selectAll().orderBy('test').orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      test: r.test,
      issue: r.issue,
      builders: r.builders,
      addedBy: r.added_by,
      addedAt: r.added_at,
    }));
  }

  /** The known issues that apply to `test` on `builder`. */
  async knownFor(test: string, builder: string): Promise<KnownIssue[]> {
    return (await this.knownIssues()).filter(
      (k) => sameTest(k.test, test) && (k.builders === null || patternMatches(k.builders, builder)),
    );
  }
}

interface AnalysisRow {
  master: string;
  buildid: number;
  builderid: number;
  number: number;
  status: 'pending' | 'done' | 'failed';
  data: string | null;
  log_url: string | null;
  cause: string | null;
  error: string | null;
  announce: number;
  attempts: number;
}

/** A row of test_outcomes as SQL returns it. */
export interface OutcomeDbRow {
  master: string;
  buildid: number;
  builderid: number;
  number: number;
  builder: string;
  branch: string | null;
  test: string;
  outcome: TestOutcome;
  complete_at: number;
}

function fromRow(row: AnalysisRow): StoredAnalysis {
  return {
    master: row.master,
    buildid: row.buildid,
    builderid: row.builderid,
    number: row.number,
    status: row.status,
    analysis: row.data ? completeAnalysis(JSON.parse(row.data) as RegrtestAnalysis) : undefined,
    logUrl: row.log_url ?? undefined,
    cause: row.cause ? (JSON.parse(row.cause) as FailureCause) : undefined,
    error: row.error ?? undefined,
    announce: row.announce === 1,
    attempts: row.attempts,
  };
}

function summarize(test: string, rows: OutcomeDbRow[]): TestStats | undefined {
  const newest = rows[0];
  const oldest = rows.at(-1);
  if (!newest || !oldest) return undefined;
  const counts: Partial<Record<TestOutcome, number>> = {};
  const builds = new Set<string>();
  for (const r of rows) {
    counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
    builds.add(`${r.master}:${r.buildid}`);
  }
  return {
    test,
    counts,
    builds: builds.size,
    builders: [...new Set(rows.map((r) => r.builder))].sort(),
    branches: [...new Set(rows.flatMap((r) => (r.branch ? [r.branch] : [])))].sort(),
    firstAt: oldest.complete_at,
    lastAt: newest.complete_at,
    latest: {
      master: newest.master,
      builderid: newest.builderid,
      number: newest.number,
      builder: newest.builder,
      outcome: newest.outcome,
    },
  };
}
