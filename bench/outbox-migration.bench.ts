/**
 * Migration 9 (issue 16: the outbox's once-only key) rebuilds the `announcements` table: how long
 * it takes on an outbox of 100,000 rows of every kind, on SQLite and on PostgreSQL (loopback). The
 * baseline, on the same rows in the same run: migration 8, the previous outbox migration (a column
 * added and set by five UPDATEs over the table).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { type Dialect, migrate, type Schema } from '../src/store/db.js';
import { poolConfig } from '../src/store/pg.js';
import { type Postgres, startPostgres } from '../test/support/postgres.js';

const ROWS = Number(process.env.BENCH_OUTBOX_ROWS ?? 100_000);

let server: Postgres | undefined;
afterAll(() => server?.stop());

/** Row `i` as bbwatch wrote it before migration 8: of each kind, in about the proportions a bot makes. */
function row(i: number): [string, number, string, string] {
  const at = 1_700_000_000 + i;
  const r = i % 100;
  if (r < 65) return ['lab', i, 'failure', `irc:#room${i % 7}`];
  if (r < 90) return ['lab', i, 'failure:details', `irc:#room${i % 7}`];
  if (r < 94) return ['lab', i, 'force-finished', 'discord:1'];
  if (r < 97) return ['', Math.floor(at / 60) * 60 + i * 60, 'digest', 'discord:1'];
  if (r < 98) return ['', i, 'mute-summary', 'discord:1'];
  return ['lab', i % 300, `worker-missing:${at}`, 'discord:1'];
}

/** Migrations 1-7, the rows, then migrations 8 and 9 timed one by one. */
async function measure(db: Kysely<Schema>, dialect: Dialect, insert: () => Promise<void>) {
  const step = async (i: number) => {
    const t0 = performance.now();
    await db.transaction().execute((tx) => migrate(tx, dialect, i));
    return performance.now() - t0;
  };
  for (let i = 0; i < 7; i++) await step(i);
  await insert();
  const eighth = await step(7);
  const ninth = await step(8);
  const { n } = await db
    .selectFrom('announcements')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  await db.destroy();
  return { eighth, ninth, rows: Number(n) };
}

function report(label: string, m: { eighth: number; ninth: number; rows: number }): string {
  return [
    `  ${label}, ${ROWS.toLocaleString('en')} rows (${m.rows.toLocaleString('en')} after):`,
    `    migration 9 (rebuild, keys computed): ${(m.ninth / 1000).toFixed(2)} s`,
    `    migration 8 (baseline: add a column, 5 UPDATEs): ${(m.eighth / 1000).toFixed(2)} s`,
    `    ratio 9/8: ${(m.ninth / m.eighth).toFixed(2)}`,
  ].join('\n');
}

it('outbox migration 9 on 100,000 rows', async () => {
  const lines = ['outbox migration 9 (the once-only key):'];

  const file = join(mkdtempSync(join(tmpdir(), 'bbwatch-bench-')), 'outbox.sqlite');
  const handle = new Database(file);
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = NORMAL');
  const lite = new Kysely<Schema>({ dialect: new SqliteDialect({ database: handle }) });
  const liteFigures = await measure(lite, 'sqlite', () => {
    const add = handle.prepare(
      `INSERT INTO announcements (master, buildid, event, destination, status, message, created_at)
       VALUES (?, ?, ?, ?, 'sent', '{"message":{"title":"AMD64 Debian root 3.x #1 turned red"}}', ?)`,
    );
    handle.transaction(() => {
      for (let i = 0; i < ROWS; i++) add.run(...row(i), 1_700_000_000_000 + i);
    })();
    return Promise.resolve();
  });
  lines.push(report('SQLite (file, WAL)', liteFigures));

  server = await startPostgres();
  const url = server.createDatabase('outbox_bench');
  const pgdb = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: new pg.Pool(poolConfig(url)) }) });
  const pgFigures = await measure(pgdb, 'postgres', async () => {
    // The table as it was before migration 8, not as Schema says it is now.
    const old = pgdb as unknown as Kysely<{
      announcements: {
        master: string;
        buildid: number;
        event: string;
        destination: string;
        status: string;
        message: string;
        created_at: number;
      };
    }>;
    for (let from = 0; from < ROWS; from += 2_000) {
      const values = [];
      for (let i = from; i < Math.min(ROWS, from + 2_000); i++) {
        const [master, buildid, event, destination] = row(i);
        values.push({
          master,
          buildid,
          event,
          destination,
          status: 'sent',
          message: '{"message":{"title":"AMD64 Debian root 3.x #1 turned red"}}',
          created_at: 1_700_000_000_000 + i,
        });
      }
      await old.insertInto('announcements').values(values).execute();
    }
  });
  lines.push(report('PostgreSQL (loopback)', pgFigures));
  console.log(lines.join('\n'));
  // The rebuild kept every row.
  expect([liteFigures.rows, pgFigures.rows]).toEqual([ROWS, ROWS]);
});
