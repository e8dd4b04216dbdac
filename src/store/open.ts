import { type Db, openDb } from './db.js';

/** Where the store is: a SQLite file, or a PostgreSQL database (which then wins). */
export interface StoreLocation {
  storage: string;
  postgres?: string | undefined;
}

/**
 * Opens the store, migrated. PostgreSQL's driver (a native addon over libpq) is loaded only when
 * a database URL is configured.
 */
export async function openStore(where: StoreLocation): Promise<Db> {
  if (!where.postgres) return openDb(where.storage);
  const { openPostgres } = await import('./pg.js');
  return openPostgres(where.postgres);
}
