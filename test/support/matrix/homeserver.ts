/**
 * A stand-in Matrix homeserver on 127.0.0.1 for tests: the client-server API paths matrix-js-sdk
 * 37.5 uses (versions, login, whoami, capabilities, push rules, filters, long-polling /sync with
 * `since` tokens, join, leave, joined rooms, room state, members, aliases, send with idempotent transaction ids,
 * media upload and authenticated download with a size limit),
 * plus what a test drives directly: users, rooms, messages from people, invites, kicks, power
 * levels, encryption, M_LIMIT_EXCEEDED on demand, and going down and coming back on the same port.
 *
 *   const hs = await startHomeserver();
 *   hs.addUser('bbwatch', { password: 'pw' });
 *   const room = hs.createRoom('@alice:hs.test', { alias: '#ci:hs.test' });
 *   const ev = hs.say('@alice:hs.test', room, '!status');
 *   await hs.waitForEvent(room, (e) => e.sender === '@bbwatch:hs.test');
 *
 * Everything a client sent is kept (`hs.requests`), and requests the stand-in does not implement are
 * answered 404 M_UNRECOGNIZED and listed in `hs.unknownRequests`, so a test can tell that the SDK
 * stayed inside what is implemented here.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Json, type Membership, Room, type StoredEvent, toClient } from './model.js';
import { buildSync } from './sync.js';

export const SERVER_NAME = 'hs.test';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  userId?: string;
  status: number;
  at: number;
  body?: unknown;
}

/** A file in the content repository. */
export interface StoredMedia {
  /** `mxc://hs.test/<id>`. */
  uri: string;
  uploader: string;
  filename: string | undefined;
  contentType: string;
  data: Buffer;
}

interface Session {
  userId: string;
  device: string;
}

interface User {
  password?: string;
  displayName: string;
}

export interface CreateRoomOptions {
  alias?: string;
  name?: string;
  /** Adds m.room.encryption (megolm) to the initial state. */
  encrypted?: boolean;
  /** Users other than the creator and their levels. */
  powerLevels?: Record<string, number>;
  /** `public` (default): anyone may join; `invite`: only invited users. */
  joinRule?: 'public' | 'invite';
  /** Room version in m.room.create (default 10). */
  version?: string;
}

class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Json = {},
  ) {
    super(message);
  }
}

type Handler = (ctx: RequestContext) => Promise<unknown> | unknown;

/** What a media download answers: bytes, not JSON. */
class Download {
  constructor(
    readonly data: Buffer,
    readonly contentType: string,
  ) {}
}

interface RequestContext {
  req: IncomingMessage;
  params: string[];
  query: Record<string, string>;
  body: Json;
  /** The bytes as sent (media uploads; `body` is then empty). */
  raw: Buffer;
  /** Set for authenticated routes. */
  session: Session;
  signal: AbortSignal;
  /** Set by a handler to cut the connection instead of answering (the work is done all the same). */
  reply: { drop: boolean };
}

interface Route {
  method: string;
  pattern: RegExp;
  auth: boolean;
  /** The body is bytes, not JSON (media uploads). */
  raw: boolean;
  handler: Handler;
}

export class Homeserver {
  readonly requests: RecordedRequest[] = [];
  /** Each user's presence as last set through the API. */
  readonly presence = new Map<string, 'online' | 'offline' | 'unavailable'>();
  readonly unknownRequests: RecordedRequest[] = [];
  /** 429 answers given, with when the client may come back. */
  readonly rateLimited: Array<{ txnId: string; at: number; retryAfterMs: number }> = [];
  /** Sends that came back before the Retry-After the stand-in gave had passed. */
  readonly tooEarly: Array<{ txnId: string; at: number; allowedAt: number }> = [];
  readonly logins: Array<{ userId: string; device: string }> = [];
  /** The content repository, by media id. */
  readonly media = new Map<string, StoredMedia>();
  /** Larger uploads are refused 413 M_TOO_LARGE (`m.upload.size` in the media config). */
  maxUploadBytes = 1_000_000;

