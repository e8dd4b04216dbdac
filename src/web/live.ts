import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Bus, Events } from '../bus.js';

export interface LiveOptions {
  bus: Bus;
  /** Comment lines that keep proxies from closing an idle stream. */
  heartbeatMs?: number;
  /** Builds finishing close together make one update. */
  debounceMs?: number;
  maxClients?: number;
}

/**
 * Server-sent events for open dashboard pages: an `update` event when a build is recorded or a
 * test log analysed. Pages re-fetch their main content on it; no data travels in the stream.
 */
export class LiveUpdates {
  private readonly clients = new Set<ServerResponse>();
  private readonly unsubscribe: Array<() => void>;
  private readonly heartbeat: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;
  private pendingReasons = new Set<string>();
  private sent = 0;

  constructor(private readonly opts: LiveOptions) {
    // Facts after commit (src/state/tracker.ts); updates are coalesced, so only schedule here.
    this.unsubscribe = [
      opts.bus.on(Events.BuildRecorded, ({ origin }) => {
        if (origin !== 'history') this.schedule('build');
      }),
      opts.bus.on(Events.AnalysisStored, () => this.schedule('analysis')),
    ];
    this.heartbeat = setInterval(() => this.write(': ping\n\n'), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get listeners(): number {
    return this.clients.size;
  }

  /** Takes over the response as an event stream. */
  attach(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= (this.opts.maxClients ?? 100)) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '30' }).end('too many listeners\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write('retry: 3000\n\n');
    this.clients.add(res);
    req.socket.setKeepAlive(true);
    // The response never finishes: its close is the client going away.
    const drop = () => this.clients.delete(res);
    res.on('close', drop);
    res.on('error', drop);
  }

  /** Ends every stream and stops listening. */
  close(): void {
    for (const off of this.unsubscribe) off();
    clearInterval(this.heartbeat);
    clearTimeout(this.pending);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private schedule(reason: string): void {
    this.pendingReasons.add(reason);
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      const reasons = [...this.pendingReasons].sort().join(',');
      this.pendingReasons = new Set();
      this.sent++;
      this.write(`event: update\nid: ${this.sent}\ndata: ${JSON.stringify({ reasons })}\n\n`);
    }, this.opts.debounceMs ?? 300);
    this.pending.unref();
  }

  private write(chunk: string): void {
    for (const res of this.clients) res.write(chunk);
  }
}
