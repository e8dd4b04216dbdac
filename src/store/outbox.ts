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

interface Row {
  id: number;
  master: string;
  buildid: number;
  event: string;
  destination: string;
  status: 'pending' | 'sent' | 'failed';
  message: string;
  created_at: number;
  attempts: number;
}

/**
 * The outbox: an announcement is written here (pending) before it is sent and marked sent once the
 * platform accepted it, so that after a crash what was not confirmed is sent again and what was
 * confirmed is not. (master, buildid, event, destination) is unique: a build is announced to a
 * destination at most once, whatever restarts happen around it.
 */
export class Outbox {
  private readonly insert;
  private readonly markSentStmt;
  private readonly markFailedStmt;
  private readonly pendingStmt;
  private readonly countStmt;
  private readonly setMessageStmt;

  constructor(private readonly db: Db) {
    this.insert = db.prepare<[string, number, string, string, string, number]>(
      `INSERT INTO announcements (master, buildid, event, destination, status, message, created_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.markSentStmt = db.prepare<[number, number]>(
      `UPDATE announcements SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?`,
    );
    this.markFailedStmt = db.prepare<[string, string, number]>(
      `UPDATE announcements SET status = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?`,
    );
    this.pendingStmt = db.prepare<[], Row>(
      `SELECT * FROM announcements WHERE status = 'pending' ORDER BY id`,
    );
    this.setMessageStmt = db.prepare<[string, number]>('UPDATE announcements SET message = ? WHERE id = ?');
    this.countStmt = db.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM announcements WHERE status = ?',
    );
  }

  /** Records a pending announcement; undefined when this one was recorded before. */
  add(
    master: string,
    buildid: number,
    event: string,
    destination: string,
    message: string,
    now = Date.now(),
  ): OutboxEntry | undefined {
    const info = this.insert.run(master, buildid, event, destination, message, now);
    if (info.changes === 0) return undefined;
    return {
      id: Number(info.lastInsertRowid),
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
  setMessage(id: number, message: string): void {
    this.setMessageStmt.run(message, id);
  }

  markSent(id: number, now = Date.now()): void {
    this.markSentStmt.run(now, id);
  }

  /** Keeps it pending for another try, or gives up on it (`final`). */
  markFailed(id: number, error: string, final: boolean): void {
    this.markFailedStmt.run(final ? 'failed' : 'pending', error.slice(0, 500), id);
  }

  pending(): OutboxEntry[] {
    return this.pendingStmt.all().map((row) => ({
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
  lastSent(destination: string, event: string): number | undefined {
    return (
      this.db
        .prepare<[string, string], { at: number | null }>(
          `SELECT MAX(sent_at) AS at FROM announcements WHERE destination = ? AND event = ? AND status = 'sent'`,
        )
        .get(destination, event)?.at ?? undefined
    );
  }

  count(status: OutboxEntry['status']): number {
    return this.countStmt.get(status)?.n ?? 0;
  }
}
