import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type ColumnDefinitionBuilder, type Generated, Kysely, PostgresAdapter, sql } from 'kysely';
import { makeDirs } from '../make-dirs.js';
import { FifoSqliteDialect } from './sqlite-dialect.js';
import type { OutboxKind } from './outbox.js';

/**
 * The store's database: one schema, one migration list and one query language for SQLite
 * (better-sqlite3, embedded; the default) and PostgreSQL (the async `pg` pool; src/store/pg.ts).
 * Every call is asynchronous. A transaction is a handle: `db.transaction().execute(async (tx) =>
 * ...)`, and a store class built over `tx` writes inside it (see `inTransaction`).
 */
export type Db = Kysely<Schema>;

/** Integer columns read back as numbers on both dialects (PostgreSQL's BIGINT included). */
export interface Schema {
  builders: {
    master: string;
    builderid: number;
    name: string;
    tags: string;
    description: string | null;
    active: number;
  };
  builds: {
    master: string;
    buildid: number;
    builderid: number;
    number: number;
    results: number | null;
    state_string: string;
    started_at: number | null;
    complete_at: number | null;
  };
  /** The outbox; (kind, subject, event, destination) is its once-only key (src/store/outbox.ts, OutboxKey). */
  announcements: {
    id: Generated<number>;
    /** src/store/outbox.ts: OutboxKind. */
    kind: OutboxKind;
    subject: string;
    event: string;
    master: string | null;
    buildid: number | null;
    destination: string;
    status: 'pending' | 'sent' | 'failed';
    message: string;
    created_at: number;
    sent_at: number | null;
    attempts: Generated<number>;
    last_error: string | null;
  };
  meta: { key: string; value: string };
  analyses: {
    master: string;
    buildid: number;
    builderid: number;
    number: number;
    status: 'pending' | 'done' | 'failed';
    result: string | null;
    partial: number | null;
    data: string | null;
    log_url: string | null;
    error: string | null;
    attempts: Generated<number>;
    announce: Generated<number>;
    created_at: number;
    analysed_at: number | null;
    cause: string | null;
  };
  test_outcomes: {
    master: string;
    buildid: number;
    builderid: number;
    number: number;
    builder: string;
    branch: string | null;
    test: string;
    outcome: string;
    complete_at: number;
  };
  known_issues: {
    id: Generated<number>;
    test: string;
    issue: string;
    builders: string | null;
    added_by: string | null;
    added_at: number;
  };
  audit: {
    id: Generated<number>;
    at: number;
    platform: string;
    room: string;
    identity: string | null;
    name: string;
    command: string;
    args: string;
    master: string | null;
    outcome: string;
    detail: string | null;
  };
  followups: {
    id: Generated<number>;
    master: string;
    brid: number;
    room: string;
    requester: string;
    identity: string | null;
    created_at: number;
    buildid: number | null;
    started_at: number | null;
    finished_at: number | null;
  };
  subscriptions: {
    room: string;
    event: string;
    enabled: number;
    branches: string | null;
    tags: string | null;
    builders: string | null;
    set_by: string | null;
    set_at: number;
  };
  mutes: {
    id: Generated<number>;
    kind: 'room' | 'builder';
    target: string;
    started_at: number;
    until: number;
    ended_at: number | null;
    set_by: string | null;
  };
  held: { id: Generated<number>; mute_id: number; room: string; text: string; at: number };
  failure_reasons: {
    master: string;
    buildid: number;
    builderid: number;
    number: number;
    builder: string;
    reason_key: string;
    test: string;
    completed_at: number;
  };
  announce_groups: {
    id: Generated<number>;
    destination: string;
    lead_master: string;
    lead_buildid: number;
    opened_at: number;
    lead: string;
    reason_keys: string | null;
    reason: string | null;
    revision: string | null;
    ref: string | null;
    members: string;
    recovered: string | null;
    culprit: string | null;
  };
}

export type Dialect = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<unknown>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

let savepoints = 0;

/**
 * Runs `fn` in a transaction: a new one; or, when `db` is a transaction already, a savepoint in
 * it (so that a failure inside undoes only `fn`'s part, should the caller carry on).
 */
