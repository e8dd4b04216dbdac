/**
 * Which rooms the bot is in, by the configuration's rules: it joins the configured rooms, accepts
 * invites only from `invites_from`, stays out of end-to-end encrypted rooms (it cannot read or
 * write them) and, once kicked or banned, stays out of that room for the rest of the run. Every
 * such decision is logged; none of them throws into the caller.
 */
import { KnownMembership, type MatrixClient, MatrixError, type Room } from 'matrix-js-sdk';
import type { AdapterServices, KeyValueStore } from '../../src/chat/adapter.js';
import { inviteAllowed } from './invites.js';

const DM_KEY = 'direct_rooms';

export const ENCRYPTED_REFUSAL =
  'room is end-to-end encrypted, which bbwatch does not support (see README, "Matrix"): it will not join or post there';

export class RoomKeeper {
  /** Rooms the bot will not post to in this run, and why. */
  private readonly refused = new Map<string, string>();
  private readonly aliases = new Map<string, string>();
  private readonly inviteInFlight = new Set<string>();
  private readonly direct: Set<string>;
  /** Room ids of the configured rooms, once resolved. */
  readonly configured = new Set<string>();

  constructor(
    private readonly client: MatrixClient,
    private readonly rooms: readonly string[],
    private readonly invitesFrom: readonly string[],
    private readonly state: KeyValueStore,
    private readonly log: AdapterServices['log'],
  ) {
    this.direct = new Set(parseList(state.get(DM_KEY)));
  }

  get me(): string {
    return this.client.getUserId() ?? '';
  }

  refusal(roomId: string): string | undefined {
    return this.refused.get(roomId);
  }

  /** A direct chat: the bot was invited to it as one, or it is an unconfigured room of two. */
  isDirect(room: Room): boolean {
    return (
      this.direct.has(room.roomId) || (!this.configured.has(room.roomId) && room.getJoinedMemberCount() === 2)
    );
  }

  /** `#alias:server` → `!id:server` (asks the homeserver once per alias); ids are returned as they are. */
  async resolve(roomIdOrAlias: string): Promise<string> {
    if (!roomIdOrAlias.startsWith('#')) return roomIdOrAlias;
    const known = this.aliases.get(roomIdOrAlias);
    if (known) return known;
    const { room_id: roomId } = await this.client.getRoomIdForAlias(roomIdOrAlias);
    this.aliases.set(roomIdOrAlias, roomId);
    return roomId;
  }

  /** After the first live sync: settle invites that came while away, leave encrypted rooms, join the configured ones. */
  async reconcile(): Promise<void> {
    for (const room of this.client.getRooms()) {
      const membership = room.getMyMembership();
      if (membership === KnownMembership.Invite) await this.onInvite(room);
      else if (membership === KnownMembership.Join && room.hasEncryptionStateEvent())
        await this.refuseEncrypted(room.roomId);
    }
    for (const ref of this.rooms) await this.ensureJoined(ref);
  }

  /** Joins a configured room unless it was refused in this run; false when the bot is not in it afterwards. */
  async ensureJoined(ref: string): Promise<boolean> {
    let roomId: string;
    try {
      roomId = await this.resolve(ref);
    } catch (err) {
      this.log.warn({ room: ref, err: describe(err) }, 'cannot find the Matrix room');
      return false;
    }
    this.configured.add(roomId);
    if (this.refused.has(roomId)) return false;
    if (this.client.getRoom(roomId)?.getMyMembership() === KnownMembership.Join) return true;
    try {
      // A room whose state can be read without joining (world-readable) is checked first.
      if (await this.isEncrypted(roomId)) {
        this.refuse(roomId, ENCRYPTED_REFUSAL, ref);
        return false;
      }
    } catch (err) {
      this.log.warn({ room: ref, err: describe(err) }, 'cannot join Matrix room');
      return false;
    }
    return this.join(roomId, ref);
  }

