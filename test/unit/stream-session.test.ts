/**
 * The event streams carry the bot's session: a local server that, like Buildbot 4.3 on a master
 * without anonymous reads, refuses the WebSocket upgrade (and here SSE too) without the cookie.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type StreamOptions, StreamRefusedError } from '../../src/buildbot/stream.js';
import { openSseStream } from '../../src/buildbot/stream-sse.js';
import { openWebSocketStream } from '../../src/buildbot/stream-ws.js';
import { silentLog } from '../support/fleet.js';

const SESSION = 'TWISTED_SESSION=eyJ.session';
let server: Server;
let base: string;
const cookies: Array<string | undefined> = [];

const allowed = (req: IncomingMessage) => {
  cookies.push(req.headers.cookie);
  return req.headers.cookie === SESSION;
};

beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { _id: number };
      ws.send(JSON.stringify({ msg: 'OK', code: 200, _id: frame._id }));
    }),
  );
  server = createServer((req, res) => {
    if (!allowed(req)) return void res.writeHead(403).end('{"error": "you need to have role \'readers\'"}');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: handshake\ndata: 6a1c\n\n');
  });
  server.on('upgrade', (req, socket, head) => {
    if (!allowed(req)) return void socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

const options = (cookie?: string): StreamOptions => ({
  baseUrl: base,
  connectTimeoutMs: 2_000,
  ...(cookie ? { cookie } : {}),
  onBuild: () => undefined,
  log: silentLog,
});

describe.each([
  ['WebSocket', openWebSocketStream],
  ['SSE', openSseStream],
] as const)('%s', (_name, open) => {
  it('sends the session and opens', async () => {
    cookies.length = 0;
    const handle = await open(options(SESSION));
    handle.close();
    expect(cookies).toEqual([SESSION]);
  });

  it('without it, is refused with the status (403)', async () => {
    cookies.length = 0;
    const refused = await open(options()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(StreamRefusedError);
    expect((refused as StreamRefusedError).status).toBe(403);
    expect(cookies).toEqual([undefined]);
  });
});
