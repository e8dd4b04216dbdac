/**
 * An HTTP-level proxy on 127.0.0.1 in front of a real Buildbot master that injects faults on
 * demand: a fraction of requests answered 500, or 429 with Retry-After, or never answered (the
 * socket stays open, silent) — WebSocket handshakes included; and `cutStreams()`, which kills every open event stream (WebSocket
 * upgrades and SSE responses) with a TCP reset, so the client sees no close frame, no end of the
 * event stream and no FIN. WebSocket upgrades are passed through as raw TCP.
 *
 *   const proxy = await startFaultProxy(lab.httpPort);
 *   proxy.setFault({ kind: 'status', status: 429, fraction: 0.5, retryAfterS: 1 }, rand);
 *   proxy.clearFault();
 *   proxy.cutStreams();
 */
import { request, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';

export type Fault =
  | { kind: 'status'; status: 500 | 429; fraction: number; retryAfterS?: number }
  | { kind: 'hang'; fraction: number };

export interface FaultStats {
  forwarded: number;
  faulted: number;
  streamsCut: number;
  /** WebSockets made silent (open, but nothing passes either way). */
  streamsSilenced: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  stats: FaultStats;
  /**
   * Injects `fault` into the next request, and into each one after it with probability
   * `fault.fraction` (drawn from `random`).
   */
  setFault(fault: Fault, random: () => number): void;
  clearFault(): void;
  /** Resets every open WebSocket and SSE connection; returns how many were cut. */
  cutStreams(): number;
  /**
   * Makes every open WebSocket silent without closing it, as a half-open link or a stuck
   * middlebox would: both sockets stay open, nothing passes either way. Returns how many.
   */
  silenceStreams(): number;
  close(): Promise<void>;
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let fault: Fault | undefined;
  let random: () => number = Math.random;
  /** The first request after setFault() always meets the fault: the fault point is deterministic. */
  let forceNext = false;
  const faultNow = (): Fault | undefined => {
    if (!fault) return undefined;
    if (forceNext || random() < fault.fraction) {
      forceNext = false;
      stats.faulted++;
      return fault;
    }
    return undefined;
  };
  const stats: FaultStats = { forwarded: 0, faulted: 0, streamsCut: 0, streamsSilenced: 0 };
  /** Every client socket, to close them all at the end. */
  const sockets = new Set<Socket>();
  /** Open event streams: the client socket and its upstream. */
  /** Open event streams; `ws` for WebSockets, whose two sockets are piped into each other. */
  const streams = new Set<{ client: Socket; upstream: { destroy(): void }; ws?: { upstream: Socket } }>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    stats.forwarded++;
    const up = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        if (String(upRes.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          const entry = { client: req.socket, upstream: upRes };
          streams.add(entry);
          req.socket.once('close', () => streams.delete(entry));
          res.flushHeaders();
        }
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  };

  const server: Server = createServer((req, res) => {
    const f = faultNow();
    if (f) {
      if (f.kind === 'hang') return; // never answered; the socket stays open until the client gives up
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (f.status === 429) headers['retry-after'] = String(f.retryAfterS ?? 1);
      res.writeHead(f.status, headers);
      res.end(JSON.stringify({ error: `injected ${f.status}` }));
      return;
    }
    forward(req, res);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const f = faultNow();
    if (f) {
      client.on('error', () => client.destroy());
      if (f.kind === 'hang') return; // the handshake is never answered
      const reason = f.status === 429 ? 'Too Many Requests' : 'Internal Server Error';
      const retry = f.status === 429 ? `Retry-After: ${f.retryAfterS ?? 1}\r\n` : '';
      client.end(`HTTP/1.1 ${f.status} ${reason}\r\n${retry}Content-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    stats.forwarded++;
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    const entry = { client, upstream, ws: { upstream } };
    streams.add(entry);
    const drop = () => {
      streams.delete(entry);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.once('connect', () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    port: address.port,
    stats,
    setFault(f, r) {
      fault = f;
      random = r;
      forceNext = true;
    },
    clearFault() {
      fault = undefined;
    },
    silenceStreams() {
      let n = 0;
      for (const entry of streams) {
        if (!entry.ws) continue;
        const { upstream } = entry.ws;
        entry.client.unpipe(upstream);
        upstream.unpipe(entry.client);
        // Whatever arrives from now on is read and dropped, so no buffer fills up.
        entry.client.on('data', () => undefined);
        upstream.on('data', () => undefined);
        n++;
      }
      stats.streamsSilenced += n;
      return n;
    },
    cutStreams() {
      let n = 0;
      for (const { client, upstream } of streams) {
        // RST rather than FIN: no close frame, no end of the event stream.
        if (!client.destroyed) client.resetAndDestroy();
        upstream.destroy();
        n++;
      }
      streams.clear();
      stats.streamsCut += n;
      return n;
    },
    close() {
      for (const s of sockets) s.destroy();
      for (const { upstream } of streams) upstream.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
