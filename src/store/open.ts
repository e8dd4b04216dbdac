import type { Logger } from 'pino';
import { type Db, openDb } from './db.js';
import type { PgTimeouts } from './pg.js';

/** Where the store is: a SQLite file, or a PostgreSQL database (which then wins); its limits. */
export interface StoreLocation {
  storage: string;
  postgres?: string | undefined;
  store?: StoreLimits | undefined;
}

/** The `store:` settings: how long a call may wait before it fails (milliseconds). */
export interface StoreLimits {
  statement_timeout?: number;
  lock_timeout?: number;
  idle_in_transaction_timeout?: number;
  busy_timeout?: number;
}

/** Opens the store, migrated. PostgreSQL's module (and the pg driver) loads only when configured. */
export async function openStore(where: StoreLocation, log?: Logger): Promise<Db> {
  const limits = where.store ?? {};
  if (!where.postgres) {
    return openDb(
      where.storage,
      limits.busy_timeout === undefined ? {} : { busyTimeoutMs: limits.busy_timeout },
    );
  }
  const { openPostgres } = await import('./pg.js');
  const timeouts: Partial<PgTimeouts> = {};
  if (limits.statement_timeout !== undefined) timeouts.statementMs = limits.statement_timeout;
  if (limits.lock_timeout !== undefined) timeouts.lockMs = limits.lock_timeout;
  if (limits.idle_in_transaction_timeout !== undefined)
    timeouts.idleInTransactionMs = limits.idle_in_transaction_timeout;
  return openPostgres(where.postgres, { timeouts, log });
}
