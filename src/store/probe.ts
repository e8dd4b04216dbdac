/**
 * The store as `bbwatch doctor` checks it: it opens (and migrates, as the bot would at start), and
 * a write goes through (inside a transaction that is rolled back, so nothing is left behind).
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { type Db, schemaVersion } from './db.js';
import { MetaStore } from './meta.js';
import { openStore, type StoreLocation } from './open.js';

export interface StoreProbe {
  db: Db;
  backend: 'SQLite' | 'PostgreSQL';
  /** The file, or the database URL without its password. */
  where: string;
  /** The schema this bbwatch brought it to. */
  schema: number;
  /** SQLite: the schema before opening (0 for a new file); undefined when not known. */
  before: number | undefined;
}

class RolledBack extends Error {}

/** Opens the store, migrated, and proves it writable. The caller closes `db`. */
export async function probeStore(where: StoreLocation): Promise<StoreProbe> {
  const backend = where.postgres ? 'PostgreSQL' : 'SQLite';
  const before = where.postgres ? undefined : sqliteVersion(where.storage);
  const db = await openStore(where);
  try {
    await db.transaction().execute(async (tx) => {
      await new MetaStore(tx).set('doctor:write-check', String(Date.now()));
      throw new RolledBack();
    });
  } catch (err) {
    if (!(err instanceof RolledBack)) {
      await db.destroy();
      throw err;
    }
  }
  return {
    db,
    backend,
    where: where.postgres ? withoutPassword(where.postgres) : where.storage,
    schema: schemaVersion(),
    before,
  };
}

/** The schema version of an existing SQLite file (0 when there is none yet), read without writing. */
function sqliteVersion(path: string): number | undefined {
  if (path === ':memory:' || !existsSync(path)) return 0;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  } catch {
    return undefined; // opening it for real says what is wrong
  }
}

/** `postgres://bbwatch:***@db/bbwatch`: a URL fit to print. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured postgres URL';
  }
}
