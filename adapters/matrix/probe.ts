/**
 * `bbwatch doctor` on Matrix: the bot's session (`/whoami` on the configured token, on the token a
 * password login saved, or on a fresh password login that is logged out again at the end), the
 * rooms it is joined to, and, for each room it should post in, that it is there, may post there
 * by the room's power levels, and that the room is not end-to-end encrypted. Nothing is posted and
 * no room is joined.
 */
import { createClient, type MatrixClient, MatrixError } from 'matrix-js-sdk';
import { fail, ok, type PlatformProbe, type ProbeServices } from '../../src/chat/probe.js';
import { type CreateEvent, powerLevelOf, type PowerThresholds } from './power.js';
import { clientLogger, routeSdkLogs } from './sdk-log.js';

export interface MatrixProbeOptions {
  homeserver: string;
  userId: string;
  accessToken?: string | undefined;
  password?: string | undefined;
  deviceName: string;
  /** Rooms the bot should be in: configured ones and where announcements go, with the key that names each. */
  rooms: ReadonlyArray<{ room: string; from: string }>;
  powerLevels?: PowerThresholds | undefined;
}

const SAVED = "the token the bot's password login saved";

interface Session {
  token: string;
  /** Made by this probe (a password login): logged out at the end, so no device is left behind. */
  fresh: boolean;
  how: string;
}

export class MatrixProbe implements PlatformProbe {
  readonly platform = 'matrix';

  constructor(private readonly opts: MatrixProbeOptions) {}

  async run(s: ProbeServices): Promise<void> {
    const { opts } = this;
    const secrets = () => [opts.accessToken, opts.password].filter((x): x is string => Boolean(x));
    routeSdkLogs(s.log, secrets);
    const logger = clientLogger(s.log, secrets);
    const client = (accessToken?: string) =>
      createClient({
        baseUrl: opts.homeserver,
        accessToken,
        userId: opts.userId,
        localTimeoutMs: 10_000,
        logger,
      });
    const roomTitles = opts.rooms.map((r) => `room ${r.room}`);

    let session: Session | undefined;
    let bot: MatrixClient | undefined;
    const title = opts.accessToken ? `access token of ${opts.userId}` : `login as ${opts.userId}`;
    const who = await s.check(
      title,
      async () => {
        try {
          session = await this.session(client(), s.state);
          bot = client(session.token);
          const me = await bot.whoami().catch(async (err: unknown) => {
            // A saved token the homeserver forgot: the bot would log in again with its password.
            if (session?.how !== SAVED || !isUnknownToken(err)) throw err;
            session = await this.login(client());
            bot = client(session.token);
            return bot.whoami();
          });
          if (me.user_id !== opts.userId) {
            return fail(
              `the token belongs to ${me.user_id}`,
              `set ${s.key('chat.matrix.user_id')} to ${me.user_id}, or use ${opts.userId}'s own token`,
            );
          }
          return ok(
            `/whoami: ${me.user_id}${me.device_id ? ` (device ${me.device_id})` : ''}, ${session.how}`,
          );
        } catch (err) {
          return fail(describe(err), this.loginFix(err, s));
        }
      },
      {
        fixOnTimeout: `the homeserver did not answer: check ${s.key('chat.matrix.homeserver')} and that this machine reaches it`,
      },
    );
    try {
      if (who.status !== 'ok' || !bot) {
        for (const t of ['joined rooms', ...roomTitles]) s.skip(t, 'no session');
        return;
      }
      const matrix = bot;
      let joined = new Set<string>();
      const list = await s.check('joined rooms', async () => {
        joined = new Set((await matrix.getJoinedRooms()).joined_rooms);
        return ok(`in ${joined.size} room${joined.size === 1 ? '' : 's'}`);
      });
      if (list.status !== 'ok') {
        for (const t of roomTitles) s.skip(t, 'the joined rooms are not known');
        return;
      }
      for (const { room, from } of opts.rooms) {
        await s.check(`room ${room}`, () => this.roomCheck(matrix, room, from, joined, s));
      }
    } finally {
      if (session?.fresh && bot) await bot.logout(true).catch(() => undefined);
    }
  }

  /** The token to check: configured, saved by the bot's last password login, or a fresh login. */
  private async session(anonymous: MatrixClient, state: ProbeServices['state']): Promise<Session> {
    const { opts } = this;
    if (opts.accessToken)
      return { token: opts.accessToken, fresh: false, how: 'the configured access token' };
    const saved = savedToken(state.get('session'), opts);
    if (saved) return { token: saved, fresh: false, how: SAVED };
    return this.login(anonymous);
  }

