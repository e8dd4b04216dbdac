import type { Db } from './db.js';

/** One announcement for one destination, recorded before it is sent. */
export interface OutboxEntry {
  id: number;
  master: string;
  buildid: number;
  event: string;
  destination: string;
  status: 'pending' | 'sent' | 'failed';
  /** The platform-neutral message, as JSON. */
  message: string;
  createdAt: number;
  attempts: number;
}

/**
 * The outbox: an announcement is written here (pending) before it is sent and marked sent once the
 * platform accepted it, so that after a crash what was not confirmed is sent again and what was
 * confirmed is not. (master, buildid, event, destination) is unique: a build is announced to a
 * destination at most once, whatever restarts happen around it.
 */
export class Outbox {
  constructor(private readonly db: Db) {}

  /** Records a pending announcement; undefined when this one was recorded before. */
  async add(
    master: string,
    buildid: number,
    event: string,
    destination: string,
    message: string,
    now = Date.now(),
  ): Promise<OutboxEntry | undefined> {
    const row = await this.db
      .insertInto('announcements')
      .values({ master, buildid, event, destination, status: 'pending', message, created_at: now })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: Number(row.id),
      master,
      buildid,
      event,
      destination,
      status: 'pending',
      message,
      createdAt: now,
      attempts: 0,
    };
  }

  /** Replaces the stored message (once composed, a resend after a crash sends the same text). */
  async setMessage(id: number, message: string): Promise<void> {
    await this.db.updateTable('announcements').set({ message }).where('id', '=', id).execute();
  }

  async markSent(id: number, now = Date.now()): Promise<void> {
    await this.db
      .updateTable('announcements')
      .set((eb) => ({ status: 'sent', sent_at: now, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .execute();
  }

  /** Keeps it pending for another try, or gives up on it (`final`). */
  async markFailed(id: number, error: string, final: boolean): Promise<void> {
    await this.db
      .updateTable('announcements')
      .set((eb) => ({
        status: final ? 'failed' : 'pending',
        last_error: error.slice(0, 500),
        attempts: eb('attempts', '+', 1),
      }))
      .where('id', '=', id)
      .execute();
  }

  async pending(): Promise<OutboxEntry[]> {
    const rows = await this.db
      .selectFrom('announcements')
      .select([
        'id',
        'master',
        'buildid',
        'event',
        'destination',
        'status',
        'message',
        'created_at',
        'attempts',
      ])
      .where('status', '=', 'pending')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      master: row.master,
      buildid: row.buildid,
      event: row.event,
      destination: row.destination,
      status: row.status,
      message: row.message,
      createdAt: row.created_at,
      attempts: row.attempts,
    }));
  }

  /** When the newest `event` announcement to `destination` was sent, if ever. */
  async lastSent(destination: string, event: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('announcements')
      .select((eb) => eb.fn.max('sent_at').as('at'))
      .where('destination', '=', destination)
      .where('event', '=', event)
      .where('status', '=', 'sent')
      .executeTakeFirst();
    return row?.at ?? undefined;
  }

  async count(status: OutboxEntry['status']): Promise<number> {
    const row = await this.db
      .selectFrom('announcements')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', status)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
