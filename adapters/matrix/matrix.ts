/**
 * The Matrix adapter, on matrix-js-sdk: commands from room messages (`!cmd`, mentions, direct
 * chats), answers as replies, announcements as HTML notices. Which rooms it is in is RoomKeeper's
 * business; rendering is render.ts's; sending (transaction ids, rate limits) outgoing.ts's.
 *
 * Old messages are never taken for commands: everything the SDK delivers before the first /sync
 * answer that arrives after start (restored from the saved sync, or caught up from the homeserver)
 * is history; so is what a room held before the bot joined it.
 */
import {
  ClientEvent,
  createClient,
  HttpApiEvent,
  KnownMembership,
  type MatrixClient,
  type MatrixEvent,
  Method,
  type Room,
  RoomEvent,
  SyncState,
} from 'matrix-js-sdk';
import type { Logger as SdkLogger } from 'matrix-js-sdk/lib/logger.js';
import type { Adapter, AdapterServices, IncomingMessage, Sender } from '../../src/chat/adapter.js';
import { cleanText, type Message } from '../../src/chat/render-kit.js';
import { backoffDelay } from '../../src/chat/retry.js';
import { parseDestination, replyDestination } from './destination.js';
import { readCommand } from './incoming.js';
import { OutgoingQueue, type OutgoingOptions, type QueuedEvent, transactionId } from './outgoing.js';
import { grantsFor, powerLevelOf, type PowerThresholds } from './power.js';
import { fitMessage, imageContent, renderMatrix } from './render.js';
import { describe, RoomKeeper } from './rooms.js';
import { AuthError, forgetSession, openSession } from './session.js';
import { clientLogger, routeSdkLogs } from './sdk-log.js';
import { SyncStateStore } from './sync-store.js';

export interface MatrixAdapterOptions {
  /** The homeserver's client-server API base URL (`https://matrix.example.org`). */
  homeserver: string;
  /** The bot's user id (`@bbwatch:example.org`). */
  userId: string;
  /** An access token; or `password`, to log in and keep the token in the bot's state. */
  accessToken?: string;
  password?: string;
  /** The device name a password login creates. */
  deviceName?: string;
  /** Room ids or aliases to join at start (configured rooms and announcement destinations). */
  rooms: readonly string[];
  /** User ids and server names whose invites are accepted. */
  invitesFrom: readonly string[];
  /** Minimum room power level that grants `operate` / `force`. */
  powerLevels?: PowerThresholds;
  lineLimit?: number;
  /** How often the sync state is written to the bot's state (it is also written on stop). */
  saveSyncEveryMs?: number;
  /** Events kept in memory per room before its timeline is dropped (its state is kept). */
  keepEvents?: number;
  outgoing?: OutgoingOptions;
}

type OnMessage = (message: IncomingMessage) => Promise<void>;

/** What is remembered of a command event, for its reply. */
interface Asked {
  sender: string;
  thread?: string;
}

/** Bytes an event's body and formatted_body may take together (the whole event may have 65 536). */
const MAX_CONTENT_BYTES = 60_000;
const SEND_TIMEOUT_MS = 20_000;
/** Larger pictures are not uploaded (the digest's chart is a few kilobytes). */
const MAX_UPLOAD_BYTES = 1_000_000;
const RETRY_MIN_MS = 2_000;
const RETRY_MAX_MS = 60_000;

export class MatrixAdapter implements Adapter {
  readonly platform = 'matrix';
  readonly lineLimit: number;
  private services: AdapterServices | undefined;
  private onMessage: OnMessage | undefined;
  private client: MatrixClient | undefined;
  private store: SyncStateStore | undefined;
  private keeper: RoomKeeper | undefined;
  private queue: OutgoingQueue | undefined;
  private sdkLogger: SdkLogger | undefined;
  private accessToken: string | undefined;
  /** Commands are taken only once live (see the file comment). */
  private live = false;
  private connected = false;
  private stopped = false;
  /** Why the adapter is not connected, for send()'s rejection. */
  private notConnected = 'not connected to the Matrix homeserver yet';
  /** Rooms whose messages may be commands: joined as of a finished sync, or since the bot's own join. */
  private readonly open = new Set<string>();
  private readonly asked = new Map<string, Asked>();
  private handling: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed reconnects in a row: the next wait is backoffDelay of it. */
  private retryAttempt = 0;