  /** A password login of its own (a device the end of the run logs out again). */
  private async login(anonymous: MatrixClient): Promise<Session> {
    const { opts } = this;
    const answer = await anonymous.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: opts.userId },
      password: opts.password,
      initial_device_display_name: `${opts.deviceName} (doctor)`,
    });
    return { token: answer.access_token, fresh: true, how: 'password login' };
  }

  private loginFix(err: unknown, s: ProbeServices): string {
    const m = err instanceof MatrixError ? err : undefined;
    if (isUnknownToken(err)) {
      return `check ${s.key('chat.matrix.access_token')}: the homeserver does not know it (logged out, or a token of another server?)`;
    }
    if (m && (m.httpStatus === 403 || m.httpStatus === 401)) {
      return `check ${s.key('chat.matrix.password')} for ${this.opts.userId} (and ${s.key('chat.matrix.user_id')})`;
    }
    return `check ${s.key('chat.matrix.homeserver')}: the client-server API's base URL (e.g. https://matrix.example.org), reachable from this machine`;
  }

  private async roomCheck(
    client: MatrixClient,
    ref: string,
    from: string,
    joined: ReadonlySet<string>,
    s: ProbeServices,
  ) {
    const me = this.opts.userId;
    let roomId = ref;
    if (ref.startsWith('#')) {
      try {
        roomId = (await client.getRoomIdForAlias(ref)).room_id;
      } catch (err) {
        if (err instanceof MatrixError && err.httpStatus === 404) {
          return fail(
            'no room has this alias',
            `check ${s.key(from)}: the alias (#name:server) or the room id (!id:server)`,
          );
        }
        throw err;
      }
    }
    const named = roomId === ref ? ref : `${ref} (${roomId})`;
    if (!joined.has(roomId)) {
      return fail(
        `the bot is not in ${named}`,
        `invite ${me} to the room from an account listed in ${s.key('chat.matrix.invites_from')} (the bot accepts those invites), or make the room public: the bot joins its rooms at start (${s.key(from)})`,
      );
    }
    const state = async (type: string) => {
      try {
        return (await client.getStateEvent(roomId, type, '')) as Record<string, unknown>;
      } catch (err) {
        if (err instanceof MatrixError && err.httpStatus === 404) return undefined;
        throw err;
      }
    };
    if (await state('m.room.encryption')) {
      return fail(
        'the room is end-to-end encrypted',
        `bbwatch cannot post in encrypted rooms: use an unencrypted room for ${s.key(from)}`,
      );
    }
    const levels = await state('m.room.power_levels');
    let mine = powerLevelOf(me, levels);
    const needed = levelToPost(levels);
    // Since room version 12 creators outrank every level: the create event says who they are.
    if (mine < needed) mine = powerLevelOf(me, levels, await createEvent(client, roomId));
    const shown = mine === Number.POSITIVE_INFINITY ? 'creator' : String(mine);
    if (mine < needed) {
      return fail(
        `power level ${shown}, posting needs ${needed}`,
        `raise ${me}'s power level in the room to ${needed} (room settings → Roles & Permissions)`,
      );
    }
    const grants = this.opts.powerLevels;
    const extra = grants
      ? `; in chat.matrix.power_levels: ${[
          grants.operate !== undefined ? `operate at ≥${grants.operate}` : '',
          grants.force !== undefined ? `force at ≥${grants.force}` : '',
        ]
          .filter(Boolean)
          .join(', ')}`
      : '';
    return ok(`joined ${named}; power level ${shown}, posting needs ${needed}${extra}`);
  }
}

/** The level m.room.message needs: its own entry, else events_default (0 without power levels). */
function levelToPost(levels: Record<string, unknown> | undefined): number {
  if (!levels) return 0;
  const events = levels.events as Record<string, unknown> | undefined;
  const own = events?.['m.room.message'];
  if (typeof own === 'number') return own;
  return typeof levels.events_default === 'number' ? levels.events_default : 0;
}

async function createEvent(client: MatrixClient, roomId: string): Promise<CreateEvent | undefined> {
  try {
    const events = (await client.roomState(roomId)) as unknown as Array<{
      type: string;
      sender: string;
      content: Record<string, unknown>;
    }>;
    const create = events.find((e) => e.type === 'm.room.create');
    return create ? { sender: create.sender, content: create.content } : undefined;
  } catch {
    return undefined;
  }
}

function isUnknownToken(err: unknown): boolean {
  return (
    err instanceof MatrixError && (err.errcode === 'M_UNKNOWN_TOKEN' || err.errcode === 'M_MISSING_TOKEN')
  );
}

/** The token of the session the adapter saved, when it is for this account and homeserver. */
function savedToken(raw: string | undefined, opts: MatrixProbeOptions): string | undefined {
  if (!raw) return undefined;
  try {
    const saved = JSON.parse(raw) as { homeserver?: string; userId?: string; accessToken?: string };
    return saved.homeserver === opts.homeserver && saved.userId === opts.userId
      ? saved.accessToken || undefined
      : undefined;
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  if (err instanceof MatrixError)
    return `${err.errcode ?? `HTTP ${err.httpStatus}`}: ${err.data.error ?? err.message}`;
  return err instanceof Error ? err.message : String(err);
}
