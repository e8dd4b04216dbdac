import { patternMatches } from '../config/pattern.js';
import type { FailureCause } from '../logs/failure-kind.js';
import {
  completeAnalysis,
  normalize,
  type RegrtestAnalysis,
  sameTest,
  type TestOutcome,
} from '../logs/regrtest.js';
import type { Db } from './db.js';

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
  enqueue(
    b: { master: string; buildid: number; builderid: number; number: number },
    announce: boolean,
    now = Date.now(),
  ): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO analyses (master, buildid, builderid, number, status, announce, created_at)
           VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(b.master, b.buildid, b.builderid, b.number, announce ? 1 : 0, now).changes === 1
    );
  }

  pending(limit = 50): StoredAnalysis[] {
    return this.db
      .prepare<[number], AnalysisRow>(
        `SELECT * FROM analyses WHERE status = 'pending' ORDER BY created_at, master, buildid LIMIT ?`,
      )
      .all(limit)
      .map(fromRow);
  }

  get(master: string, buildid: number): StoredAnalysis | undefined {
    const row = this.db
      .prepare<[string, number], AnalysisRow>('SELECT * FROM analyses WHERE master = ? AND buildid = ?')
      .get(master, buildid);
    return row ? fromRow(row) : undefined;
  }

  /**
   * Stores a finished analysis (the test log's, when the build has one; why it failed, when it is
   * red or purple) and the outcomes of its notable tests, in one transaction.
   */
  saveDone(
    key: { master: string; buildid: number; builderid: number; number: number },
    analysis: RegrtestAnalysis | undefined,
    logUrl: string | undefined,
    builder: { name: string; branch: string | null },
    completeAt: number,
    now = Date.now(),
    cause?: FailureCause,
  ): void {
    const upsert = this.db.prepare(
      `INSERT INTO analyses (master, buildid, builderid, number, status, result, partial, data, log_url, cause, created_at, analysed_at, attempts, announce)
       VALUES (@master, @buildid, @builderid, @number, 'done', @result, @partial, @data, @log_url, @cause, @now, @now, 1, 0)
       ON CONFLICT (master, buildid) DO UPDATE SET status = 'done', result = excluded.result, partial = excluded.partial,
         data = excluded.data, log_url = excluded.log_url, cause = excluded.cause, analysed_at = excluded.analysed_at,
         attempts = analyses.attempts + 1, error = NULL`,
    );
    const outcome = this.db.prepare(
      `INSERT INTO test_outcomes (master, buildid, builderid, number, builder, branch, test, outcome, complete_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.db.transaction(() => {
      upsert.run({
        ...key,
        result: analysis?.result ?? null,
        partial: analysis?.partial ? 1 : 0,
        data: analysis ? JSON.stringify(analysis) : null,
        log_url: logUrl ?? null,
        cause: cause ? JSON.stringify(cause) : null,
        now,
      });
      if (!analysis) return;
      for (const kind of OUTCOMES) {
        for (const test of analysis[kind]) {
          outcome.run(
            key.master,
            key.buildid,
            key.builderid,
            key.number,
            builder.name,
            builder.branch,
            test,
            kind,
            completeAt,
          );
        }
      }
    })();
  }

  /** Records a failed attempt; gives up (status failed) when `final`. */
  saveFailed(master: string, buildid: number, error: string, final: boolean): void {
    this.db
      .prepare(
        `UPDATE analyses SET status = ?, error = ?, attempts = attempts + 1 WHERE master = ? AND buildid = ?`,
      )
      .run(final ? 'failed' : 'pending', error.slice(0, 500), master, buildid);
  }

  /** Test names that have history, matching `query` with or without `test.` and by unique prefix. */
  resolveTest(query: string): string[] {
    const wanted = normalize(query.trim());
    const exact = this.db
      .prepare<[string], { test: string }>('SELECT DISTINCT test FROM test_outcomes WHERE test = ?')
      .all(wanted);
    if (exact.length > 0) return [wanted];
    return this.db
      .prepare<[string], { test: string }>(
        `SELECT DISTINCT test FROM test_outcomes WHERE test LIKE ? ESCAPE '\\' ORDER BY test LIMIT 20`,
      )
      .all(`${wanted.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
      .map((r) => r.test);
  }

  /** One test's history since `sinceEpoch`. */
  stats(test: string, sinceEpoch: number): TestStats | undefined {
    const rows = this.db
      .prepare<[string, number], OutcomeDbRow>(
        'SELECT * FROM test_outcomes WHERE test = ? AND complete_at >= ? ORDER BY complete_at DESC, buildid DESC',
      )
      .all(test, sinceEpoch);
    return summarize(test, rows);
  }

  /** The tests that were flaky most often since `sinceEpoch`. */
  flakiest(sinceEpoch: number, limit: number): TestStats[] {
    const names = this.db
      .prepare<[number, number], { test: string }>(
        `SELECT test, COUNT(*) AS n FROM test_outcomes WHERE outcome = 'flaky' AND complete_at >= ?
         GROUP BY test ORDER BY n DESC, test LIMIT ?`,
      )
      .all(sinceEpoch, limit);
    return names.flatMap((r) => this.stats(r.test, sinceEpoch) ?? []);
  }

  /** How many times each test was flaky since `sinceEpoch`. */
  flakyCounts(tests: readonly string[], sinceEpoch: number): Map<string, number> {
    const stmt = this.db.prepare<[string, number], { n: number }>(
      `SELECT COUNT(*) AS n FROM test_outcomes WHERE test = ? AND outcome = 'flaky' AND complete_at >= ?`,
    );
    return new Map(tests.map((t) => [t, stmt.get(t, sinceEpoch)?.n ?? 0]));
  }

  addKnown(
    test: string,
    issue: string,
    builders: string | null,
    addedBy: string | null,
    now = Date.now(),
  ): boolean {
    return (
      this.db
        .prepare(
          'INSERT INTO known_issues (test, issue, builders, added_by, added_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        )
        .run(test, issue, builders, addedBy, now).changes === 1
    );
  }

  /** Removes the rules for `test` (only the one for `issue` when given); returns how many. */
  removeKnown(test: string, issue?: string): number {
    if (issue)
      return this.db.prepare('DELETE FROM known_issues WHERE test = ? AND issue = ?').run(test, issue)
        .changes;
    return this.db.prepare('DELETE FROM known_issues WHERE test = ?').run(test).changes;
  }

  knownIssues(): KnownIssue[] {
    return this.db
      .prepare<[], KnownRow>('SELECT * FROM known_issues ORDER BY test, id')
      .all()
      .map((r) => ({
        id: r.id,
        test: r.test,
        issue: r.issue,
        builders: r.builders,
        addedBy: r.added_by,
        addedAt: r.added_at,
      }));
  }

  /** The known issues that apply to `test` on `builder`. */
  knownFor(test: string, builder: string): KnownIssue[] {
    return this.knownIssues().filter(
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

interface KnownRow {
  id: number;
  test: string;
  issue: string;
  builders: string | null;
  added_by: string | null;
  added_at: number;
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
