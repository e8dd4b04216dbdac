import type { Db } from './db.js';

/** Small named values that must survive a restart (stream cursors, first-sync markers). */
export class MetaStore {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  /** Every value whose key starts with `prefix`, by the rest of its key. */
  async prefixed(prefix: string): Promise<Map<string, string>> {
    const rows = await this.db
      .selectFrom('meta')
      .select(['key', 'value'])
      .where('key', '>=', prefix)
      .where('key', '<', `${prefix}\uffff`)
      .execute();
    return new Map(
      rows.filter((r) => r.key.startsWith(prefix)).map((r) => [r.key.slice(prefix.length), r.value]),
    );
  }

  async set(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
      .execute();
  }
}

/** Where an adapter's persistent value (AdapterServices.state) is kept in `meta`. */
export function adapterKey(platform: string, key: string): string {
  return `adapter:${platform}:${key}`;
}

/**
 * A platform's persistent values (AdapterServices.state), read from `meta` once at start and then
 * answered from memory; a change is written behind, in order, and tried again while the store is
 * away (the newest value of each key wins).
 */
export class CachedState {
  private readonly dirty = new Map<string, string>();
  private writing: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;

  private constructor(
    private readonly meta: MetaStore,
    private readonly prefix: string,
    private readonly values: Map<string, string>,
    private readonly onError: (err: unknown) => void,
  ) {}

  static async load(
    meta: MetaStore,
    platform: string,
    onError: (err: unknown) => void,
  ): Promise<CachedState> {
    const prefix = adapterKey(platform, '');
    return new CachedState(meta, prefix, await meta.prefixed(prefix), onError);
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  set(key: string, value: string): void {
    this.values.set(key, value);
    this.dirty.set(key, value);
    this.flush();
  }

  /** Resolves once what was set is written (or the store refused it for now). */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private flush(): void {
    if (this.writing || this.dirty.size === 0) return;
    this.writing = (async () => {
      while (this.dirty.size > 0) {
        const [key, value] = this.dirty.entries().next().value as [string, string];
        this.dirty.delete(key);
        try {
          await this.meta.set(`${this.prefix}${key}`, value);
        } catch (err) {
          if (!this.dirty.has(key)) this.dirty.set(key, value);
          this.onError(err);
          clearTimeout(this.retry);
          this.retry = setTimeout(() => this.flush(), 2_000);
          this.retry.unref();
          return;
        }
      }
    })().finally(() => {
      this.writing = undefined;
    });
  }
}