  constructor(private readonly opts: MatrixAdapterOptions) {
    this.lineLimit = opts.lineLimit ?? 25;
  }

  private get log(): AdapterServices['log'] {
    if (!this.services) throw new Error('the Matrix adapter has not been started');
    return this.services.log;
  }

  /** What must never appear in a log line. */
  private secrets = (): string[] =>
    [this.opts.accessToken, this.opts.password, this.accessToken].filter((s): s is string => Boolean(s));

  /**
   * Connects, or keeps trying in the background when the homeserver cannot be reached: the bot runs
   * on, and announcements wait in the outbox. A token or password the homeserver rejects is a
   * configuration error and stops the start.
   */
  async start(onMessage: OnMessage, services: AdapterServices): Promise<void> {
    this.services = services;
    this.onMessage = onMessage;
    routeSdkLogs(services.log, this.secrets);
    this.sdkLogger = clientLogger(services.log, this.secrets);
    try {
      await this.connect();
    } catch (err) {
      if (err instanceof AuthError) throw new Error(`Matrix: ${err.message}`);
      this.log.warn(
        { homeserver: this.opts.homeserver, err: describe(err) },
        'cannot reach the Matrix homeserver; trying again in the background',
      );
      this.retryLater();
    }
  }

  isConnected(): boolean {
    return this.connected;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.queue?.close();
    // Goodbye: shown as offline at once rather than when the homeserver's presence times out.
    if (this.client && this.connected) {
      await Promise.race([
        this.client.setPresence({ presence: 'offline' }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 2_000).unref()),
      ]);
    }
    this.client?.stopClient();
    await this.store?.save(true);
    await this.handling;
  }

  async send(destination: string, message: Message): Promise<string | void> {
    const { room, replyTo } = parseDestination(destination);
    const { client, keeper, queue, roomId } = await this.postable(room);
    if (client.getRoom(roomId)?.getMyMembership() !== KnownMembership.Join) {
      // A configured room the bot could not join at start (it did not exist yet, say): try again now.
      const joined = this.opts.rooms.includes(room) && (await keeper.ensureJoined(room));
      if (!joined) throw new Error(`cannot post to ${room}: the bot is not in that room`);
    }
    if (client.getRoom(roomId)?.hasEncryptionStateEvent()) {
      await keeper.refuseEncrypted(roomId);
      throw new Error(`cannot post to ${room}: ${keeper.refusal(roomId) ?? 'encrypted'}`);
    }
    const txnId = transactionId(roomId, message, replyTo);
    const events: QueuedEvent[] = [{ txnId, content: this.content(message, replyTo) }];
    const image = message.image;
    if (image) {
      // The picture follows the text: uploaded when its turn comes, then posted as m.image.
      events.push({
        txnId: `${txnId}.img`,
        content: async () => imageContent(image, await this.upload(client, image), this.threadOf(replyTo)),
      });
    }
    const [eventId] = await queue.sendAll(roomId, events);
    return eventId;
  }

  /**
   * Edits a message it sent (`ref`: the event id `send` gave): an `m.replace` event whose
   * `m.new_content` is the new message, with a `* ` fallback body for clients without edits.
   */
  async edit(destination: string, ref: string, message: Message): Promise<void> {
    const { queue, roomId } = await this.postable(parseDestination(destination).room);
    const fresh = this.content(message, undefined);
    const content: Record<string, unknown> = {
      ...fresh,
      body: `* ${String(fresh.body)}`,
      formatted_body: `* ${String(fresh.formatted_body)}`,
      'm.new_content': fresh,
      'm.relates_to': { rel_type: 'm.replace', event_id: ref },
    };
    // Same edit, same transaction id: a resend after a lost answer is not a second edit.
    await queue.send(roomId, transactionId(roomId, message, `edit:${ref}`), content);
  }

  /** What posting to `room` needs, once the adapter is live and the room not refused. */
  private async postable(room: string) {
    const client = this.client;
    const keeper = this.keeper;
    const queue = this.queue;
    if (this.stopped) throw new Error('the Matrix adapter is stopped');
    if (!client || !keeper || !queue || !this.live) throw new Error(this.notConnected);
    const roomId = await keeper.resolve(room);
    const refusal = keeper.refusal(roomId);
    if (refusal) throw new Error(`cannot post to ${room}: ${refusal}`);
    return { client, keeper, queue, roomId };
  }

  /** POST /_matrix/media/v3/upload: the picture's mxc:// URI. */
  private async upload(client: MatrixClient, image: NonNullable<Message['image']>): Promise<string> {
    const data = Buffer.from(image.data, 'base64');
    if (data.length > MAX_UPLOAD_BYTES) throw new Error(`the image is too large (${data.length} bytes)`);
    const { content_uri: uri } = await client.uploadContent(data, { name: image.name, type: image.mime });
    if (!uri.startsWith('mxc://')) throw new Error(`the homeserver answered the upload with '${uri}'`);
    return uri;
  }

  /** The thread a command was in, so that everything answering it goes there. */
  private threadOf(replyTo: string | undefined): string | undefined {
    return replyTo ? this.asked.get(replyTo)?.thread : undefined;
  }

  /** The m.room.message content: an HTML notice, as a reply (in the thread) when it answers a command. */
  private content(message: Message, replyTo: string | undefined): Record<string, unknown> {
    const { body, html } = renderMatrix(fitMessage(message, MAX_CONTENT_BYTES));
    const asked = replyTo ? this.asked.get(replyTo) : undefined;
    const content: Record<string, unknown> = {
      msgtype: 'm.notice',
      body,
      format: 'org.matrix.custom.html',
      formatted_body: html,
      // An explicit list of whom to notify: build data that reads "@room" or a name pings no one.
      'm.mentions': asked ? { user_ids: [asked.sender] } : {},
    };
    if (replyTo) {
      content['m.relates_to'] = asked?.thread
        ? {
            rel_type: 'm.thread',
            event_id: asked.thread,
            is_falling_back: false,
            'm.in_reply_to': { event_id: replyTo },
          }
        : { 'm.in_reply_to': { event_id: replyTo } };
    }
    return content;
  }

  private async connect(): Promise<void> {
    const services = this.services;
    const sdkLogger = this.sdkLogger;
    if (!services || !sdkLogger) throw new Error('the Matrix adapter has not been started');
    const { homeserver, userId } = this.opts;
    const session = await openSession(
      {
        homeserver,
        userId,
        accessToken: this.opts.accessToken,
        password: this.opts.password,
        deviceName: this.opts.deviceName ?? 'bbwatch',
      },
      services.state,
      services.log,
      sdkLogger,
    );
    if (this.stopped) return;
    this.accessToken = session.accessToken;
    const store = new SyncStateStore(services.state, `${homeserver} ${userId}`, this.opts.saveSyncEveryMs);
    const client = createClient({
      baseUrl: homeserver,
      userId,
      accessToken: session.accessToken,
      deviceId: session.deviceId,
      store,
      logger: sdkLogger,
      timelineSupport: false,
    });
    this.store = store;
    this.client = client;
    this.keeper = new RoomKeeper(
      client,
      this.opts.rooms,
      this.opts.invitesFrom,
      services.state,
      services.log,
    );
    this.queue = new OutgoingQueue(
      (roomId, txnId, content) => this.put(client, roomId, txnId, content),
      services.log,
      this.opts.outgoing,
    );
    client.on(ClientEvent.Sync, (state, previous, data) =>
      this.guard(() => this.onSync(state, previous, data?.fromCache)),
    );
    client.on(RoomEvent.Timeline, (event, room, toStart, removed, data) =>
      this.guard(() => {
        if (room && !toStart && !removed && data.liveEvent) this.onTimeline(event, room);
      }),
    );
    client.on(RoomEvent.MyMembership, (room, membership, previous) =>
      this.guard(() => this.onMembership(room, membership, previous)),
    );
    client.on(HttpApiEvent.SessionLoggedOut, (err) => this.guard(() => this.onLoggedOut(describe(err))));
    await client.startClient({
      initialSyncLimit: 1,
      lazyLoadMembers: true,
      disablePresence: true,
      threadSupport: false,
    });
  }

  /** PUT /rooms/{roomId}/send/m.room.message/{txnId}: resolves once the homeserver has the event. */
  private async put(
    client: MatrixClient,
    roomId: string,
    txnId: string,
    content: Record<string, unknown>,
  ): Promise<string> {
    const path = `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
    const answer = await client.http.authedRequest<{ event_id: string }>(
      Method.Put,
      path,
      undefined,
      content,
      {
        localTimeoutMs: SEND_TIMEOUT_MS,
        // The SDK's option type picks `priority` from the DOM's RequestInit, which Node's lacks: leave it unset.
        priority: undefined,
      },
    );
    return answer.event_id;
  }

  /**
   * Reconnects after the bot's back-off. Timers rather than `retry` (src/retry.ts): a stop clears
   * the pending one, and a logout elsewhere starts it again.
   */
  private retryLater(failed?: unknown): void {
    if (this.stopped) return;
    const delayMs = backoffDelay(this.retryAttempt++, RETRY_MIN_MS, RETRY_MAX_MS);
    if (failed !== undefined)
      this.log.debug({ err: describe(failed), retryInMs: delayMs }, 'Matrix homeserver still unreachable');
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.retryAttempt = 0;
        },
        (err) => {
          if (err instanceof AuthError) {
            this.notConnected = `not connected to the Matrix homeserver: ${err.message}`;
            this.log.error({ err: err.message }, 'Matrix login failed; the Matrix adapter stays off');
            return;
          }
          this.retryLater(err);
        },
      );
    }, delayMs);
    this.retryTimer.unref();
  }

  private onSync(state: SyncState, previous: SyncState | null, fromCache: boolean | undefined): void {
    const synced = state === SyncState.Prepared || state === SyncState.Syncing;
    if (synced && !fromCache) {
      // Rooms the bot is in as of this finished sync are open for commands from the next one on.
      for (const room of this.client?.getRooms() ?? []) {
        if (room.getMyMembership() !== KnownMembership.Join) continue;
        // The SDK keeps every event of a live timeline; a bot reads each once, so the old ones go.
        if (room.getLiveTimeline().getEvents().length > (this.opts.keepEvents ?? 200)) {
          room.resetLiveTimeline(null, null);
        }
        if (room.hasEncryptionStateEvent()) {
          if (!this.keeper?.refusal(room.roomId)) void this.keeper?.refuseEncrypted(room.roomId);
          continue;
        }
        this.open.add(room.roomId);
      }
      if (!this.live) {
        this.live = true;
        this.connected = true;
        this.log.info(
          { userId: this.opts.userId, homeserver: this.opts.homeserver },
          'connected to the Matrix homeserver',
        );
        void this.settleRooms();
        this.services?.connected?.();
      } else if (!this.connected) {
        this.connected = true;
        this.log.info('the Matrix homeserver is reachable again');
        // What waited while it was away goes out now.
        this.services?.connected?.();
      }
    } else if (
      (state === SyncState.Error || state === SyncState.Reconnecting) &&
      this.connected &&
      this.live
    ) {
      this.connected = false;
      this.log.warn({ state, previous }, 'lost the Matrix homeserver; sync will resume when it is back');
    }
  }

  private async settleRooms(): Promise<void> {
    const keeper = this.keeper;
    if (!keeper) return;
    await keeper.reconcile();
    const joined = (this.client?.getRooms() ?? [])
      .filter((r) => r.getMyMembership() === KnownMembership.Join && !keeper.refusal(r.roomId))
      .map((r) => r.roomId);
    this.log.info({ joined }, 'Matrix rooms ready');
  }

  private onMembership(room: Room, membership: string, previous: string | undefined): void {
    if (!this.live || !this.keeper) return; // what happened while away is settled by reconcile()
    if (membership === KnownMembership.Invite) {
      void this.keeper.onInvite(room);
    } else if (membership === KnownMembership.Leave || membership === KnownMembership.Ban) {
      this.open.delete(room.roomId);
      if (previous === KnownMembership.Join || previous === KnownMembership.Invite)
        this.keeper.onLeft(room, membership);
    }
  }

  private onTimeline(event: MatrixEvent, room: Room): void {
    if (!this.live || !this.keeper) return;
    const me = this.opts.userId;
    if (event.getType() === 'm.room.member' && event.getStateKey() === me && event.getSender() === me) {
      if (event.getContent().membership === KnownMembership.Join) this.open.add(room.roomId);
      return;
    }
    if (event.getType() === 'm.room.encryption' && event.isState()) {
      this.open.delete(room.roomId);
      void this.keeper.refuseEncrypted(room.roomId);
      return;
    }
    if (event.getType() !== 'm.room.message' || event.getSender() === me || event.isRedacted()) return;
    if (!this.open.has(room.roomId) || this.keeper.refusal(room.roomId)) return;
    const eventId = event.getId();
    const sender = event.getSender();
    if (!eventId || !sender || this.asked.has(eventId)) return;

    const isDirect = this.keeper.isDirect(room);
    const command = readCommand(
      event.getContent(),
      { userId: me, displayName: room.getMember(me)?.rawDisplayName },
      isDirect,
    );
    if (!command) return;
    const relates = event.getContent()['m.relates_to'] as
      { rel_type?: unknown; event_id?: unknown } | undefined;
    const thread =
      relates?.rel_type === 'm.thread' && typeof relates.event_id === 'string' ? relates.event_id : undefined;
    this.remember(eventId, { sender, ...(thread ? { thread } : {}) });

    const message: IncomingMessage = {
      platform: 'matrix',
      room: replyDestination(room.roomId, eventId),
      sender: this.sender(room, sender),
      text: command.text,
      isDirect,
      addressed: command.addressed,
    };
    this.log.debug(
      {
        room: room.roomId,
        sender,
        grants: message.sender.platformGrants ?? [],
        addressed: command.addressed,
      },
      'Matrix command',
    );
    const onMessage = this.onMessage;
    if (!onMessage) return;
    // One after another, so answers come in the order the commands were written.
    this.handling = this.handling.then(() => onMessage(message)).catch(() => undefined);
  }

  /** Who wrote: the user id the homeserver vouches for, and what their room power level grants. */
  private sender(room: Room, userId: string): Sender {
    const powerLevels = room.currentState.getStateEvents('m.room.power_levels', '')?.getContent();
    const create = room.currentState.getStateEvents('m.room.create', '');
    const level = powerLevelOf(
      userId,
      powerLevels,
      create ? { sender: create.getSender() ?? '', content: create.getContent() } : undefined,
    );
    const grants = grantsFor(level, this.opts.powerLevels);
    const name = cleanText(room.getMember(userId)?.name ?? '') || userId;
    return { identity: `matrix:${userId}`, name, ...(grants.length > 0 ? { platformGrants: grants } : {}) };
  }

  /** Keeps the last few hundred command events (sender, thread) for their replies, and to answer each once. */
  private remember(eventId: string, asked: Asked): void {
    this.asked.set(eventId, asked);
    if (this.asked.size > 500) this.asked.delete(this.asked.keys().next().value as string);
  }

  private onLoggedOut(reason: string): void {
    this.live = false;
    this.connected = false;
    this.open.clear();
    void this.store?.save(true);
    this.client?.stopClient();
    this.client = undefined;
    if (this.opts.password === undefined || this.stopped) {
      this.notConnected = `the Matrix homeserver no longer accepts the bot's access token (${reason})`;
      this.log.error(
        { err: reason },
        'the Matrix homeserver logged the bot out; the Matrix adapter stays off',
      );
      return;
    }
    this.log.warn({ err: reason }, 'the Matrix homeserver logged the bot out; logging in again');
    if (this.services) forgetSession(this.services.state);
    this.retryLater();
  }

  /** Event handlers never throw into the SDK's sync loop: a failure is a log line. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.services?.log.error(
        { err: err instanceof Error ? err.stack : String(err) },
        'Matrix event handling failed',
      );
    }
  }
}