export async function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  if (!db.isTransaction) return db.transaction().execute(fn);
  // A name of ours, not input: SAVEPOINT takes no parameters.
  const name = `bbwatch_${++savepoints}`;
  await sql.raw(`SAVEPOINT ${name}`).execute(db);
  try {
    const result = await fn(db);
    await sql.raw(`RELEASE SAVEPOINT ${name}`).execute(db);
    return result;
  } catch (err) {
    await sql
      .raw(`ROLLBACK TO SAVEPOINT ${name}`)
      .execute(db)
      .catch(() => undefined); // the connection is gone, and the transaction with it
    throw err;
  }
}

/** How many schema migrations this bbwatch knows. */
export function schemaVersion(): number {
  return MIGRATIONS.length;
}

/**
 * The column types of one dialect. PostgreSQL: text compared and sorted byte-wise, as SQLite does
 * (not by the database's locale); every integer BIGINT (epoch milliseconds do not fit in INTEGER);
 * ids are identity columns (SQLite's `INTEGER PRIMARY KEY` is its rowid).
 */
function types(dialect: Dialect) {
  const pg = dialect === 'postgres';
  return {
    text: pg ? sql`text collate "C"` : sql`text`,
    int: pg ? sql`bigint` : sql`integer`,
    id: (c: ColumnDefinitionBuilder) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey()),
  };
}

type Step = (db: Db, dialect: Dialect) => Promise<void>;

/**
 * Schema migrations, applied in order, each in a transaction; SQLite's `PRAGMA user_version` and
 * PostgreSQL's `schema_version` table record how many ran (databases written by earlier bbwatch
 * versions, whose migrations were SQL text, carry on from their count). Append only: never edit a
 * migration that has shipped.
 */
