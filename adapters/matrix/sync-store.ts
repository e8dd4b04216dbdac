/**
 * The SDK's store, kept across restarts in the adapter's key-value state: the accumulated /sync
 * (the `since` token, each room's state, the last timeline event) and the sync filter's id. On
 * start the SDK restores rooms from it and asks the homeserver only for what happened since,
 * instead of a full initial sync. (The adapter still treats everything that arrives before its
 * first live sync as history, never as commands.) This is what matrix-js-sdk's IndexedDB store
 * does in a browser, over the same SyncAccumulator.
 */
import { MemoryStore, type ISyncResponse, SyncAccumulator } from 'matrix-js-sdk';
import type { ISavedSync } from 'matrix-js-sdk/lib/store/index.js';
import type { KeyValueStore } from '../../src/chat/adapter.js';

interface Saved extends ISavedSync {
  /** `<homeserver> <user id>`: a sync of another account is never restored. */
  scope: string;
}

const SYNC_KEY = 'sync';

export class SyncStateStore extends MemoryStore {
  private readonly accumulator = new SyncAccumulator({ maxTimelineEntries: 1 });
  private readonly restored: boolean;
  private lastSave = 0;
  private dirty = false;

  constructor(
    private readonly kv: KeyValueStore,
    private readonly scope: string,
    private readonly saveEveryMs = 30_000,
  ) {
    super();
    const saved = this.read();
    this.restored = saved !== undefined;
    if (saved) {
      this.accumulator.accumulate(
        { next_batch: saved.nextBatch, rooms: saved.roomsData, account_data: { events: saved.accountData } },
        true,
      );
    }
  }

  override isNewlyCreated(): Promise<boolean> {
    return Promise.resolve(!this.restored);
  }

  override getSavedSync(): Promise<ISavedSync | null> {
    const data = this.accumulator.getJSON();
    if (!data.nextBatch) return Promise.resolve(null);
    // A deep copy: the SDK decorates what it processes, and the accumulator must stay clean.
    return Promise.resolve(JSON.parse(JSON.stringify(data)) as ISavedSync);
  }

  override getSavedSyncToken(): Promise<string | null> {
    return Promise.resolve(this.accumulator.getNextBatchToken() || null);
  }

  override setSyncData(syncData: ISyncResponse): Promise<void> {
    this.accumulator.accumulate(syncData);
    this.dirty = true;
    return Promise.resolve();
  }

  override wantsSave(): boolean {
    return this.dirty && Date.now() - this.lastSave >= this.saveEveryMs;
  }

  override save(force = false): Promise<void> {
    if (this.dirty && (force || this.wantsSave())) {
      const data = this.accumulator.getJSON(true);
      const saved: Saved = { scope: this.scope, ...data };
      this.kv.set(SYNC_KEY, JSON.stringify(saved));
      this.lastSave = Date.now();
      this.dirty = false;
    }
    return Promise.resolve();
  }

  override getFilterIdByName(filterName: string): string | null {
    const raw = this.kv.get(this.filterKey(filterName));
    return raw ? raw : null;
  }

  override setFilterIdByName(filterName: string, filterId?: string): void {
    this.kv.set(this.filterKey(filterName), filterId ?? '');
  }

  override async deleteAllData(): Promise<void> {
    await super.deleteAllData();
    this.kv.set(SYNC_KEY, '');
  }

  private filterKey(name: string): string {
    return `filter:${this.scope}:${name}`;
  }

  private read(): Saved | undefined {
    const raw = this.kv.get(SYNC_KEY);
    if (!raw) return undefined;
    try {
      const saved = JSON.parse(raw) as Saved;
      return saved.scope === this.scope && saved.nextBatch ? saved : undefined;
    } catch {
      return undefined;
    }
  }
}