  private readonly rooms = new Map<string, Room>();
  private readonly aliases = new Map<string, string>();
  private readonly users = new Map<string, User>();
  private readonly sessions = new Map<string, Session>();
  private readonly filters = new Map<string, Json>();
  private readonly txns = new Map<string, string>();
  private readonly changes = new EventEmitter();
  private readonly sockets = new Set<Socket>();
  private readonly routes: Route[] = [];
  private head = 0;
  private counter = 0;
  private rateLimit: { remaining: number; retryAfterMs: number; header: boolean } | undefined;
  private lostAnswers = 0;
  /** While set, sends wait for it: a homeserver that takes a message and never answers. */
  private stalled: { until: Promise<void>; resume: () => void } | undefined;
  private allowedAt = 0;
  private down = false;
  private server: Server;
  port = 0;

  constructor() {
    this.changes.setMaxListeners(0);
    this.server = this.makeServer();
    this.defineRoutes();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isDown(): boolean {
    return this.down;
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.port = address.port;
  }

  // ---- test API: people and rooms -------------------------------------------------------------

  /** A local user; returns the full user id. Give `token` to hand out an access token directly. */
  addUser(localpart: string, opts: { password?: string; token?: string; displayName?: string } = {}): string {
    const userId = `@${localpart}:${SERVER_NAME}`;
    this.users.set(userId, { password: opts.password, displayName: opts.displayName ?? localpart });
    if (opts.token) this.sessions.set(opts.token, { userId, device: `DEV${++this.counter}` });
    return userId;
  }

  /** Invalidates every access token of a user (as a logout from another device would). */
  logoutAll(userId: string): void {
    for (const [token, s] of this.sessions) if (s.userId === userId) this.sessions.delete(token);
  }

  createRoom(creator: string, opts: CreateRoomOptions = {}): string {
    const roomId = `!r${++this.counter}${randomBytes(3).toString('hex')}:${SERVER_NAME}`;
    const version = opts.version ?? '10';
    const room = new Room(roomId, version);
    this.rooms.set(roomId, room);
    this.append(room, creator, 'm.room.create', { room_version: version, creator }, '');
    this.append(room, creator, 'm.room.member', this.memberContent(creator, 'join'), creator);
    this.append(
      room,
      creator,
      'm.room.power_levels',
      {
        users: { [creator]: 100, ...opts.powerLevels },
        users_default: 0,
        events: { 'm.room.name': 50, 'm.room.power_levels': 100, 'm.room.encryption': 100 },
        events_default: 0,
        state_default: 50,
        ban: 50,
        kick: 50,
        redact: 50,
        invite: 0,
      },
      '',
    );
    this.append(room, creator, 'm.room.join_rules', { join_rule: opts.joinRule ?? 'public' }, '');
    this.append(room, creator, 'm.room.history_visibility', { history_visibility: 'shared' }, '');
    if (opts.name) this.append(room, creator, 'm.room.name', { name: opts.name }, '');
    if (opts.alias) {
      this.aliases.set(opts.alias, roomId);
      this.append(room, creator, 'm.room.canonical_alias', { alias: opts.alias }, '');
    }
    if (opts.encrypted) this.enableEncryption(creator, roomId);
    return roomId;
  }

  room(roomIdOrAlias: string): Room {
    const room = this.rooms.get(this.aliases.get(roomIdOrAlias) ?? roomIdOrAlias);
    if (!room) throw new Error(`no room ${roomIdOrAlias}`);
    return room;
  }

  join(userId: string, roomIdOrAlias: string): void {
    const room = this.room(roomIdOrAlias);
    if (room.membership(userId) !== 'join') {
      this.append(room, userId, 'm.room.member', this.memberContent(userId, 'join'), userId);
    }
  }

  invite(inviter: string, roomIdOrAlias: string, invitee: string, opts: { isDirect?: boolean } = {}): void {
    const room = this.room(roomIdOrAlias);
    const content = {
      ...this.memberContent(invitee, 'invite'),
      ...(opts.isDirect ? { is_direct: true } : {}),
    };
    this.append(room, inviter, 'm.room.member', content, invitee);
  }

  kick(kicker: string, roomIdOrAlias: string, target: string, reason?: string): void {
    const room = this.room(roomIdOrAlias);
    this.append(
      room,
      kicker,
      'm.room.member',
      { membership: 'leave', ...(reason ? { reason } : {}) },
      target,
    );
  }

  setPowerLevel(by: string, roomIdOrAlias: string, userId: string, level: number): void {
    const room = this.room(roomIdOrAlias);
    const current = room.stateEvent('m.room.power_levels')?.content ?? {};
    const users = { ...(current.users as Record<string, number> | undefined), [userId]: level };
    this.append(room, by, 'm.room.power_levels', { ...current, users }, '');
  }

  enableEncryption(by: string, roomIdOrAlias: string): void {
    this.append(this.room(roomIdOrAlias), by, 'm.room.encryption', { algorithm: 'm.megolm.v1.aes-sha2' }, '');
  }

  /** A person's message (m.text unless `content` says otherwise); returns its event id. */
  say(userId: string, roomIdOrAlias: string, body: string, content: Json = {}): string {
    const room = this.room(roomIdOrAlias);
    return this.append(room, userId, 'm.room.message', { msgtype: 'm.text', body, ...content }).event_id;
  }

  /** Every event of a room, oldest first. */
  events(roomIdOrAlias: string): StoredEvent[] {
    return [...this.room(roomIdOrAlias).events];
  }

  /** m.room.message events a user sent to a room. */
  messagesFrom(userId: string, roomIdOrAlias: string): StoredEvent[] {
    return this.events(roomIdOrAlias).filter((e) => e.sender === userId && e.type === 'm.room.message');
  }

  /**
   * What a client shows of a user's messages: edits (m.replace) applied, the newest valid one
   * winning, and the edit events themselves not shown.
   */
  shownFrom(userId: string, roomIdOrAlias: string): Array<StoredEvent & { edits: number }> {
    const all = this.messagesFrom(userId, roomIdOrAlias);
    const shown = all
      .filter((e) => replaces(e) === undefined)
      .map((e) => ({ ...e, content: { ...e.content }, edits: 0 }));
    for (const edit of all) {
      const target = shown.find((e) => e.event_id === replaces(edit));
      if (!target) continue;
      target.content = edit.content['m.new_content'] as Json;
      target.edits++;
    }
    return shown;
  }

  membership(userId: string, roomIdOrAlias: string): Membership | undefined {
    return this.room(roomIdOrAlias).membership(userId);
  }

  // ---- test API: trouble ----------------------------------------------------------------------

  /** The next `count` sends answer 429 M_LIMIT_EXCEEDED with `retryAfterMs` (in the body, or as Retry-After). */
  limitSends(count: number, retryAfterMs: number, opts: { header?: boolean } = {}): void {
    this.rateLimit = { remaining: count, retryAfterMs, header: opts.header ?? false };
  }

  /** Sends from now on hang (nothing posted, no answer) until `resumeSends()`. */
  stallSends(): void {
    let resume = () => {};
    const until = new Promise<void>((r) => (resume = r));
    this.stalled ??= { until, resume };
  }

  /** Carries out the sends that hung, and answers them. */
  resumeSends(): void {
    this.stalled?.resume();
    this.stalled = undefined;
  }

  /**
   * The next `count` sends are carried out, but their connection is cut before the answer: the
   * client cannot tell whether the event was posted, and must retry with the same transaction id.
   */
  loseSendAnswers(count: number): void {
    this.lostAnswers = count;
  }

  /** Refuses connections and drops open ones (pending long-polls included) until `up()`. */
  async goDown(): Promise<void> {
    this.down = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
    this.changed();
  }

  /** Listens again on the same port, with everything it knew. */
  async comeBack(): Promise<void> {
    this.server = this.makeServer();
    await this.listen(this.port);
    this.down = false;
    this.changed();
  }

  async close(): Promise<void> {
    this.down = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.changes.emit('change');
  }

  // ---- test API: waiting ----------------------------------------------------------------------

  /** Waits until `check` returns something truthy, re-checking on every change (event, request). */
  async until<T>(what: string, check: () => T | undefined | false | null, timeoutMs = 30_000): Promise<T> {
    const first = check();
    if (first) return first;
    return new Promise<T>((resolve, reject) => {
      const onChange = () => {
        const found = check();
        if (found) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`stand-in homeserver: timed out waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.changes.off('change', onChange);
      };
      this.changes.on('change', onChange);
    });
  }

  waitForEvent(
    roomIdOrAlias: string,
    match: (e: StoredEvent) => boolean,
    what = 'a matching event',
    timeoutMs?: number,
  ): Promise<StoredEvent> {
    return this.until(`${what} in ${roomIdOrAlias}`, () => this.events(roomIdOrAlias).find(match), timeoutMs);
  }

  /** The bot's m.room.message answering event `eventId` (as an in-reply-to relation). */
  waitForReply(roomIdOrAlias: string, eventId: string, timeoutMs?: number): Promise<StoredEvent> {
    return this.waitForEvent(
      roomIdOrAlias,
      (e) => inReplyTo(e) === eventId,
      `a reply to ${eventId}`,
      timeoutMs,
    );
  }

  waitForMembership(userId: string, roomIdOrAlias: string, membership: Membership): Promise<Membership> {
    return this.until(`${userId} to ${membership} ${roomIdOrAlias}`, () =>
      this.membership(userId, roomIdOrAlias) === membership ? membership : undefined,
    );
  }

  // ---- internals ------------------------------------------------------------------------------

  private memberContent(userId: string, membership: Membership): Json {
    const user = this.users.get(userId);
    return { membership, ...(user && membership === 'join' ? { displayname: user.displayName } : {}) };
  }

  private append(
    room: Room,
    sender: string,
    type: string,
    content: Json,
    stateKey?: string,
    txn?: StoredEvent['txn'],
  ): StoredEvent {
    const replaced = stateKey === undefined ? undefined : room.stateEvent(type, stateKey);
    const event: StoredEvent = {
      pos: ++this.head,
      room_id: room.id,
      event_id: `$ev${this.head}-${randomBytes(4).toString('hex')}`,
      type,
      sender,
      origin_server_ts: Date.now(),
      content,
      ...(stateKey !== undefined ? { state_key: stateKey } : {}),
      ...(txn ? { txn } : {}),
      ...(replaced
        ? { prev: { content: replaced.content, sender: replaced.sender, event_id: replaced.event_id } }
        : {}),
    };
    room.events.push(event);
    this.changed();
    return event;
  }

  private changed(): void {
    this.changes.emit('change');
  }

  private makeServer(): Server {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      status: 0,
      at: Date.now(),
    };
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    let status = 200;
    let payload: unknown;
    const reply = { drop: false };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    try {
      const raw = await readBody(req);
      const found = this.route(req.method ?? 'GET', url.pathname);
      let body: Json = {};
      if (raw.length > 0 && !found?.route.raw) {
        try {
          body = JSON.parse(raw.toString('utf8')) as Json;
        } catch {
          throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON.');
        }
      }
      record.body = found?.route.raw ? { bytes: raw.length } : body;
      if (req.method === 'OPTIONS') {
        payload = {};
      } else {
        if (!found) {
          this.unknownRequests.push(record);
          throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
        }
        const session = found.route.auth ? this.authenticate(req, query) : { userId: '', device: '' };
        record.userId = session.userId || undefined;
        payload = await found.route.handler({
          req,
          params: found.params,
          query,
          body,
          raw,
          session,
          signal: abort.signal,
          reply,
        });
        if (payload instanceof Download) {
          // The file itself, not JSON.
          record.status = 200;
          this.requests.push(record);
          this.changed();
          res.writeHead(200, { 'content-type': payload.contentType });
          res.end(payload.data);
          return;
        }
      }
    } catch (err) {
      if (err instanceof MatrixError) {
        status = err.status;
        payload = { errcode: err.errcode, error: err.message, ...err.extra };
        if (err.errcode === 'M_LIMIT_EXCEEDED' && this.rateLimit?.header) {
          headers['retry-after'] = String(Math.ceil(Number(err.extra.retry_after_ms) / 1000));
          delete (payload as Json).retry_after_ms;
        }
      } else {
        status = 500;
        payload = { errcode: 'M_UNKNOWN', error: String(err) };
      }
    }
    record.status = reply.drop ? 0 : status;
    this.requests.push(record);
    this.changed();
    if (reply.drop) {
      res.socket?.destroy();
      return;
    }
    if (res.destroyed) return;
    res.writeHead(status, headers);
    res.end(JSON.stringify(payload));
  }

  private route(method: string, path: string): { route: Route; params: string[] } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (m) return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
    }
    return undefined;
  }

  private authenticate(req: IncomingMessage, query: Record<string, string>): Session {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : query.access_token;
    if (!token) throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    const session = this.sessions.get(token);
    if (!session)
      throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown access token', { soft_logout: false });
    return session;
  }

  private on(method: string, path: string, handler: Handler, auth = true, raw = false): void {
    // `{x}` is one path segment; `{x*}` the rest of the path.
    const pattern = new RegExp(
      `^${path.replace(/\{[a-z]+\*\}/g, '(.*)').replace(/\{[a-z]+\}/g, '([^/]+)')}$`,
    );
    this.routes.push({ method, pattern, auth, raw, handler });
  }

  private defineRoutes(): void {
    const c = '/_matrix/client/(?:v3|r0)';
    this.on(
      'GET',
      '/_matrix/client/versions',
      () => ({ versions: ['r0.6.1', 'v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6'], unstable_features: {} }),
      false,
    );
    this.on('GET', `${c}/login`, () => ({ flows: [{ type: 'm.login.password' }] }), false);
    this.on('POST', `${c}/login`, ({ body }) => this.login(body), false);
    this.on('POST', `${c}/logout`, ({ req, query }) => {
      const header = req.headers.authorization;
      this.sessions.delete(header?.startsWith('Bearer ') ? header.slice(7) : (query.access_token ?? ''));
      return {};
    });
    this.on('GET', `${c}/account/whoami`, ({ session }) => ({
      user_id: session.userId,
      device_id: session.device,
      is_guest: false,
    }));
    this.on('GET', `${c}/capabilities`, () => ({
      capabilities: {
        'm.change_password': { enabled: false },
        'm.room_versions': { default: '10', available: { '10': 'stable', '11': 'stable', '12': 'stable' } },
      },
    }));
    this.on('GET', `${c}/pushrules/`, () => ({
      global: { override: [], content: [], room: [], sender: [], underride: [] },
    }));
    this.on('POST', `${c}/user/{user}/filter`, ({ params, body, session }) => {
      this.ownUser(params[0], session);
      const filterId = String(this.filters.size + 1);
      this.filters.set(`${session.userId}/${filterId}`, body);
      return { filter_id: filterId };
    });
    this.on('GET', `${c}/user/{user}/filter/{id}`, ({ params, session }) => {
      this.ownUser(params[0], session);
      const filter = this.filters.get(`${session.userId}/${params[1]}`);
      if (!filter) throw new MatrixError(404, 'M_NOT_FOUND', 'No such filter');
      return filter;
    });
    this.on('GET', `${c}/sync`, (ctx) => this.sync(ctx));
    this.on('POST', `${c}/join/{room}`, ({ params, session }) => this.joinHttp(session, params[0] ?? ''));
    this.on('POST', `${c}/rooms/{room}/join`, ({ params, session }) =>
      this.joinHttp(session, params[0] ?? ''),
    );
    this.on('POST', `${c}/rooms/{room}/leave`, ({ params, session }) => {
      const room = this.rooms.get(params[0] ?? '');
      if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
      const membership = room.membership(session.userId);
      if (membership === 'join' || membership === 'invite' || membership === 'knock') {
        this.append(room, session.userId, 'm.room.member', { membership: 'leave' }, session.userId);
      }
      return {};
    });
    this.on('GET', `${c}/joined_rooms`, ({ session }) => ({
      joined_rooms: [...this.rooms.values()]
        .filter((r) => r.membership(session.userId) === 'join')
        .map((r) => r.id),
    }));
    this.on('GET', `${c}/directory/room/{alias}`, ({ params }) => {
      const roomId = this.aliases.get(params[0] ?? '');
      if (!roomId) throw new MatrixError(404, 'M_NOT_FOUND', 'Room alias not found');
      return { room_id: roomId, servers: [SERVER_NAME] };
    });
    this.on('GET', `${c}/rooms/{room}/state`, ({ params, session }) => {
      const room = this.visibleRoom(params[0] ?? '', session);
      return [...room.stateAt().values()].map((e) => toClient(e, Date.now(), session.device, true));
    });
    this.on('GET', `${c}/rooms/{room}/state/{type}`, ({ params, session }) =>
      this.stateContent(session, params[0] ?? '', params[1] ?? '', ''),
    );
    this.on('GET', `${c}/rooms/{room}/state/{type}/{key*}`, ({ params, session }) =>
      this.stateContent(session, params[0] ?? '', params[1] ?? '', params[2] ?? ''),
    );
    this.on('GET', `${c}/rooms/{room}/members`, ({ params, session }) => {
      const room = this.visibleRoom(params[0] ?? '', session);
      const chunk = [...room.stateAt().values()]
        .filter((e) => e.type === 'm.room.member')
        .map((e) => toClient(e, Date.now(), session.device, true));
      return { chunk };
    });
    this.on('GET', `${c}/rooms/{room}/joined_members`, ({ params, session }) => {
      const room = this.visibleRoom(params[0] ?? '', session);
      return {
        joined: Object.fromEntries(
          room.members('join').map((u) => [u, { display_name: this.users.get(u)?.displayName ?? null }]),
        ),
      };
    });
    this.on('PUT', `${c}/presence/{user}/status`, ({ params, body, session }) => {
      const user = decodeURIComponent(params[0] ?? '');
      const presence = (body as { presence?: unknown } | undefined)?.presence;
      if (user !== session.userId)
        throw new MatrixError(403, 'M_FORBIDDEN', 'You cannot set the presence of another user');
      if (presence !== 'online' && presence !== 'offline' && presence !== 'unavailable')
        throw new MatrixError(400, 'M_BAD_JSON', 'presence must be online, offline or unavailable');
      this.presence.set(user, presence);
      return {};
    });
    this.on('PUT', `${c}/rooms/{room}/send/{type}/{txn}`, async ({ params, body, session, reply }) => {
      if (this.stalled) await this.stalled.until;
      const answer = this.send(session, params[0] ?? '', params[1] ?? '', params[2] ?? '', body);
      if (this.lostAnswers > 0) {
        this.lostAnswers--;
        reply.drop = true;
      }
      return answer;
    });
    this.defineMediaRoutes();
    this.on(
      'GET',
      `${c}/profile/{user}`,
      ({ params }) => {
        const user = this.users.get(params[0] ?? '');
        if (!user) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile not found');
        return { displayname: user.displayName };
      },
      false,
    );
  }

  /**
   * The content repository: upload (v3, authenticated, at most `maxUploadBytes`), its config, and
   * download (the authenticated v1 client path; the old unauthenticated v3 one is gone, as on
   * homeservers that froze unauthenticated media).
   */
  private defineMediaRoutes(): void {
    const config = () => ({ 'm.upload.size': this.maxUploadBytes });
    this.on('GET', '/_matrix/media/v3/config', config);
    this.on('GET', '/_matrix/client/v1/media/config', config);
    this.on(
      'POST',
      '/_matrix/media/v3/upload',
      ({ req, raw, query, session }) => {
        const declared = Number(req.headers['content-length'] ?? raw.length);
        if (raw.length > this.maxUploadBytes || declared > this.maxUploadBytes)
          throw new MatrixError(413, 'M_TOO_LARGE', 'Cannot upload files larger than the limit');
        if (raw.length === 0) throw new MatrixError(400, 'M_INVALID_PARAM', 'Empty upload');
        const id = randomBytes(12).toString('hex');
        const uri = `mxc://${SERVER_NAME}/${id}`;
        this.media.set(id, {
          uri,
          uploader: session.userId,
          filename: query.filename,
          contentType: String(req.headers['content-type'] ?? 'application/octet-stream'),
          data: raw,
        });
        return { content_uri: uri };
      },
      true,
      true,
    );
    this.on('GET', '/_matrix/client/v1/media/download/{server}/{id}', ({ params }) =>
      this.download(params[0], params[1]),
    );
    this.on('GET', '/_matrix/client/v1/media/download/{server}/{id}/{name}', ({ params }) =>
      this.download(params[0], params[1]),
    );
  }

  private download(server: string | undefined, id: string | undefined): Download {
    const media = server === SERVER_NAME ? this.media.get(id ?? '') : undefined;
    if (!media) throw new MatrixError(404, 'M_NOT_FOUND', 'Not found');
    return new Download(media.data, media.contentType);
  }

  /** A file of the content repository by its mxc:// URI. */
  mediaAt(uri: string): StoredMedia | undefined {
    const m = /^mxc:\/\/([^/]+)\/([^/]+)$/.exec(uri);
    return m && m[1] === SERVER_NAME ? this.media.get(m[2] ?? '') : undefined;
  }

  private login(body: Json): Json {
    if (body.type !== 'm.login.password') throw new MatrixError(400, 'M_UNKNOWN', 'Unknown login type');
    const identifier = body.identifier as { type?: string; user?: string } | undefined;
    const name = identifier?.user ?? (body.user as string | undefined) ?? '';
    const userId = name.startsWith('@') ? name : `@${name}:${SERVER_NAME}`;
    const user = this.users.get(userId);
    if (!user || user.password === undefined || user.password !== body.password) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');
    }
    const token = `syt_${randomBytes(12).toString('hex')}`;
    const device = typeof body.device_id === 'string' ? body.device_id : `DEV${++this.counter}`;
    this.sessions.set(token, { userId, device });
    this.logins.push({ userId, device });
    return { user_id: userId, access_token: token, device_id: device, home_server: SERVER_NAME };
  }

  private ownUser(userId: string | undefined, session: Session): void {
    if (userId !== session.userId) throw new MatrixError(403, 'M_FORBIDDEN', 'Cannot access another user');
  }

  private async sync(ctx: RequestContext): Promise<Json> {
    const { query, session, signal } = ctx;
    const since = query.since ? Number(/^s(\d+)$/.exec(query.since)?.[1] ?? Number.NaN) : undefined;
    if (since !== undefined && !Number.isInteger(since))
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Bad since token');
    const timelineLimit = this.timelineLimit(query.filter, session);
    const timeoutMs = Math.min(Number(query.timeout ?? 0) || 0, 30_000);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = buildSync(this.rooms.values(), {
        userId: session.userId,
        device: session.device,
        since,
        timelineLimit,
        now: Date.now(),
        head: this.head,
      });
      const left = deadline - Date.now();
      if (!answer.empty || since === undefined || left <= 0 || signal.aborted || this.down)
        return answer.body;
      // Long-poll: wait for anything new (or the timeout, or the client going away).
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.changes.off('change', onChange);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const headNow = this.head;
        const onChange = () => {
          if (this.head !== headNow || this.down) done();
        };
        const timer = setTimeout(done, left);
        this.changes.on('change', onChange);
        signal.addEventListener('abort', done);
      });
    }
  }

  private timelineLimit(filter: string | undefined, session: Session): number {
    let definition: Json | undefined;
    if (filter?.startsWith('{')) definition = JSON.parse(filter) as Json;
    else if (filter) definition = this.filters.get(`${session.userId}/${filter}`);
    const limit = ((definition?.room as Json | undefined)?.timeline as Json | undefined)?.limit;
    return typeof limit === 'number' && limit > 0 ? limit : 10;
  }

  private joinHttp(session: Session, roomIdOrAlias: string): Json {
    const roomId = this.aliases.get(roomIdOrAlias) ?? roomIdOrAlias;
    const room = this.rooms.get(roomId);
    if (!room) throw new MatrixError(404, 'M_NOT_FOUND', `No known servers for ${roomIdOrAlias}`);
    const membership = room.membership(session.userId);
    if (membership === 'ban') throw new MatrixError(403, 'M_FORBIDDEN', 'You are banned from the room');
    const rule = room.stateEvent('m.room.join_rules')?.content.join_rule;
    if (membership !== 'join' && membership !== 'invite' && rule !== 'public') {
      throw new MatrixError(403, 'M_FORBIDDEN', 'You are not invited to this room.');
    }
    this.join(session.userId, roomId);
    return { room_id: roomId };
  }

  /** Room state is for members (or for everyone when history is world readable). */
  private visibleRoom(roomIdOrAlias: string, session: Session): Room {
    const room = this.rooms.get(this.aliases.get(roomIdOrAlias) ?? roomIdOrAlias);
    if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    const visibility = room.stateEvent('m.room.history_visibility')?.content.history_visibility;
    if (room.membership(session.userId) !== 'join' && visibility !== 'world_readable') {
      throw new MatrixError(403, 'M_FORBIDDEN', `User ${session.userId} not in room ${room.id}`);
    }
    return room;
  }

  private stateContent(session: Session, roomId: string, type: string, key: string): Json {
    const event = this.visibleRoom(roomId, session).stateEvent(type, key);
    if (!event) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found.');
    return event.content;
  }

  private send(session: Session, roomId: string, type: string, txnId: string, content: Json): Json {
    const key = `${session.device}\u0000${roomId}\u0000${type}\u0000${txnId}`;
    const now = Date.now();
    if (now < this.allowedAt) this.tooEarly.push({ txnId, at: now, allowedAt: this.allowedAt });
    if (this.rateLimit && this.rateLimit.remaining > 0) {
      this.rateLimit.remaining--;
      const retryAfterMs = this.rateLimit.retryAfterMs;
      this.allowedAt = now + retryAfterMs;
      this.rateLimited.push({ txnId, at: now, retryAfterMs });
      throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too Many Requests', { retry_after_ms: retryAfterMs });
    }
    // The same transaction again: the same event, nothing new in the room.
    const seen = this.txns.get(key);
    if (seen) return { event_id: seen };
    const room = this.rooms.get(roomId);
    if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    if (room.membership(session.userId) !== 'join') {
      throw new MatrixError(403, 'M_FORBIDDEN', `User ${session.userId} not in room ${roomId}`);
    }
    if (room.powerLevel(session.userId) < room.levelFor(type, false)) {
      throw new MatrixError(403, 'M_FORBIDDEN', `You don't have permission to post that to the room.`);
    }
    // An edit (m.replace) must replace an event of the same room, type and sender that is not an
    // edit itself, and bring m.new_content (the spec's validity rules, which clients apply too).
    const replaced = replaces({ content } as StoredEvent);
    if (replaced !== undefined) {
      const original = room.events.find((e) => e.event_id === replaced);
      const newContent = (content as Record<string, unknown>)['m.new_content'];
      if (
        !original ||
        original.sender !== session.userId ||
        original.type !== type ||
        replaces(original) !== undefined ||
        typeof newContent !== 'object' ||
        newContent === null
      )
        throw new MatrixError(400, 'M_BAD_JSON', 'Invalid m.replace relation');
    }
    const event = this.append(room, session.userId, type, content, undefined, {
      device: session.device,
      txnId,
    });
    this.txns.set(key, event.event_id);
    return { event_id: event.event_id };
  }
}

/** The event an edit replaces, from its m.relates_to (undefined for anything but an edit). */
export function replaces(e: Pick<StoredEvent, 'content'>): string | undefined {
  const relates = e.content['m.relates_to'] as { rel_type?: string; event_id?: string } | undefined;
  return relates?.rel_type === 'm.replace' ? relates.event_id : undefined;
}

/** The event an m.room.message answers, from its m.relates_to. */
export function inReplyTo(e: StoredEvent): string | undefined {
  const relates = e.content['m.relates_to'] as { 'm.in_reply_to'?: { event_id?: string } } | undefined;
  return relates?.['m.in_reply_to']?.event_id;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startHomeserver(): Promise<Homeserver> {
  const hs = new Homeserver();
  await hs.listen();
  return hs;
}
