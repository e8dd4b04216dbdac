/**
 * The PostgreSQL store: the same schema and queries as SQLite (src/store/db.ts), through kysely
 * over the async `pg` pool. Nothing here blocks the event loop; every session has a statement,
 * a lock and an idle-in-transaction timeout, so a stalled database fails a call instead of
 * holding it for ever.
 */
import {
  Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresDialect,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  sql,
  type UnknownRow,
  type ValueNode,
} from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { type Db, migrate, type Schema, schemaVersion } from './db.js';
import { LOCK_SPACE, MIGRATION_LOCK } from './pg-locks.js';

/** Per-session limits (milliseconds; 0 turns one off). */
export interface PgTimeouts {
  /** Longest a statement may run. */
  statementMs: number;
  /** Longest a statement waits for a lock. */
  lockMs: number;
  /** Longest a transaction may sit idle (its client stalled) before the server ends the session. */
  idleInTransactionMs: number;
}

export const DEFAULT_PG_TIMEOUTS: PgTimeouts = {
  statementMs: 5_000,
  lockMs: 3_000,
  idleInTransactionMs: 10_000,
};

/**
 * Column types read as SQLite gives them: BIGINT (OID 20, every integer column, COUNT) and NUMERIC
 * (OID 1700, SUM and AVG of integers) as numbers. Values past 2^53 are not stored.
 */
const TYPES = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (oid === 20 || oid === 1700) return Number;
    return pg.types.getTypeParser(oid, format === 'binary' ? 'binary' : 'text') as (value: string) => unknown;
  },
};

export interface PgOptions {
  timeouts?: Partial<PgTimeouts> | undefined;
  /** Where a connection that fails while idle in the pool is reported (it is replaced on next use). */
  log?: Logger | undefined;
  /** Connections kept at most (default 4). */
  max?: number;
}

/** The pool's settings: bbwatch's name, keepalives, connect and session timeouts. */
export function poolConfig(url: string, opts: PgOptions = {}): pg.PoolConfig {
  const t = { ...DEFAULT_PG_TIMEOUTS, ...opts.timeouts };
  return {
    connectionString: url,
    application_name: 'bbwatch',
    types: TYPES,
    max: opts.max ?? 4,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
    statement_timeout: t.statementMs,
    lock_timeout: t.lockMs,
    idle_in_transaction_session_timeout: t.idleInTransactionMs,
    // A statement the server never answers (a dead network) fails on the client too, a little later.
    query_timeout: t.statementMs > 0 ? t.statementMs + 2_000 : undefined,
    // NOTICEs (`... already exists, skipping`) are not worth a log line.
    options: '-c client_min_messages=warning',
  };
}

/** Connects to PostgreSQL (a `postgres://` URL) and brings the schema up to date. */
export async function openPostgres(url: string, opts: PgOptions = {}): Promise<Db> {
  const pool = new pg.Pool(poolConfig(url, opts));
  // An idle connection the server ended (a restart, pg_terminate_backend) must not end the process:
  // the pool drops it, and the next query opens a new one.
  pool.on('error', (err) => opts.log?.warn({ err: errorMessage(err) }, 'database connection lost (idle)'));
  // Nor one that fails while in use: its statement fails (and says why); the pool drops it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), plugins: [new NoNulPlugin()] });
  try {
    await migratePostgres(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

/** `\0` cannot be stored in PostgreSQL text (SQLite keeps it): it becomes U+FFFD. */
function withoutNul(value: unknown): unknown {
  return typeof value === 'string' && value.includes('\0') ? value.replace(/\0/g, '\uFFFD') : value;
}

class NoNulValues extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    const value = withoutNul(node.value);
    return value === node.value ? node : { ...node, value };
  }

  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return { ...node, values: node.values.map(withoutNul) };
  }
}

/**
 * Text from masters, logs and chat is untrusted: a NUL in it must not make a write fail (and a
 * build be fetched again for ever), so every string parameter is cleaned before it is sent.
 */
class NoNulPlugin implements KyselyPlugin {
  private readonly transformer = new NoNulValues();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node);
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}

/**
 * Brings the schema up to date; `schema_version` records the migrations applied. Under an
 * advisory lock, so that two processes starting together do not both migrate.
 */
/** How long migrating may take on PostgreSQL (statements and the wait for another migrator). */
const MIGRATION_TIMEOUT_MS = 10 * 60_000;

export async function migratePostgres(db: Db): Promise<void> {
  const known = schemaVersion();
  await db.transaction().execute(async (tx) => {
    // A migration may rewrite a whole table (the 9th copies the outbox, which is never pruned):
    // it gets minutes, not an ordinary statement's seconds; a second process starting meanwhile
    // waits as long for the lock below.
    await sql`SET LOCAL statement_timeout = ${sql.lit(`${MIGRATION_TIMEOUT_MS}ms`)}`.execute(tx);
    await sql`SET LOCAL lock_timeout = ${sql.lit(`${MIGRATION_TIMEOUT_MS}ms`)}`.execute(tx);
    await sql`SELECT pg_advisory_xact_lock(${LOCK_SPACE}, ${MIGRATION_LOCK})`.execute(tx);
    await sql`CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`.execute(
      tx,
    );
    const { rows } = await sql<{
      v: number;
    }>`SELECT COALESCE(MAX(version), 0) AS v FROM schema_version`.execute(tx);
    const current = Number(rows[0]?.v ?? 0);
    if (current > known) {
      throw new Error(
        `the database was written by a newer bbwatch (schema ${current}, this one knows ${known})`,
      );
    }
    for (let i = current; i < known; i++) {
      await migrate(tx, 'postgres', i);
      await sql`INSERT INTO schema_version (version, applied_at) VALUES (${i + 1}, ${Date.now()})`.execute(
        tx,
      );
    }
  });
}
