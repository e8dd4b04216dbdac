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

/** Runtime subscriptions, mutes and the announcements held back while muted, in the store. */
export class SubscriptionStore {
  constructor(private readonly db: Db) {}

  async subscriptions(): Promise<Subscription[]> {
    const rows = await this.db
      .selectFrom('subscriptions')
      .selectAll()
      .orderBy('room')
      .orderBy('event')
      .execute();
    return rows.map((r) => ({
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
  async setSubscription(s: Subscription): Promise<void> {
    await this.db
      .insertInto('subscriptions')
      .values({
        room: s.room,
        event: s.event,
        enabled: s.enabled ? 1 : 0,
        branches: s.branches?.length ? JSON.stringify(s.branches) : null,
        tags: s.tags?.length ? JSON.stringify(s.tags) : null,
        builders: s.builders ?? null,
        set_by: s.setBy ?? null,
        set_at: s.setAt,
      })
      .onConflict((oc) =>
        oc.columns(['room', 'event']).doUpdateSet((eb) => ({
          enabled: eb.ref('excluded.enabled'),
          branches: eb.ref('excluded.branches'),
          tags: eb.ref('excluded.tags'),
          builders: eb.ref('excluded.builders'),
          set_by: eb.ref('excluded.set_by'),
          set_at: eb.ref('excluded.set_at'),
        })),
      )
      .execute();
  }

  /** Mutes not ended yet (expired ones included: ending them sends their summary). */
  async activeMutes(): Promise<Mute[]> {
    const rows = await this.db
      .selectFrom('mutes')
      .selectAll()
      .where('ended_at', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      target: r.target,
      startedAt: r.started_at,
      until: r.until,
      ...(r.set_by ? { setBy: r.set_by } : {}),
    }));
  }

  async addMute(
    kind: 'room' | 'builder',
    target: string,
    startedAt: number,
    until: number,
    setBy?: string,
  ): Promise<number> {
    const row = await this.db
      .insertInto('mutes')
      .values({ kind, target, started_at: startedAt, until, set_by: setBy ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async setUntil(id: number, until: number): Promise<void> {
    await this.db.updateTable('mutes').set({ until }).where('id', '=', id).execute();
  }

  async endMute(id: number, at: number): Promise<void> {
    await this.db
      .updateTable('mutes')
      .set({ ended_at: at })
      .where('id', '=', id)
      .where('ended_at', 'is', null)
      .execute();
  }

  async hold(muteId: number, room: string, text: string, at: number): Promise<void> {
    await this.db.insertInto('held').values({ mute_id: muteId, room, text, at }).execute();
  }

  /** What a mute held back, per room, oldest first. */
  async held(muteId: number): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const rows = await this.db
      .selectFrom('held')
      .select(['room', 'text'])
      .where('mute_id', '=', muteId)
      .orderBy('id')
      .execute();
    for (const r of rows) out.set(r.room, [...(out.get(r.room) ?? []), r.text]);
    return out;
  }
}
