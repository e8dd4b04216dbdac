import type Database from 'better-sqlite3';
import {
  type DatabaseConnection,
  type Driver,
  SqliteDialect,
  type SqliteDatabase,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely';

/**
 * Kysely's SQLite dialect (better-sqlite3), with two changes that keep memory flat under load:
 * - callers waiting for the single connection are served first come, first served, each woken
 *   once. Kysely's own mutex wakes every waiter at each release and all but one wait again, so N
 *   queued queries cost N² wake-ups: under load (2,000 builders, 50 events/s) that was a quarter of
 *   everything the process allocated.
 * - prepared statements are kept (the most recently used `STATEMENTS`), where Kysely prepares each
 *   query anew: a statement holds native memory until the garbage collector finalises it.
 */
export class FifoSqliteDialect extends SqliteDialect {
  private readonly database: SqliteDatabase;

  constructor(file: Database.Database) {
    const database = cachingStatements(file);
    super({ database });
    this.database = database;
  }

  override createDriver(): Driver {
    return new FifoSqliteDriver({ database: this.database });
  }
}

/** How many prepared statements are kept: more than the distinct queries the bot runs. */
export const STATEMENTS = 256;

/**
 * `file`, whose `prepare` answers from a cache keyed by the SQL text (least recently used out).
 * Safe because statements are run one at a time (one connection, behind a lock) and never left
 * half-iterated.
 */
export function cachingStatements(file: Pick<Database.Database, 'prepare' | 'close'>): SqliteDatabase {
  const kept = new Map<string, SqliteStatement>();
  return {
    close: () => {
      kept.clear();
      file.close();
    },
    prepare(sql) {
      let stmt = kept.get(sql);
      if (stmt) kept.delete(sql);
      else stmt = file.prepare(sql);
      kept.set(sql, stmt);
      if (kept.size > STATEMENTS) kept.delete(kept.keys().next().value as string);
      return stmt;
    },
  };
}

/** A queue of turns on one resource; `release` hands it to the longest waiter. */
export class FifoLock {
  private held = false;
  private readonly waiting: Array<() => void> = [];

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }

  /** How many callers wait for a turn. */
  get queued(): number {
    return this.waiting.length;
  }
}

class FifoSqliteDriver extends SqliteDriver {
  private readonly turns = new FifoLock();

  // Only the holder of a turn reaches Kysely's mutex, which therefore never has a waiter.
  override async acquireConnection(): Promise<DatabaseConnection> {
    await this.turns.acquire();
    return super.acquireConnection();
  }

  override async releaseConnection(): Promise<void> {
    await super.releaseConnection();
    this.turns.release();
  }
}
