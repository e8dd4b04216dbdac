import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/buildbot/budget.js';
import { Bus, Events } from '../../src/bus.js';
import { Ops, startHttp } from '../../src/ops/ops.js';
import { openDb } from '../../src/store/db.js';
import { TestStore } from '../../src/store/tests.js';
import { CSP } from '../../src/web/dashboard.js';
import { mountDashboard } from '../../src/web/index.js';
import { LiveUpdates } from '../../src/web/live.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { analysis } from '../support/dashboard.js';
import { build, builder, fleetWith, silentLog } from '../support/fleet.js';

const db = await openDb(':memory:');
const red = build(1, 1, 2, 600);
const fleet = await fleetWith([builder(1, 'AMD64 Debian root 3.x', ['3.x'])], [red], 'lab', db);
const bus = new Bus();
const dashboard = mountDashboard({ db, bus, fleet });
let http: { port: number; close(): Promise<void> };
let base: string;

beforeAll(async () => {
  const ops = new Ops({
    bus,
    masters: [{ name: 'lab', budget: new RequestBudget(10, 10_000) }],
    adapters: [],
    outboxPending: () => 0,
    analysisPending: () => 0,
  });
  http = await startHttp({ listen: '127.0.0.1', port: 0, ops, log: silentLog, routes: dashboard.routes });
  base = `http://127.0.0.1:${http.port}`;
});
afterAll(async () => {
  dashboard.close();
  await http?.close();
});

/** Reads the event stream until `pattern` shows up in it. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, pattern: RegExp, timeoutMs = 6000) {
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(text)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no ${pattern} in the stream; got ${JSON.stringify(text)}`);
    const chunk = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timeout; got ${text}`)), left)),
    ]);
    if (chunk.done) throw new Error(`stream ended; got ${JSON.stringify(text)}`);
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text;
}

describe('dashboard over HTTP', () => {
  it('serves pages with a strict Content-Security-Policy and no inline script', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(CSP).toContain("default-src 'none'");
    expect(CSP).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const body = await res.text();
    expect(body).toMatch(/^<!doctype html>/);
    expect(body).toContain('<script src="./live.js" defer></script>');
    // Every script element has a src: nothing inline for the CSP to refuse.
    expect(body.match(/<script(?![^>]*\bsrc=)/g)).toBeNull();
    // Nothing loaded from elsewhere: no stylesheet, font, image or script URL.
    expect(body).not.toMatch(/<link|@import|url\(|src="(https?:)?\/\//i);
    expect(body).toContain('AMD64 Debian root 3.x');
  });

  it('serves the live script, the fragment alone, HEAD, and leaves /healthz alone', async () => {
    const js = await fetch(`${base}/live.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain("new EventSource(root + 'events')");
    const frag = await (await fetch(`${base}/flaky?fragment=1`)).text();
    expect(frag).toMatch(/^<main id="main"><h1>Flakiest tests<\/h1>/);
    expect(frag).not.toContain('<html');
    const head = await fetch(`${base}/flaky`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${base}/healthz`)).headers.get('content-type')).toBe('application/json');
  });

  it('answers 404 with a page for unknown tests, builders and paths, 405 for other methods', async () => {
    for (const path of ['/tests/test_nothing', '/builders/lab/nobody', '/nothing', '/tests/%E0%A4%A']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(await res.text()).toContain('<h1>Not found</h1>');
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${base}/`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('streams an update event when a build is recorded and when a log analysis is stored', async () => {
    const res = await fetch(`${base}/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await readUntil(reader, /^retry: 3000\n\n/);
    const next = build(1, 2, 2, 5);
    bus.emit(Events.BuildRecorded, {
      master: 'lab',
      build: {
        master: 'lab',
        buildid: next.buildid,
        builderid: 1,
        number: 2,
        results: 2,
        stateString: '',
        startedAt: null,
        completeAt: next.complete_at ?? null,
      },
      origin: 'stream',
    });
    expect(await readUntil(reader, /event: update\n/)).toMatch(
      /event: update\nid: \d+\ndata: \{"reasons":"build"\}\n\n/,
    );
    await new TestStore(db).saveDone(
      { master: 'lab', buildid: red.buildid, builderid: 1, number: 1 },
      analysis({ failed: ['test_ssl'] }),
      'http://x.invalid/log',
      { name: 'AMD64 Debian root 3.x', branch: '3.x' },
      red.complete_at ?? 0,
    );
    // The analyzer says so on the bus once the findings are stored.
    bus.emit(Events.AnalysisStored, { master: 'lab', buildid: red.buildid });
    expect(await readUntil(reader, /"reasons":"analysis"/)).toContain('event: update');
    dashboard.close();
    expect((await reader.read()).done).toBe(true);
  });

  it('forgets a listener that went away, and refuses more than the limit', async () => {
    const live = new LiveUpdates({ bus: new Bus(), maxClients: 1 });
    const server = createServer((req, res) => live.attach(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
    try {
      const first = new AbortController();
      const res = await fetch(url, { signal: first.signal });
      expect(res.status).toBe(200);
      expect(live.listeners).toBe(1);
      expect((await fetch(url)).status).toBe(503);
      first.abort();
      for (let i = 0; i < 50 && live.listeners > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(live.listeners).toBe(0);
    } finally {
      live.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
