import { EventEmitter } from 'node:events';
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { ClientOptions, Transport } from 'irc-framework';
import { PacedQueue, TokenBucket } from './flood.js';

export interface TransportSettings {
  host: string;
  port: number;
  tls: boolean;
  /** Check the server's certificate (chain and name). */
  tlsVerify: boolean;
  /** PEM of the CA(s) to trust instead of the system's. */
  ca?: string;
  /** PEM client certificate and key (SASL EXTERNAL, CertFP). */
  cert?: string;
  key?: string;
  flood: { burst: number; intervalMs: number };
}

export interface TransportHooks {
  /** A new transport (one per connection attempt) was made. */
  created(transport: PacedTransport): void;
  /** The socket failed (refused, TLS certificate rejected, reset ...). */
  error(err: Error): void;
  /** The TCP connection is up (with TLS: before the handshake). */
  connected?(): void;
}

interface Pending {
  line: string;
  cb: ((err?: Error | null) => void) | undefined;
}

/** Nothing that would end a line early or smuggle a second command may be written. */
const LINE_BREAKING = /[\r\n\0]/;

/**
 * irc-framework's transport, ours so that (1) every line the client writes, its own PONGs and
 * JOINs included, goes through one flood-controlled queue, (2) a line's callback reports whether
 * it really reached the socket (irc-framework's own transport calls back without an error when
 * the socket is gone), and (3) TLS takes a CA file and a client certificate.
 */
export class PacedTransport extends EventEmitter implements Transport {
  private socket: Socket | TLSSocket | undefined;
  private connected = false;
  /** Registration lines (CAP, SASL, NICK, USER) go straight out: servers let every client send those at once. */
  private pacing = false;
  private readonly queue: PacedQueue<Pending>;

  constructor(
    private readonly settings: TransportSettings,
    private readonly hooks: TransportHooks,
  ) {
    super();
    const bucket = new TokenBucket(settings.flood.burst, settings.flood.intervalMs);
    this.queue = new PacedQueue(bucket, (p) => this.write(p));
    hooks.created(this);
  }

  /** Lines waiting for the flood bucket. */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves once every queued line has been written (or dropped by a disconnect). */
  drained(): Promise<void> {
    return this.queue.drained();
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Registered: from now on every line waits for the flood bucket. */
  startPacing(): void {
    this.pacing = true;
  }

  connect(): void {
    const { host, port } = this.settings;
    this.disposeSocket();
    const socket = this.settings.tls
      ? tlsConnect({
          host,
          port,
          // SNI only for names, never for IP addresses (RFC 6066).
          ...(isIP(host) ? {} : { servername: host }),
          rejectUnauthorized: this.settings.tlsVerify,
          minVersion: 'TLSv1.2',
          ...(this.settings.ca ? { ca: this.settings.ca } : {}),
          ...(this.settings.cert && this.settings.key
            ? { cert: this.settings.cert, key: this.settings.key }
            : {}),
        })
      : tcpConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    let lastError: Error | undefined;
    socket.on('connect', () => this.hooks.connected?.());
    socket.on(this.settings.tls ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      this.emit('open');
    });
    let buffered = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      let nl: number;
      while ((nl = buffered.indexOf(0x0a)) >= 0) {
        const line = buffered.subarray(0, nl).toString('utf8').replace(/\r$/, '');
        buffered = buffered.subarray(nl + 1);
        this.emit('line', line);
      }
      // A server that never ends its line is not an IRC server.
      if (buffered.length > 65_536) socket.destroy(new Error('the server sent a line longer than 64 KiB'));
    });
    socket.on('error', (err) => {
      lastError = err;
      this.hooks.error(err);
    });
    socket.on('close', () => {
      this.connected = false;
      const gone = new Error('disconnected from the IRC server before the line was written');
      for (const p of this.queue.clear()) p.cb?.(gone);
      this.emit('close', lastError ?? false);
    });
  }

  writeLine(line: string, cb?: (err?: Error | null) => void): void {
    if (LINE_BREAKING.test(line)) {
      process.nextTick(() => cb?.(new Error('refused to write a line containing CR, LF or NUL')));
      return;
    }
    if (!this.connected) {
      process.nextTick(() => cb?.(new Error('not connected to the IRC server')));
      return;
    }
    if (!this.pacing) {
      this.write({ line, cb });
      return;
    }
    // PONG answers the server's keep-alive: it must not wait behind a long reply.
    this.queue.push({ line, cb }, line.startsWith('PONG '));
  }

  private write(p: Pending): void {
    const socket = this.socket;
    if (!socket || !this.connected) {
      p.cb?.(new Error('not connected to the IRC server'));
      return;
    }
    socket.write(`${p.line}\r\n`, (err) => p.cb?.(err ?? null));
  }

  close(force?: boolean): void {
    if (!this.socket) return;
    if (force || !this.connected) this.socket.destroy();
    else this.socket.end();
  }

  disposeSocket(): void {
    if (!this.socket) return;
    this.socket.removeAllListeners();
    this.socket.on('error', () => undefined);
    this.socket.destroy();
    this.socket = undefined;
    this.connected = false;
    const gone = new Error('the connection to the IRC server was closed before the line was written');
    for (const p of this.queue.clear()) p.cb?.(gone);
  }

  setEncoding(encoding: string): boolean {
    return encoding.toLowerCase().replace('-', '') === 'utf8';
  }
}

/** The transport class irc-framework instantiates (it passes its own options, which we do not need). */
export function transportClass(
  settings: TransportSettings,
  hooks: TransportHooks,
): new (options: ClientOptions) => Transport {
  return class extends PacedTransport {
    constructor(_options: ClientOptions) {
      super(settings, hooks);
    }
  };
}
