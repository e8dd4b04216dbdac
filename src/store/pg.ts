/**
 * The PostgreSQL store: the same synchronous Db the store's classes use on SQLite, over libpq's
 * blocking calls (pg-native). Each statement is a round trip that blocks the event loop, as a
 * SQLite write waiting on the disk does; on loopback or a LAN that is well under a millisecond.
 */
import pg from 'pg';
import Client from 'pg-native';
import type { Db, RunResult, Statement } from './db.js';
import { migratePostgres } from './pg-migrations.js';
import { type PgQuery, pgParams, toPostgres } from './pg-sql.js';

/** PQtransactionStatus when the connection is bad. */
const PQTRANS_UNKNOWN = 4;

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

/**
 * Connection settings bbwatch adds unless the URL sets them: TCP keepalives and a send timeout, so
 * that a database that vanished (a dead machine, a cut network) fails a statement within seconds
 * instead of blocking the process forever.
 */
const CONNECTION_DEFAULTS: Record<string, string> = {
  application_name: 'bbwatch',
  client_encoding: 'UTF8',
  connect_timeout: '10',
  keepalives: '1',
  keepalives_idle: '5',
  keepalives_interval: '2',
  keepalives_count: '3',
  tcp_user_timeout: '5000',
  // NOTICEs (`... already exists, skipping`) would be printed on stderr by libpq.
  options: '-c client_min_messages=warning',
};

/** The URL with bbwatch's connection defaults added where it does not set them. */
export function withDefaults(url: string, defaults: Record<string, string> = CONNECTION_DEFAULTS): string {
  const given = new URL(url).searchParams;
  // Percent-encoded by hand: URLSearchParams writes a space as '+', which libpq keeps as is.
  const added = Object.entries(defaults)
    .filter(([key]) => !given.has(key))
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`);
  if (added.length === 0) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${added.join('&')}`;
}

/** Connections just ended, kept referenced until libuv has closed their socket watchers. */
const closing = new Set<Client>();

/**
 * Ends a connection. node-libpq closes its socket watcher asynchronously (uv_close) but lets its
 * object be garbage-collected at once, and a collection before the close completes aborts the
 * process; so the object stays referenced for a moment.
 */
function finish(client: Client): void {
  client.end();
  closing.add(client);
  setTimeout(() => closing.delete(client), 1_000).unref();
}

export class PgDb implements Db {
  private client: Client;
  private depth = 0;
  private broken = false;
  private readonly queries = new Map<string, PgQuery>();
  /** Tables with an `id` column: an INSERT into one returns the id (SQLite's lastInsertRowid). */
  private idTables = new Set<string>();

  constructor(private readonly url: string) {
    this.client = this.connect();
  }

  prepare<P extends unknown[] | object = unknown[], R = unknown>(
    sql: string,
  ): Statement<P extends unknown[] ? P : [P], R> {
    const query = this.translate(sql);
    const statement: Statement<unknown[], R> = {
      run: (...params) => this.run(query, params),
      get: (...params) => this.query(query, params)[0] as R | undefined,
      all: (...params) => this.query(query, params) as R[],
    };
    return statement as Statement<P extends unknown[] ? P : [P], R>;
  }

  exec(sql: string): this {
    this.execute(sql);
    return this;
  }

  transaction<F extends (...args: never[]) => unknown>(fn: F): (...args: Parameters<F>) => ReturnType<F> {
    return (...args) => {
      const level = this.depth;
      const savepoint = `bbwatch_${level}`;
      this.execute(level === 0 ? 'BEGIN' : `SAVEPOINT ${savepoint}`);
      this.depth++;
      let result: ReturnType<F>;
      try {
        result = fn(...args) as ReturnType<F>;
        if (result instanceof Promise) throw new TypeError('a transaction function cannot return a promise');
      } catch (err) {
        this.depth = level;
        try {
          this.execute(level === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`);
        } catch {
          // The connection is gone, and the transaction with it.
        }
        throw err;
      }
      this.depth = level;
      this.execute(level === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`);
      return result;
    };
  }

  close(): void {
    finish(this.client);
  }

  /** Migrates the schema, then learns which tables have ids. */
  migrate(): void {
    migratePostgres(this);
    this.idTables = new Set(
      this.prepare<[], { table_name: string }>(
        `SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'id'`,
      )
        .all()
        .map((r) => r.table_name),
    );
  }

  private connect(): Client {
    const client = new Client({ types: TYPES });
    client.connectSync(withDefaults(this.url));
    this.broken = false;
    return client;
  }

  private translate(sql: string): PgQuery {
    let query = this.queries.get(sql);
    if (!query) {
      query = toPostgres(sql);
      // Built statements (IN lists of any length) must not grow the cache for ever.
      if (this.queries.size >= 1_000) this.queries.clear();
      this.queries.set(sql, query);
    }
    return query;
  }

  private run(query: PgQuery, params: unknown[]): RunResult {
    const returnsId =
      query.insertInto !== undefined && !query.returning && this.idTables.has(query.insertInto);
    const rows = this.execute(returnsId ? `${query.text} RETURNING id` : query.text, pgParams(query, params));
    const changes = Number(this.client.pq.cmdTuples()) || 0;
    return { changes, lastInsertRowid: returnsId ? Number(rows[0]?.id ?? 0) : 0 };
  }

  private query(query: PgQuery, params: unknown[]): Array<Record<string, unknown>> {
    const rows = this.execute(query.text, pgParams(query, params));
    if (query.aliases.size === 0) return rows;
    return rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) out[query.aliases.get(key) ?? key] = value;
      return out;
    });
  }

  private execute(text: string, values?: Array<string | null>): Array<Record<string, unknown>> {
    // A connection lost outside a transaction is opened again for the next statement (the failed
    // one has thrown); inside one, the transaction is lost and its statements throw until it ends.
    if (this.broken && this.depth === 0) {
      finish(this.client);
      this.client = this.connect();
    }
    try {
      return values ? this.client.querySync(text, values) : this.client.querySync(text);
    } catch (err) {
      if (this.client.pq.transactionStatus() === PQTRANS_UNKNOWN) this.broken = true;
      throw err;
    }
  }
}

/** Connects to PostgreSQL (a `postgres://` URL) and brings the schema up to date. */
export function openPostgres(url: string): Db {
  const db = new PgDb(url);
  try {
    db.migrate();
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