  async onInvite(room: Room): Promise<void> {
    const roomId = room.roomId;
    if (this.inviteInFlight.has(roomId)) return;
    this.inviteInFlight.add(roomId);
    try {
      const invite = room.currentState.getStateEvents('m.room.member', this.me);
      const inviter = invite?.getSender() ?? '';
      if (!inviteAllowed(inviter, this.invitesFrom)) {
        this.log.warn(
          { room: roomId, inviter },
          'Matrix invite refused: the inviter is not in chat.matrix.invites_from',
        );
        await this.leave(roomId);
        return;
      }
      if (room.hasEncryptionStateEvent()) {
        this.refuse(roomId, ENCRYPTED_REFUSAL);
        await this.leave(roomId);
        return;
      }
      if (invite?.getContent().is_direct === true) {
        this.direct.add(roomId);
        this.state.set(DM_KEY, JSON.stringify([...this.direct]));
      }
      this.refused.delete(roomId); // invited back after a kick: the inviter wants the bot there
      this.log.info({ room: roomId, inviter }, 'accepting Matrix invite');
      await this.join(roomId, roomId);
    } finally {
      this.inviteInFlight.delete(roomId);
    }
  }

  /** Our membership went to leave or ban: a kick or ban unless we left ourselves. */
  onLeft(room: Room, membership: string): void {
    const event = room.currentState.getStateEvents('m.room.member', this.me);
    const by = event?.getSender();
    if (!by || by === this.me) {
      this.log.info({ room: room.roomId }, 'left Matrix room');
      return;
    }
    const reason =
      typeof event?.getContent().reason === 'string' ? String(event.getContent().reason) : undefined;
    const what = membership === KnownMembership.Ban ? 'banned' : 'kicked';
    this.refused.set(room.roomId, `the bot was ${what} from this room by ${by}`);
    this.log.warn(
      { room: room.roomId, by, reason },
      `${what} from Matrix room; not rejoining it in this run`,
    );
  }

  /** The room turned out to be encrypted (its state said so, or it was switched on): leave it. */
  async refuseEncrypted(roomId: string): Promise<void> {
    this.refuse(roomId, ENCRYPTED_REFUSAL);
    await this.leave(roomId);
  }

  private refuse(roomId: string, why: string, ref?: string): void {
    if (!this.refused.has(roomId)) {
      this.log.error({ room: roomId, ...(ref && ref !== roomId ? { alias: ref } : {}) }, `Matrix ${why}`);
    }
    this.refused.set(roomId, why);
  }

  private async join(roomId: string, ref: string): Promise<boolean> {
    try {
      await this.client.joinRoom(roomId);
    } catch (err) {
      this.log.warn({ room: ref, err: describe(err) }, 'cannot join Matrix room');
      return false;
    }
    // Inside, the state is readable: an encrypted room is left at once.
    if (await this.isEncrypted(roomId).catch(() => false)) {
      await this.refuseEncrypted(roomId);
      return false;
    }
    this.log.info({ room: roomId, ...(ref !== roomId ? { alias: ref } : {}) }, 'joined Matrix room');
    return true;
  }

  private async isEncrypted(roomId: string): Promise<boolean> {
    try {
      await this.client.getStateEvent(roomId, 'm.room.encryption', '');
      return true;
    } catch (err) {
      // 404: no such state (not encrypted); 403: not allowed to look before joining.
      if (err instanceof MatrixError && (err.httpStatus === 404 || err.httpStatus === 403)) return false;
      throw err;
    }
  }

  private async leave(roomId: string): Promise<void> {
    try {
      await this.client.leave(roomId);
    } catch (err) {
      this.log.warn({ room: roomId, err: describe(err) }, 'cannot leave Matrix room');
    }
  }
}

export function describe(err: unknown): string {
  if (err instanceof MatrixError) return `${err.errcode ?? err.httpStatus}: ${err.data.error ?? err.message}`;
  return err instanceof Error ? err.message : String(err);
}

function parseList(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const list: unknown = JSON.parse(raw);
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
