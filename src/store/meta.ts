import type { Db } from './db.js';

/** Small named values that must survive a restart (stream cursors, first-sync markers). */
export class MetaStore {
  private readonly getStmt;
  private readonly setStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    this.setStmt = db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  get(key: string): string | undefined {
    return this.getStmt.get(key)?.value;
  }

  set(key: string, value: string): void {
    this.setStmt.run(key, value);
  }
}

/** Where an adapter's persistent value (AdapterServices.state) is kept in `meta`. */
export function adapterKey(platform: string, key: string): string {
  return `adapter:${platform}:${key}`;
}
