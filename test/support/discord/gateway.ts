/**
 * The fake Discord gateway (v10, JSON, no transport compression): HELLO, IDENTIFY → READY and
 * GUILD_CREATE, heartbeats and their ACKs, dispatches with sequence numbers, RESUME with replay of
 * what the bot missed, INVALID_SESSION for an unknown session. One bot, one shard.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { snowflake } from './world.js';

export const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  Resume: 6,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

export const Intents = {
  Guilds: 1 << 0,
  GuildMessages: 1 << 9,
  DirectMessages: 1 << 12,
  MessageContent: 1 << 15,
} as const;

interface Payload {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

interface Dispatched {
  s: number;
  t: string;
  d: unknown;
}

interface Session {
  id: string;
  intents: number;
  seq: number;
  /** Every event of the session, so that a RESUME can replay what the bot missed. */
  events: Dispatched[];
  socket: WebSocket | undefined;
}

/** What the bot did on the gateway, for tests to look at. */
export interface GatewayEvent {
  kind:
    'connect' | 'identify' | 'resume' | 'resumed' | 'invalid-session' | 'heartbeat' | 'close' | 'presence';
  at: number;
  intents?: number;
  code?: number;
  /** Of a presence update: online, idle, dnd, invisible. */
  status?: string;
}

export interface GatewayOptions {
  token: string;
  heartbeatIntervalMs: number;
  /** The URL the bot reconnects to for a RESUME. */
  resumeUrl: () => string;
  /** The READY payload (without session_id and resume_gateway_url) and GUILD_CREATEs after it. */
  welcome: () => { ready: Record<string, unknown>; guilds: unknown[] };
}

export class FakeGateway extends EventEmitter {
  readonly events: GatewayEvent[] = [];
  /** Intents this bot may not use (privileged ones not switched on in the Developer Portal). */
  disallowedIntents = 0;
  private readonly wss = new WebSocketServer({ noServer: true });
  private session: Session | undefined;
  private refusing = false;

  constructor(private readonly opts: GatewayOptions) {
    super();
  }

  /** The intents of the current session (undefined before the first IDENTIFY). */
  get intents(): number | undefined {
    return this.session?.intents;
  }

  /** Whether a bot is connected right now (identified or resumed, socket open). */
  get connected(): boolean {
    return this.session?.socket?.readyState === WebSocket.OPEN;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.refusing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  /** Sends an event to the bot, or keeps it for a RESUME while the bot is away. */
  dispatch(t: string, d: unknown): void {
    const session = this.session;
    if (!session) return; // no bot has identified: Discord would deliver nothing
    const event = { s: ++session.seq, t, d };
    session.events.push(event);
    if (session.socket?.readyState === WebSocket.OPEN)
      this.send(session.socket, { op: Op.Dispatch, ...event });
  }

  /** Cuts the connection without a close frame (as a network failure would); the session stays resumable. */
  drop(): void {
    const socket = this.session?.socket;
    if (this.session) this.session.socket = undefined;
    socket?.terminate();
  }

  /** Drops the connection and refuses new ones until {@link restore}. */
  refuse(): void {
    this.refusing = true;
    this.drop();
    for (const client of this.wss.clients) client.terminate();
  }

  restore(): void {
    this.refusing = false;
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private record(event: Omit<GatewayEvent, 'at'>): void {
    this.events.push({ ...event, at: Date.now() });
    this.emit('event', event);
  }

  private send(ws: WebSocket, payload: Payload): void {
    ws.send(JSON.stringify({ s: null, t: null, ...payload }));
  }

  private accept(ws: WebSocket): void {
    this.record({ kind: 'connect' });
    ws.on('message', (data) => {
      let payload: Payload;
      try {
        payload = JSON.parse(String(data)) as Payload;
      } catch {
        ws.close(4002, 'Decode error');
        return;
      }
      this.receive(ws, payload);
    });
    ws.on('close', (code) => {
      if (this.session?.socket === ws) this.session.socket = undefined;
      this.record({ kind: 'close', code });
    });
    this.send(ws, { op: Op.Hello, d: { heartbeat_interval: this.opts.heartbeatIntervalMs } });
  }

  private receive(ws: WebSocket, payload: Payload): void {
    switch (payload.op) {
      case Op.Heartbeat:
        this.record({ kind: 'heartbeat' });
        this.send(ws, { op: Op.HeartbeatAck });
        return;
      case Op.Identify: {
        const d = payload.d as { token?: string; intents?: number };
        if (d.token !== this.opts.token) {
          ws.close(4004, 'Authentication failed.');
          return;
        }
        const intents = d.intents ?? 0;
        this.record({ kind: 'identify', intents });
        if (intents & this.disallowedIntents) {
          ws.close(4014, 'Disallowed intent(s).');
          return;
        }
        if (this.session?.socket && this.session.socket !== ws) this.session.socket.terminate();
        this.session = { id: snowflake(), intents, seq: 0, events: [], socket: ws };
        const { ready, guilds } = this.opts.welcome();
        this.dispatch('READY', {
          ...ready,
          session_id: this.session.id,
          resume_gateway_url: this.opts.resumeUrl(),
        });
        for (const guild of guilds) this.dispatch('GUILD_CREATE', guild);
        return;
      }
      case Op.PresenceUpdate: {
        const d = payload.d as { status?: unknown; activities?: unknown; since?: unknown; afk?: unknown };
        // The documented shape: status a string, activities an array, afk a boolean.
        if (typeof d?.status !== 'string' || !Array.isArray(d.activities) || typeof d.afk !== 'boolean') {
          ws.close(4002, 'Decode error');
          return;
        }
        this.record({ kind: 'presence', status: d.status });
        return;
      }
      case Op.Resume: {
        const d = payload.d as { token?: string; session_id?: string; seq?: number };
        const session = this.session;
        if (d.token !== this.opts.token || !session || d.session_id !== session.id) {
          this.record({ kind: 'invalid-session' });
          this.send(ws, { op: Op.InvalidSession, d: false });
          return;
        }
        this.record({ kind: 'resume' });
        session.socket = ws;
        for (const event of session.events) {
          if (event.s > (d.seq ?? 0)) this.send(ws, { op: Op.Dispatch, ...event });
        }
        this.dispatch('RESUMED', {});
        this.record({ kind: 'resumed' });
        return;
      }
      default:
        ws.close(4001, 'Unknown opcode.');
    }
  }
}
