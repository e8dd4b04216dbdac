import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { makeDirs } from '../make-dirs.js';

/** What a statement run reports: rows changed, and the id of the row an INSERT created. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

/** A prepared statement: `?` placeholders (a list), or `@name` ones (one object). */
export interface Statement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/**
 * The store's database, synchronous: the part of better-sqlite3's API the store uses, which
 * better-sqlite3 provides as is and the PostgreSQL store (src/store/pg.ts) implements over libpq.
 * SQL written for it must run on both (see README, "Two replicas"): `ON CONFLICT ... DO NOTHING`
 * rather than `INSERT OR IGNORE`, no SQLite-only functions.
 */
export interface Db {
  prepare<P extends unknown[] | object = unknown[], R = unknown>(
    sql: string,
  ): Statement<P extends unknown[] ? P : [P], R>;
  exec(sql: string): unknown;
  /** Wraps `fn` in a transaction (a savepoint when nested); the wrapper runs it. */
  transaction<F extends (...args: never[]) => unknown>(fn: F): (...args: Parameters<F>) => ReturnType<F>;
  close(): unknown;
}

/** How many schema migrations this bbwatch knows (the PostgreSQL list must have as many). */
export function schemaVersion(): number {
  return MIGRATIONS.length;
}

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
 * Append only: never edit a migration that has shipped.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE builders (
    master TEXT NOT NULL,
    builderid INTEGER NOT NULL,
    name TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    description TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (master, builderid)
  );
  CREATE TABLE builds (
    master TEXT NOT NULL,
    buildid INTEGER NOT NULL,
    builderid INTEGER NOT NULL,
    number INTEGER NOT NULL,
    results INTEGER,
    state_string TEXT NOT NULL DEFAULT '',
    started_at INTEGER,
    complete_at INTEGER,
    PRIMARY KEY (master, buildid)
  );
  CREATE INDEX builds_by_builder ON builds (master, builderid, number DESC);
  CREATE TABLE announcements (
    id INTEGER PRIMARY KEY,
    master TEXT NOT NULL,
    buildid INTEGER NOT NULL,
    event TEXT NOT NULL,
    destination TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (master, buildid, event, destination)
  );
  CREATE INDEX announcements_pending ON announcements (status, id);
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: test-log intelligence.
  `
  CREATE TABLE analyses (
    master TEXT NOT NULL,
    buildid INTEGER NOT NULL,
    builderid INTEGER NOT NULL,
    number INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    result TEXT,
    partial INTEGER,
    data TEXT,
    log_url TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    announce INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    analysed_at INTEGER,
    PRIMARY KEY (master, buildid)
  );
  CREATE INDEX analyses_pending ON analyses (status, created_at);
  CREATE TABLE test_outcomes (
    master TEXT NOT NULL,
    buildid INTEGER NOT NULL,
    builderid INTEGER NOT NULL,
    number INTEGER NOT NULL,
    builder TEXT NOT NULL,
    branch TEXT,
    test TEXT NOT NULL,
    outcome TEXT NOT NULL,
    complete_at INTEGER NOT NULL,
    PRIMARY KEY (master, buildid, test, outcome)
  );
  CREATE INDEX test_outcomes_by_test ON test_outcomes (test, complete_at);
  CREATE INDEX test_outcomes_by_time ON test_outcomes (complete_at);
  CREATE TABLE known_issues (
    id INTEGER PRIMARY KEY,
    test TEXT NOT NULL,
    issue TEXT NOT NULL,
    builders TEXT,
    added_by TEXT,
    added_at INTEGER NOT NULL,
    UNIQUE (test, issue, builders)
  );
  `,
  // 3: force, stop, rebuild.
  `
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    platform TEXT NOT NULL,
    room TEXT NOT NULL,
    identity TEXT,
    name TEXT NOT NULL,
    command TEXT NOT NULL,
    args TEXT NOT NULL,
    master TEXT,
    outcome TEXT NOT NULL,
    detail TEXT
  );
  CREATE INDEX audit_by_identity ON audit (identity, at);
  CREATE TABLE followups (
    id INTEGER PRIMARY KEY,
    master TEXT NOT NULL,
    brid INTEGER NOT NULL,
    room TEXT NOT NULL,
    requester TEXT NOT NULL,
    identity TEXT,
    created_at INTEGER NOT NULL,
    buildid INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    UNIQUE (master, brid, room)
  );
  CREATE INDEX followups_open ON followups (finished_at, master);
  `,
  // 4: runtime subscriptions, mutes and snoozes, announcements held back while muted.
  `
  CREATE TABLE subscriptions (
    room TEXT NOT NULL,
    event TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    branches TEXT,
    tags TEXT,
    builders TEXT,
    set_by TEXT,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (room, event)
  );
  CREATE TABLE mutes (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('room', 'builder')),
    target TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    until INTEGER NOT NULL,
    ended_at INTEGER,
    set_by TEXT
  );
  CREATE INDEX mutes_active ON mutes (ended_at, kind, target);
  CREATE TABLE held (
    id INTEGER PRIMARY KEY,
    mute_id INTEGER NOT NULL REFERENCES mutes (id),
    room TEXT NOT NULL,
    text TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX held_by_mute ON held (mute_id, room);
  `,
  // 5: the dashboard: a builder's test history, the flakiest-tests ranking, per-test counts
  // (covering: answered from the index alone).
  `
  CREATE INDEX test_outcomes_by_builder ON test_outcomes (master, builderid, complete_at);
  CREATE INDEX test_outcomes_by_outcome ON test_outcomes (outcome, complete_at, test);
  CREATE INDEX test_outcomes_counts ON test_outcomes (test, complete_at, outcome, builder);
  `,
  // 6: why a red or purple build failed (src/logs/failure-kind.ts), as JSON.
  `
  ALTER TABLE analyses ADD COLUMN cause TEXT;
  `,
];

/** Opens (creating if needed) the SQLite file and brings its schema up to date. */
export function openDb(path: string): Db {
  // better-sqlite3's Database is a Db at run time; its overloaded generic typings are not provably so.
  return openSqlite(path) as unknown as Db;
}

function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') makeDirs(dirname(path));
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the database was written by a newer bbwatch (schema ${current}, this one knows ${MIGRATIONS.length})`,
    );
  }
  for (let i = current; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i] as string);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
