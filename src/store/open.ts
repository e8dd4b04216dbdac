import { errorMessage } from '../errors.js';
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
  const driver = await postgresDriver();
  return driver.openPostgres(where.postgres);
}

/** The PostgreSQL store's module; a clear error where its native driver is not installed. */
export async function postgresDriver(): Promise<typeof import('./pg.js')> {
  try {
    return await import('./pg.js');
  } catch (err) {
    // pg-native is an optional dependency: `npm ci` skips it where libpq-dev is missing.
    throw new Error(
      `PostgreSQL needs the pg-native driver, built against libpq (${errorMessage(err)}): ` +
        'apt-get install libpq-dev, then npm install pg-native',
    );
  }
}
