/**
 * GET /sync answers, computed from the rooms' event logs: an initial sync (no `since`) shows every
 * joined room with its state and the last events; an incremental one what happened after `since`:
 * new timeline events, rooms newly joined (with their state), invites, and rooms left or kicked from.
 */
import { type Json, type Room, type StoredEvent, stripped, toClient } from './model.js';

export interface SyncRequest {
  userId: string;
  device: string;
  /** Stream position the client has seen; undefined for an initial sync. */
  since: number | undefined;
  /** `room.timeline.limit` of the filter in use. */
  timelineLimit: number;
  now: number;
  /** The current stream position (what next_batch will say). */
  head: number;
}

/** Stripped state shown with an invite, as Synapse's default `room_prejoin_state`. */
const INVITE_STATE_TYPES = new Set([
  'm.room.create',
  'm.room.join_rules',
  'm.room.canonical_alias',
  'm.room.avatar',
  'm.room.name',
  'm.room.encryption',
  'm.room.topic',
]);

export interface SyncAnswer {
  body: Json;
  /** Whether anything is in it (long-polling waits otherwise). */
  empty: boolean;
}

export function buildSync(rooms: Iterable<Room>, req: SyncRequest): SyncAnswer {
  const join: Record<string, Json> = {};
  const invite: Record<string, Json> = {};
  const leave: Record<string, Json> = {};
  const { since, userId } = req;

  for (const room of rooms) {
    const now = room.membership(userId, req.head);
    const then = since === undefined ? undefined : room.membership(userId, since);
    if (now === 'join') {
      const fresh = since === undefined || then !== 'join';
      const from = fresh ? visibleFrom(room, userId) : since;
      const part = timelineAndState(room, req, from, fresh);
      if (part) join[room.id] = { ...part, ...roomExtras(room, req.head) };
    } else if (now === 'invite') {
      const pos = room.membershipPos(userId) ?? 0;
      if (since === undefined || pos > since) {
        const events = [...room.stateAt(req.head).values()]
          .filter(
            (e) => INVITE_STATE_TYPES.has(e.type) || (e.type === 'm.room.member' && e.state_key === userId),
          )
          .map(stripped);
        invite[room.id] = { invite_state: { events } };
      }
    } else if (
      (now === 'leave' || now === 'ban') &&
      since !== undefined &&
      (then === 'join' || then === 'invite')
    ) {
      const leftAt = room.membershipPos(userId) ?? req.head;
      const events = room.events.filter(
        (e) => e.pos > since && e.pos <= leftAt && (then === 'join' || e.pos === leftAt),
      );
      leave[room.id] = {
        timeline: {
          events: events.slice(-req.timelineLimit).map((e) => toClient(e, req.now, req.device)),
          limited: events.length > req.timelineLimit,
          prev_batch: `s${since}`,
        },
        state: { events: [] },
        account_data: { events: [] },
      };
    }
  }

  const empty =
    Object.keys(join).length === 0 && Object.keys(invite).length === 0 && Object.keys(leave).length === 0;
  return {
    empty,
    body: {
      next_batch: `s${req.head}`,
      rooms: { join, invite, leave, knock: {} },
      account_data: { events: [] },
      presence: { events: [] },
      to_device: { events: [] },
      device_lists: { changed: [], left: [] },
      device_one_time_keys_count: {},
    },
  };
}

/**
 * Where a room new to the client may start its timeline: like Synapse, the last events before the
 * join are shown too when the history visibility allows it (`shared`, `world_readable`).
 */
function visibleFrom(room: Room, userId: string): number | undefined {
  const visibility = room.stateEvent('m.room.history_visibility')?.content.history_visibility;
  if (visibility === 'shared' || visibility === 'world_readable') return undefined;
  return (room.membershipPos(userId) ?? 1) - 1;
}

function timelineAndState(
  room: Room,
  req: SyncRequest,
  from: number | undefined,
  fresh: boolean,
): Json | undefined {
  const newer = room.events.filter((e) => e.pos <= req.head && (from === undefined || e.pos > from));
  if (newer.length === 0 && !fresh) return undefined;
  const timeline = newer.slice(-req.timelineLimit);
  const limited = newer.length > timeline.length;
  const first = timeline[0];
  const before = first ? first.pos - 1 : req.head;
  let state: StoredEvent[];
  if (fresh) {
    // A room new to the client: the whole state at the start of the timeline.
    state = [...room.stateAt(before).values()];
  } else if (limited) {
    // Events were skipped: the state changes among them, so the client's state stays right.
    state = newer.slice(0, newer.length - timeline.length).filter((e) => e.state_key !== undefined);
    const latest = new Map(state.map((e) => [`${e.type}\u0000${e.state_key}`, e]));
    state = [...latest.values()];
  } else {
    state = [];
  }
  return {
    timeline: {
      events: timeline.map((e) => toClient(e, req.now, req.device)),
      limited: limited || (fresh && first !== undefined && room.events[0] !== first),
      prev_batch: `s${before}`,
    },
    state: { events: state.map((e) => toClient(e, req.now, req.device)) },
  };
}

function roomExtras(room: Room, head: number): Json {
  const joined = room.members('join', head);
  return {
    ephemeral: { events: [] },
    account_data: { events: [] },
    unread_notifications: { notification_count: 0, highlight_count: 0 },
    summary: {
      'm.joined_member_count': joined.length,
      'm.invited_member_count': room.members('invite', head).length,
      'm.heroes': joined.slice(0, 5),
    },
  };
}
