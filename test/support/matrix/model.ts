/**
 * The stand-in homeserver's data: rooms as ordered event logs on one global stream, from which
 * state, membership and /sync answers are derived. No HTTP here (see homeserver.ts).
 */

export type Json = Record<string, unknown>;

export interface StoredEvent {
  /** Position on the server-wide stream: /sync's `since` tokens point into it. */
  pos: number;
  room_id: string;
  event_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  content: Json;
  state_key?: string;
  /** Set when the event was sent through PUT /send with a transaction id. */
  txn?: { device: string; txnId: string };
  /** For a state event: the one it replaced (clients roll state back with it). */
  prev?: { content: Json; sender: string; event_id: string };
}

/** An event as the client-server API shows it (sync and /state). */
export interface ClientEvent {
  type: string;
  event_id: string;
  sender: string;
  origin_server_ts: number;
  content: Json;
  state_key?: string;
  room_id?: string;
  unsigned?: Json;
}

export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

export class Room {
  readonly events: StoredEvent[] = [];

  constructor(
    readonly id: string,
    readonly version: string,
  ) {}

  /** The state after every event up to and including `pos` (the whole state when omitted). */
  stateAt(pos = Number.POSITIVE_INFINITY): Map<string, StoredEvent> {
    const state = new Map<string, StoredEvent>();
    for (const e of this.events) {
      if (e.pos > pos) break;
      if (e.state_key !== undefined) state.set(stateKey(e.type, e.state_key), e);
    }
    return state;
  }

  stateEvent(type: string, key = '', pos?: number): StoredEvent | undefined {
    return this.stateAt(pos).get(stateKey(type, key));
  }

  membership(userId: string, pos?: number): Membership | undefined {
    const e = this.stateEvent('m.room.member', userId, pos);
    return e ? (e.content.membership as Membership) : undefined;
  }

  /** The position of the event that gave `userId` its current membership. */
  membershipPos(userId: string): number | undefined {
    return this.stateEvent('m.room.member', userId)?.pos;
  }

  members(membership: Membership, pos?: number): string[] {
    return [...this.stateAt(pos).values()]
      .filter((e) => e.type === 'm.room.member' && e.content.membership === membership)
      .map((e) => e.state_key as string);
  }

  /** A user's power level, by the room's m.room.power_levels (or the creator rule without one). */
  powerLevel(userId: string): number {
    const pl = this.stateEvent('m.room.power_levels')?.content as
      { users?: Record<string, number>; users_default?: number } | undefined;
    if (!pl) return this.stateEvent('m.room.create')?.sender === userId ? 100 : 0;
    return pl.users?.[userId] ?? pl.users_default ?? 0;
  }

  /** The level needed to send an event of this type. */
  levelFor(type: string, isState: boolean): number {
    const pl = this.stateEvent('m.room.power_levels')?.content as
      { events?: Record<string, number>; events_default?: number; state_default?: number } | undefined;
    if (!pl) return isState ? 50 : 0;
    return pl.events?.[type] ?? (isState ? (pl.state_default ?? 50) : (pl.events_default ?? 0));
  }

  get encrypted(): boolean {
    return this.stateEvent('m.room.encryption') !== undefined;
  }
}

export function stateKey(type: string, key: string): string {
  return `${type}\u0000${key}`;
}

/** What a client sees of a stored event; `device` gets its own transaction ids back. */
export function toClient(e: StoredEvent, now: number, device?: string, withRoomId = false): ClientEvent {
  const out: ClientEvent = {
    type: e.type,
    event_id: e.event_id,
    sender: e.sender,
    origin_server_ts: e.origin_server_ts,
    content: e.content,
  };
  if (e.state_key !== undefined) out.state_key = e.state_key;
  if (withRoomId) out.room_id = e.room_id;
  const unsigned: Json = { age: Math.max(0, now - e.origin_server_ts) };
  if (device !== undefined && e.txn?.device === device) unsigned.transaction_id = e.txn.txnId;
  if (e.prev) {
    unsigned.prev_content = e.prev.content;
    unsigned.prev_sender = e.prev.sender;
    unsigned.replaces_state = e.prev.event_id;
  }
  out.unsigned = unsigned;
  return out;
}

/** Invite / knock state: only the keys the spec calls stripped state. */
export function stripped(e: StoredEvent): Json {
  return { type: e.type, state_key: e.state_key, sender: e.sender, content: e.content };
}
