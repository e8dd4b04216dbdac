import type { Db } from './db.js';

/**
 * What an outbox row is, so that nothing is told apart by its event's spelling:
 * - `announcement`: a build's transition (its headline, or the whole message when inline);
 *   a red one that joins a failure's group is marked sent with the group's edit or also-on line;
 * - `details`: the follow-up to a split announcement (failing tests, changes);
 * - `follow-up`: a forced build started or finished, for the room that asked;
 * - `digest`: a scheduled report (buildid: the minute it was due);
 * - `mute-summary`: what a mute held back (buildid: the mute's id);
 * - `worker`: a worker went missing or came back (buildid: the worker's id).
 * `master` is '' for digests and mute summaries. (master, buildid, event, destination) stays the
 * once-only key.
 */
export const OUTBOX_KINDS = [
  'announcement',
  'details',
  'follow-up',
  'digest',
  'mute-summary',
  'worker',
] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

/** A row to record: what it is, what it is about, where it goes, and its message as JSON. */
export interface NewOutboxEntry {
  kind: OutboxKind;
  master: string;
  buildid: number;
  event: string;
  destination: string;
  /** The platform-neutral message (or what to compose it from), as JSON. */
  message: string;
}

/** One message for one destination, recorded before it is sent. */
export interface OutboxEntry {
  id: number;
  kind: OutboxKind;
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

  /** Records a pending message; undefined when this one was recorded before. */
  async add(entry: NewOutboxEntry, now = Date.now()): Promise<OutboxEntry | undefined> {
    const row = await this.db
      .insertInto('announcements')
      .values({ ...entry, status: 'pending', created_at: now })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) return undefined;
    return { ...entry, id: Number(row.id), status: 'pending', createdAt: now, attempts: 0 };
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

  /** What waits, oldest first; with `destination`, only what waits for it. */
  async pending(destination?: string): Promise<OutboxEntry[]> {
    let query = this.db
      .selectFrom('announcements')
      .select([
        'id',
        'kind',
        'master',
        'buildid',
        'event',
        'destination',
        'status',
        'message',
        'created_at',
        'attempts',
      ])
      .where('status', '=', 'pending');
    if (destination !== undefined) query = query.where('destination', '=', destination);
    const rows = await query.orderBy('id').execute();
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
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

  /** The destinations something waits for. */
  async pendingDestinations(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('announcements')
      .select('destination')
      .distinct()
      .where('status', '=', 'pending')
      .execute();
    return rows.map((r) => r.destination);
  }

  /** When the newest `event` announcement to `destination` was sent, if ever. */
  async lastSent(destination: string, event: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('announcements')
      .select((eb) => eb.fn.max('sent_at').as('at'))
      .where('kind', '=', 'announcement')
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
