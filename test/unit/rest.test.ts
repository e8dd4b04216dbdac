import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/buildbot/budget.js';
import { BuildbotRest } from '../../src/buildbot/rest.js';
import { silentLog } from '../support/fleet.js';

/** A real HTTP server on loopback whose answers each test scripts. */
let server: Server;
let base: string;
const seen: Array<{ url: string; ua: string | undefined }> = [];
let script: Array<(res: import('node:http').ServerResponse) => void> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', ua: req.headers['user-agent'] });
    const next = script.shift();
    if (next) next(res);
    else res.writeHead(404).end('{"error":"nothing scripted"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function client(timeoutMs = 2000) {
  seen.length = 0;
  return new BuildbotRest({
    baseUrl: base,
    budget: new RequestBudget(100, 10_000),
    timeoutMs,
    log: silentLog,
    backoffMs: 10,
  });
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (res: import('node:http').ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

describe('BuildbotRest', () => {
  it('sends a User-Agent naming bbwatch and builds query strings', async () => {
    script = [json(200, { builds: [], meta: { total: 0 } })];
    await client().finishedBuildsSince(1000, 200);
    expect(seen[0]?.ua).toMatch(/^bbwatch\/\d+\.\d+\.\d+ /);
    expect(seen[0]?.url).toBe(
      '/api/v2/builds?complete=true&complete_at__ge=1000&order=complete_at&order=buildid&limit=200&offset=0',
    );
  });

  it('retries 500 and 429 (after Retry-After) and then succeeds', async () => {
    script = [
      json(500, { error: 'boom' }),
      json(429, {}, { 'retry-after': '0' }),
      json(200, { builders: [] }),
    ];
    expect(await client().builders()).toEqual([]);
    expect(seen).toHaveLength(3);
  });

  it('gives up after a few attempts with the last error', async () => {
    script = [json(503, {}), json(503, {}), json(503, {}), json(503, { error: 'still down' })];
    await expect(client().builders()).rejects.toThrow(/HTTP 503 from .*api\/v2\/builders: still down/);
  });

  it('does not retry a 404 and says what the master said', async () => {
    script = [json(404, { error: 'not found while getting from endpoint' })];
    await expect(client().builders()).rejects.toThrow(/HTTP 404 .*not found while getting/);
    expect(seen).toHaveLength(1);
  });

  it('says clearly when the answer is not Buildbot', async () => {
    script = [(res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>')];
    await expect(client().builders()).rejects.toThrow(
      /answered with something that is not JSON \("<html>login<\/html>"\)/,
    );
    script = [json(200, { hello: 'world' })];
    await expect(client().builders()).rejects.toThrow(
      /did not answer with Buildbot's API \(no "builders" list/,
    );
  });

  it('times out hanging requests', async () => {
    script = [() => undefined, () => undefined, () => undefined, () => undefined];
    await expect(client(100).builders()).rejects.toThrow(/did not answer within 100 ms/);
  });

  it('says when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const rest = new BuildbotRest({
      baseUrl: `http://127.0.0.1:${port}/`,
      budget: new RequestBudget(100, 10_000),
      timeoutMs: 500,
      log: silentLog,
      backoffMs: 5,
    });
    await expect(rest.builders()).rejects.toThrow(/could not be reached: ECONNREFUSED/);
  });
});
