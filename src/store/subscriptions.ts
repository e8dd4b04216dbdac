import type { NotifyEvent } from '../config/schema.js';
import type { Db } from './db.js';

/** One runtime subscription: a room turned an event on (with filters) or off. */
export interface Subscription {
  room: string;
  event: NotifyEvent;
  enabled: boolean;
  branches?: string[];
  tags?: string[];
  builders?: string;
  setBy?: string;
  setAt: number;
}

/** A mute of a room, or a snooze of a builder (by name, on every master). */
export interface Mute {
  id: number;
  kind: 'room' | 'builder';
  target: string;
  startedAt: number;
  until: number;
  setBy?: string;
}

interface SubRow {
  room: string;
  event: string;
  enabled: number;
  branches: string | null;
  tags: string | null;
  builders: string | null;
  set_by: string | null;
  set_at: number;
}

interface MuteRow {
  id: number;
  kind: 'room' | 'builder';
  target: string;
  started_at: number;
  until: number;
  set_by: string | null;
}

/** Runtime subscriptions, mutes and the announcements held back while muted, in the store. */
export class SubscriptionStore {
  constructor(private readonly db: Db) {}

  subscriptions(): Subscription[] {
    return this.db
      .prepare<[], SubRow>('SELECT * FROM subscriptions ORDER BY room, event')
      .all()
      .map((r) => ({
        room: r.room,
        event: r.event as NotifyEvent,
        enabled: r.enabled === 1,
        ...(r.branches ? { branches: JSON.parse(r.branches) as string[] } : {}),
        ...(r.tags ? { tags: JSON.parse(r.tags) as string[] } : {}),
        ...(r.builders ? { builders: r.builders } : {}),
        ...(r.set_by ? { setBy: r.set_by } : {}),
        setAt: r.set_at,
      }));
  }

  /** Sets (replacing) the room's runtime subscription for the event. */
  setSubscription(s: Subscription): void {
    this.db
      .prepare(
        `INSERT INTO subscriptions (room, event, enabled, branches, tags, builders, set_by, set_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (room, event) DO UPDATE SET enabled = excluded.enabled, branches = excluded.branches,
           tags = excluded.tags, builders = excluded.builders, set_by = excluded.set_by, set_at = excluded.set_at`,
      )
      .run(
        s.room,
        s.event,
        s.enabled ? 1 : 0,
        s.branches?.length ? JSON.stringify(s.branches) : null,
        s.tags?.length ? JSON.stringify(s.tags) : null,
        s.builders ?? null,
        s.setBy ?? null,
        s.setAt,
      );
  }

  /** Mutes not ended yet (expired ones included: ending them sends their summary). */
  activeMutes(): Mute[] {
    return this.db
      .prepare<[], MuteRow>('SELECT * FROM mutes WHERE ended_at IS NULL ORDER BY id')
      .all()
      .map((r) => ({
        id: r.id,
        kind: r.kind,
        target: r.target,
        startedAt: r.started_at,
        until: r.until,
        ...(r.set_by ? { setBy: r.set_by } : {}),
      }));
  }

  addMute(
    kind: 'room' | 'builder',
    target: string,
    startedAt: number,
    until: number,
    setBy?: string,
  ): number {
    const info = this.db
      .prepare('INSERT INTO mutes (kind, target, started_at, until, set_by) VALUES (?, ?, ?, ?, ?)')
      .run(kind, target, startedAt, until, setBy ?? null);
    return Number(info.lastInsertRowid);
  }

  setUntil(id: number, until: number): void {
    this.db.prepare('UPDATE mutes SET until = ? WHERE id = ?').run(until, id);
  }

  endMute(id: number, at: number): void {
    this.db.prepare('UPDATE mutes SET ended_at = ? WHERE id = ? AND ended_at IS NULL').run(at, id);
  }

  hold(muteId: number, room: string, text: string, at: number): void {
    this.db
      .prepare('INSERT INTO held (mute_id, room, text, at) VALUES (?, ?, ?, ?)')
      .run(muteId, room, text, at);
  }

  /** What a mute held back, per room, oldest first. */
  held(muteId: number): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const rows = this.db
      .prepare<[number], { room: string; text: string }>(
        'SELECT room, text FROM held WHERE mute_id = ? ORDER BY id',
      )
      .all(muteId);
    for (const r of rows) out.set(r.room, [...(out.get(r.room) ?? []), r.text]);
    return out;
  }
}