const MIGRATIONS: readonly Step[] = [
  async (db, dialect) => {
    const { text, int, id } = types(dialect);
    const s = db.schema;
    await s
      .createTable('builders')
      .addColumn('master', text, (c) => c.notNull())
      .addColumn('builderid', int, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('tags', text, (c) => c.notNull().defaultTo('[]'))
      .addColumn('description', text)
      .addColumn('active', int, (c) => c.notNull().defaultTo(1))
      .addPrimaryKeyConstraint('builders_pkey', ['master', 'builderid'])
      .execute();
    await s
      .createTable('builds')
      .addColumn('master', text, (c) => c.notNull())
      .addColumn('buildid', int, (c) => c.notNull())
      .addColumn('builderid', int, (c) => c.notNull())
      .addColumn('number', int, (c) => c.notNull())
      .addColumn('results', int)
      .addColumn('state_string', text, (c) => c.notNull().defaultTo(''))
      .addColumn('started_at', int)
      .addColumn('complete_at', int)
      .addPrimaryKeyConstraint('builds_pkey', ['master', 'buildid'])
      .execute();
    await s
      .createIndex('builds_by_builder')
      .on('builds')
      .columns(['master', 'builderid', 'number desc'])
      .execute();
    await s
      .createTable('announcements')
      .addColumn('id', int, id)
      .addColumn('master', text, (c) => c.notNull())
      .addColumn('buildid', int, (c) => c.notNull())
      .addColumn('event', text, (c) => c.notNull())
      .addColumn('destination', text, (c) => c.notNull())
      .addColumn('status', text, (c) => c.notNull().check(sql`status IN ('pending', 'sent', 'failed')`))
      .addColumn('message', text, (c) => c.notNull())
      .addColumn('created_at', int, (c) => c.notNull())
      .addColumn('sent_at', int)
      .addColumn('attempts', int, (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', text)
      .addUniqueConstraint('announcements_once', ['master', 'buildid', 'event', 'destination'])
      .execute();
    await s.createIndex('announcements_pending').on('announcements').columns(['status', 'id']).execute();
    await s
      .createTable('meta')
      .addColumn('key', text, (c) => c.primaryKey())
      .addColumn('value', text, (c) => c.notNull())
      .execute();
  },
  // 2: test-log intelligence.
  async (db, dialect) => {
    const { text, int, id } = types(dialect);
    const s = db.schema;
    await s
      .createTable('analyses')
      .addColumn('master', text, (c) => c.notNull())
      .addColumn('buildid', int, (c) => c.notNull())
      .addColumn('builderid', int, (c) => c.notNull())
      .addColumn('number', int, (c) => c.notNull())
      .addColumn('status', text, (c) => c.notNull().check(sql`status IN ('pending', 'done', 'failed')`))
      .addColumn('result', text)
      .addColumn('partial', int)
      .addColumn('data', text)
      .addColumn('log_url', text)
      .addColumn('error', text)
      .addColumn('attempts', int, (c) => c.notNull().defaultTo(0))
      .addColumn('announce', int, (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', int, (c) => c.notNull())
      .addColumn('analysed_at', int)
      .addPrimaryKeyConstraint('analyses_pkey', ['master', 'buildid'])
      .execute();
    await s.createIndex('analyses_pending').on('analyses').columns(['status', 'created_at']).execute();
    await s
      .createTable('test_outcomes')
      .addColumn('master', text, (c) => c.notNull())
      .addColumn('buildid', int, (c) => c.notNull())
      .addColumn('builderid', int, (c) => c.notNull())
      .addColumn('number', int, (c) => c.notNull())
      .addColumn('builder', text, (c) => c.notNull())
      .addColumn('branch', text)
      .addColumn('test', text, (c) => c.notNull())
      .addColumn('outcome', text, (c) => c.notNull())
      .addColumn('complete_at', int, (c) => c.notNull())
      .addPrimaryKeyConstraint('test_outcomes_pkey', ['master', 'buildid', 'test', 'outcome'])
      .execute();
    await s
      .createIndex('test_outcomes_by_test')
      .on('test_outcomes')
      .columns(['test', 'complete_at'])
      .execute();
    await s.createIndex('test_outcomes_by_time').on('test_outcomes').column('complete_at').execute();
    await s
      .createTable('known_issues')
      .addColumn('id', int, id)
      .addColumn('test', text, (c) => c.notNull())
      .addColumn('issue', text, (c) => c.notNull())
      .addColumn('builders', text)
      .addColumn('added_by', text)
      .addColumn('added_at', int, (c) => c.notNull())
      .addUniqueConstraint('known_issues_once', ['test', 'issue', 'builders'])
      .execute();
  },
  // 3: force, stop, rebuild.
  async (db, dialect) => {
    const { text, int, id } = types(dialect);
    const s = db.schema;
    await s
      .createTable('audit')
      .addColumn('id', int, id)
      .addColumn('at', int, (c) => c.notNull())
      .addColumn('platform', text, (c) => c.notNull())
      .addColumn('room', text, (c) => c.notNull())
      .addColumn('identity', text)
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('command', text, (c) => c.notNull())
      .addColumn('args', text, (c) => c.notNull())
      .addColumn('master', text)
      .addColumn('outcome', text, (c) => c.notNull())
      .addColumn('detail', text)
      .execute();
    await s.createIndex('audit_by_identity').on('audit').columns(['identity', 'at']).execute();
    await s
      .createTable('followups')
      .addColumn('id', int, id)
      .addColumn('master', text, (c) => c.notNull())
      .addColumn('brid', int, (c) => c.notNull())
      .addColumn('room', text, (c) => c.notNull())
      .addColumn('requester', text, (c) => c.notNull())
      .addColumn('identity', text)
      .addColumn('created_at', int, (c) => c.notNull())
      .addColumn('buildid', int)
      .addColumn('started_at', int)
      .addColumn('finished_at', int)
      .addUniqueConstraint('followups_once', ['master', 'brid', 'room'])
      .execute();
    await s.createIndex('followups_open').on('followups').columns(['finished_at', 'master']).execute();
  },
  // 4: runtime subscriptions, mutes and snoozes, announcements held back while muted.
  async (db, dialect) => {
    const { text, int, id } = types(dialect);
    const s = db.schema;
    await s
      .createTable('subscriptions')
      .addColumn('room', text, (c) => c.notNull())
      .addColumn('event', text, (c) => c.notNull())
      .addColumn('enabled', int, (c) => c.notNull())
      .addColumn('branches', text)
      .addColumn('tags', text)
      .addColumn('builders', text)
      .addColumn('set_by', text)
      .addColumn('set_at', int, (c) => c.notNull())
      .addPrimaryKeyConstraint('subscriptions_pkey', ['room', 'event'])
      .execute();
    await s
      .createTable('mutes')
      .addColumn('id', int, id)
      .addColumn('kind', text, (c) => c.notNull().check(sql`kind IN ('room', 'builder')`))
      .addColumn('target', text, (c) => c.notNull())
      .addColumn('started_at', int, (c) => c.notNull())
      .addColumn('until', int, (c) => c.notNull())
      .addColumn('ended_at', int)
      .addColumn('set_by', text)
      .execute();
    await s.createIndex('mutes_active').on('mutes').columns(['ended_at', 'kind', 'target']).execute();
    await s
      .createTable('held')
      .addColumn('id', int, id)
      .addColumn('mute_id', int, (c) => c.notNull().references('mutes.id'))
      .addColumn('room', text, (c) => c.notNull())
      .addColumn('text', text, (c) => c.notNull())
      .addColumn('at', int, (c) => c.notNull())
      .execute();
    await s.createIndex('held_by_mute').on('held').columns(['mute_id', 'room']).execute();
  },
  // 5: the dashboard: a builder's test history, the flakiest-tests ranking, per-test counts
  // (covering: answered from the index alone).
  async (db) => {
    const s = db.schema;
    await s
      .createIndex('test_outcomes_by_builder')
      .on('test_outcomes')
      .columns(['master', 'builderid', 'complete_at'])
      .execute();
    await s
      .createIndex('test_outcomes_by_outcome')
      .on('test_outcomes')
      .columns(['outcome', 'complete_at', 'test'])
      .execute();
    await s
      .createIndex('test_outcomes_counts')
      .on('test_outcomes')
      .columns(['test', 'complete_at', 'outcome', 'builder'])
      .execute();
  },
  // 6: why a red or purple build failed (src/logs/failure-kind.ts), as JSON.
  async (db, dialect) => {
    await db.schema.alterTable('analyses').addColumn('cause', types(dialect).text).execute();
  },
  // 7: each analysed build's failure reasons (src/triage/reason.ts), for `!similar`: the builds
  // that failed the same way, newest first.
  async (db, dialect) => {
    const { text, int } = types(dialect);
    const s = db.schema;
    await s
      .createTable('failure_reasons')
      .addColumn('master', text, (c) => c.notNull())
      .addColumn('buildid', int, (c) => c.notNull())
      .addColumn('builderid', int, (c) => c.notNull())
      .addColumn('number', int, (c) => c.notNull())
      .addColumn('builder', text, (c) => c.notNull())
      .addColumn('reason_key', text, (c) => c.notNull())
      .addColumn('test', text, (c) => c.notNull())
      .addColumn('completed_at', int, (c) => c.notNull())
      .addPrimaryKeyConstraint('failure_reasons_pkey', ['master', 'buildid', 'reason_key'])
      .execute();
    await s
      .createIndex('failure_reasons_by_reason')
      .on('failure_reasons')
      .columns(['reason_key', 'completed_at'])
      .execute();
  },
  // 8: the outbox says what each row is (src/store/outbox.ts, OutboxKind) instead of the event's
  // spelling telling it: rows already there get their kind from the events that made them.
  async (db, dialect) => {
    await db.schema
      .alterTable('announcements')
      .addColumn('kind', types(dialect).text, (c) => c.notNull().defaultTo('announcement'))
      .execute();
    const kinds: ReadonlyArray<[OutboxKind, string]> = [
      ['details', '%:details'],
      ['follow-up', 'force-%'],
      ['digest', 'digest'],
      ['mute-summary', 'mute-summary'],
      ['worker', 'worker-%'],
    ];
    for (const [kind, event] of kinds) {
      await db.updateTable('announcements').set({ kind }).where('event', 'like', event).execute();
    }
    await db.schema
      .createIndex('announcements_last_sent')
      .on('announcements')
      .columns(['destination', 'kind', 'event', 'status'])
      .execute();
  },
  // 9: the outbox's once-only key says what a row is about (src/store/outbox.ts, OutboxKey):
  // (kind, subject, event, destination), instead of digests, mute summaries and worker alerts
  // borrowing `master`/`buildid` and details rows an event suffix. A unique key cannot be changed
  // in place (SQLite), so the table is rebuilt; each old row's key is computed from its columns,
  // so that what was sent before still blocks the same message after.
  async (db, dialect) => {
    const { text, int, id } = types(dialect);
    await db.schema
      .createTable('announcements_next')
      .addColumn('id', int, id)
      .addColumn('kind', text, (c) => c.notNull())
      .addColumn('subject', text, (c) => c.notNull())
      .addColumn('event', text, (c) => c.notNull())
      .addColumn('master', text)
      .addColumn('buildid', int)
      .addColumn('destination', text, (c) => c.notNull())
      .addColumn('status', text, (c) => c.notNull().check(sql`status IN ('pending', 'sent', 'failed')`))
      .addColumn('message', text, (c) => c.notNull())
      .addColumn('created_at', int, (c) => c.notNull())
      .addColumn('sent_at', int)
      .addColumn('attempts', int, (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', text)
      .addUniqueConstraint('outbox_once', ['kind', 'subject', 'event', 'destination'])
      .execute();
    // The old rows' keys, by kind (as migration 8 set it from the event). A worker alert's event
    // was `worker-<missing|back>:<seconds it went away>`: its seconds move to the subject. Only
    // functions both dialects have (substr, length, rtrim, ||).
    const digits = sql.lit('0123456789');
    const colon = sql.lit(':');
    const old = db.selectFrom('announcements');
    const copy = old.select((eb) => {
      const cat = (...parts: Parameters<typeof sql.join>[0]) => sql<string>`${sql.join(parts, sql` || `)}`;
      const kind = eb.ref('kind');
      const master = eb.ref('master');
      const buildid = eb.ref('buildid');
      const event = eb.ref('event');
      const onBuild = eb(kind, 'in', ['announcement', 'details', 'follow-up']);
      const workerSince = eb.fn<string>('substr', [
        event,
        eb(eb.fn('length', [eb.fn('rtrim', [event, digits])]), '+', 1),
      ]);
      return [
        'id',
        'kind',
        eb
          .case(kind)
          .when('digest')
          .then(cat(sql.lit('digest:'), buildid))
          .when('mute-summary')
          .then(cat(sql.lit('mute:'), buildid))
          .when('worker')
          .then(cat(sql.lit('worker:'), master, colon, buildid, colon, workerSince))
          .else(cat(sql.lit('build:'), master, colon, buildid))
          .end()
          .as('subject'),
        eb
          .case(kind)
          .when('details')
          .then(eb.fn<string>('substr', [event, sql.lit(1), eb(eb.fn('length', [event]), '-', 8)]))
          .when('worker')
          .then(eb.fn<string>('rtrim', [eb.fn('rtrim', [event, digits]), colon]))
          .else(event)
          .end()
          .as('event'),
        eb
          .case()
          .when(kind, 'in', ['digest', 'mute-summary'])
          .then(sql<null>`NULL`)
          .else(master)
          .end()
          .as('master'),
        eb
          .case()
          .when(onBuild)
          .then(buildid)
          .else(sql<null>`NULL`)
          .end()
          .as('buildid'),
        'destination',
        'status',
        'message',
        'created_at',
        'sent_at',
        'attempts',
        'last_error',
      ];
    });
    await db
      .withTables<{ announcements_next: Schema['announcements'] }>()
      .insertInto('announcements_next')
      .columns([
        'id',
        'kind',
        'subject',
        'event',
        'master',
        'buildid',
        'destination',
        'status',
        'message',
        'created_at',
        'sent_at',
        'attempts',
        'last_error',
      ])
      .expression(copy)
      .execute();
    if (dialect === 'postgres') {
      // The ids were copied: the identity's sequence (which explicit ids do not advance) must go on
      // after them, or the next row would take an old one's id and be dropped as a duplicate by
      // `add`'s ON CONFLICT DO NOTHING. (SQLite takes the largest rowid + 1 by itself.) PostgreSQL's
      // own functions: no portable way to say it. The names stay those of `announcements_next`
      // (its primary key's index, its sequence): kysely cannot rename them, and nothing uses them.
      await db
        .selectNoFrom((eb) =>
          eb
            .fn('setval', [
              eb.fn('pg_get_serial_sequence', [sql.lit('announcements_next'), sql.lit('id')]),
              eb(
                eb.fn.coalesce(
                  eb.selectFrom('announcements').select((e) => e.fn.max('id').as('m')),
                  sql.lit(0),
                ),
                '+',
                sql.lit(1),
              ),
              sql.lit(false),
            ])
            .as('next'),
        )
        .execute();
    }
    await db.schema.dropTable('announcements').execute();
    await db.schema.alterTable('announcements_next').renameTo('announcements').execute();
    await db.schema
      .createIndex('announcements_pending')
      .on('announcements')
      .columns(['status', 'id'])
      .execute();
    await db.schema
      .createIndex('announcements_last_sent')
      .on('announcements')
      .columns(['destination', 'kind', 'event', 'status'])
      .execute();
  },
  // 10: the failure groups announced per destination (src/store/groups.ts): which builders joined a
  // failure's message and the platform's reference to that message, so that a restart edits
  // the same message and names no builder twice.
  async (db, dialect) => {
    const { text, int, id } = types(dialect);
    const s = db.schema;
    await s
      .createTable('announce_groups')
      .addColumn('id', int, id)
      .addColumn('destination', text, (c) => c.notNull())
      .addColumn('lead_master', text, (c) => c.notNull())
      .addColumn('lead_buildid', int, (c) => c.notNull())
      .addColumn('opened_at', int, (c) => c.notNull())
      .addColumn('lead', text, (c) => c.notNull())
      .addColumn('reason_keys', text)
      .addColumn('reason', text)
      .addColumn('revision', text)
      .addColumn('ref', text)
      .addColumn('members', text, (c) => c.notNull())
      .execute();
    await s
      .createIndex('announce_groups_lead')
      .unique()
      .on('announce_groups')
      .columns(['destination', 'lead_master', 'lead_buildid'])
      .execute();
    await s
      .createIndex('announce_groups_open')
      .on('announce_groups')
      .columns(['destination', 'opened_at'])
      .execute();
  },
  // 11: what a group's later lines said once: the builds that brought its builders back to green
  // (its recovery lines), and the likely culprit (its first also-on line); so that a restart
  // repeats neither (src/notify/delivery-queue.ts).
  async (db) => {
    await db.schema.alterTable('announce_groups').addColumn('recovered', 'text').execute();
    await db.schema.alterTable('announce_groups').addColumn('culprit', 'text').execute();
  },
];

/** Runs migration `index` (0-based) inside the caller's transaction `tx`. */
export function migrate(tx: Db, dialect: Dialect, index: number): Promise<void> {
  const step = MIGRATIONS[index];
  if (!step) throw new RangeError(`no migration ${index + 1}`);
  return step(tx, dialect);
}

/** SQLite settings: how long a statement waits for a lock another process holds. */
export interface SqliteOptions {
  busyTimeoutMs?: number;
}

/** Opens (creating if needed) the SQLite file and brings its schema up to date. */
export async function openDb(path: string, opts: SqliteOptions = {}): Promise<Db> {
  if (path !== ':memory:') makeDirs(dirname(path));
  const file = new Database(path);
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = NORMAL');
  file.pragma(`busy_timeout = ${Math.max(0, Math.round(opts.busyTimeoutMs ?? 5_000))}`);
  file.pragma('foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new FifoSqliteDialect(file) });
  try {
    await migrateSqlite(db, file);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

async function migrateSqlite(db: Db, file: Database.Database): Promise<void> {
  const current = file.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the database was written by a newer bbwatch (schema ${current}, this one knows ${MIGRATIONS.length})`,
    );
  }
  for (let i = current; i < MIGRATIONS.length; i++) {
    await db.transaction().execute(async (tx) => {
      await migrate(tx, 'sqlite', i);
      // A PRAGMA takes no parameters; the version is a number of ours.
      await sql.raw(`PRAGMA user_version = ${i + 1}`).execute(tx);
    });
  }
}
