import type { Db } from './db.js';

/**
 * What an outbox row is, so that nothing is told apart by its event's spelling:
 * - `announcement`: a build's transition (its headline, or the whole message when inline);
 *   a red one that joins a failure's group is marked sent with the group's edit or also-on line;
 * - `details`: the follow-up to a split announcement (failing tests, changes);
 * - `follow-up`: a forced build started or finished, for the room that asked;
 * - `digest`: a scheduled report;
 * - `mute-summary`: what a mute held back;
 * - `worker`: a worker went missing or came back.
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

/**
 * What a row is about, by kind: the facts its once-only key is made of. `event` is what happened
 * (a transition's event: `failure`, `recovery`, ...; a details row carries its head's event).
 */
export type OutboxAbout =
  | { kind: 'announcement' | 'details'; master: string; buildid: number; event: string }
  | { kind: 'follow-up'; master: string; buildid: number; event: 'force-started' | 'force-finished' }
  /** `minute`: when it was due (epoch seconds, a whole minute). */
  | { kind: 'digest'; minute: number }
  | { kind: 'mute-summary'; muteId: number }
  /** `since`: when the worker went away (ms); its absence and its return are each told once. */
  | {
      kind: 'worker';
      master: string;
      workerid: number;
      event: 'worker-missing' | 'worker-back';
      since: number;
    };

/**
 * The columns a row's identity is stored in. The once-only key is (kind, subject, event,
 * destination): at most one row of a kind about one subject, for one event, per destination.
 * `subject` names what the row is about, as text:
 * - `build:<master>:<buildid>` (announcements, details, follow-ups);
 * - `digest:<minute>` (the minute it was due, epoch seconds);
 * - `mute:<mute id>`;
 * - `worker:<master>:<workerid>:<seconds it went away>`.
 * (The last fields are numbers, so a master's name with a `:` in it cannot make two subjects
 * alike.) `master` is set where a row is about one master (builds, workers), `buildid` only where
 * it is about a build; both are null otherwise. Migration 9 (src/store/db.ts) computed the same
 * keys for rows written before it.
 */
export interface OutboxKey {
  kind: OutboxKind;
  subject: string;
  event: string;
  master: string | null;
  buildid: number | null;
}

/** The subject of every row about a build (src/store/outbox.ts, OutboxKey). */
export const buildSubject = (master: string, buildid: number): string => `build:${master}:${buildid}`;

/** A row's key columns, from what it is about. */
export function outboxKey(about: OutboxAbout): OutboxKey {
  switch (about.kind) {
    case 'announcement':
    case 'details':
    case 'follow-up':
      return {
        kind: about.kind,
        subject: buildSubject(about.master, about.buildid),
        event: about.event,
        master: about.master,
        buildid: about.buildid,
      };
    case 'digest':
      return {
        kind: 'digest',
        subject: `digest:${about.minute}`,
        event: 'digest',
        master: null,
        buildid: null,
      };
    case 'mute-summary':
      return {
        kind: 'mute-summary',
        subject: `mute:${about.muteId}`,
        event: 'mute-summary',
        master: null,
        buildid: null,
      };
    case 'worker':
      return {
        kind: 'worker',
        subject: `worker:${about.master}:${about.workerid}:${Math.floor(about.since / 1000)}`,
        event: about.event,
        master: about.master,
        buildid: null,
      };
  }
}

/** A row to record: what it is about, where it goes, and its message as JSON. */
export type NewOutboxEntry = OutboxAbout & {
  destination: string;
  /** The platform-neutral message (or what to compose it from), as JSON. */
  message: string;
};

/** One message for one destination, recorded before it is sent. */
export interface OutboxEntry extends OutboxKey {
  id: number;
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
 * confirmed is not. (kind, subject, event, destination) is unique (OutboxKey): a build is
 * announced to a destination at most once, whatever restarts happen around it.
 */
export class Outbox {
  constructor(private readonly db: Db) {}

  /** Records a pending message; undefined when this one was recorded before. */
  async add(entry: NewOutboxEntry, now = Date.now()): Promise<OutboxEntry | undefined> {
    const key = outboxKey(entry);
    const { destination, message } = entry;
    const row = await this.db
      .insertInto('announcements')
      .values({ ...key, destination, message, status: 'pending', created_at: now })
      // Only the once-only key: any other clash (an id taken twice) is an error, not a message
      // quietly dropped.
      .onConflict((oc) => oc.columns(['kind', 'subject', 'event', 'destination']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      ...key,
      destination,
      message,
      id: Number(row.id),
      status: 'pending',
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

  /** What waits, oldest first; with `destination`, only what waits for it. */
  async pending(destination?: string): Promise<OutboxEntry[]> {
    let query = this.db
      .selectFrom('announcements')
      .select([
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
        'attempts',
      ])
      .where('status', '=', 'pending');
    if (destination !== undefined) query = query.where('destination', '=', destination);
    const rows = await query.orderBy('id').execute();
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      subject: row.subject,
      event: row.event,
      master: row.master,
      buildid: row.buildid,
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
