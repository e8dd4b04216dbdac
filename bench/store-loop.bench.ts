/**
 * The store and the event loop (issue 16): the bot's own write path (tracker → one transaction per
 * page of builds, with its announcements in the outbox) importing 2,000 builds of history, then
 * taking 50 finished builds a second, each of which turns its builder red or green. Measured:
 * the event loop's delay (max and p99, node:perf_hooks), on SQLite and on PostgreSQL behind a
 * TCP proxy that adds 5 ms each way (a database a few network hops away). Target: max under 50 ms.
 * (Before this issue the PostgreSQL store was synchronous: the import froze the loop for seconds.)
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, it } from 'vitest';
import { Bus, Events } from '../src/bus.js';
import type { BuildbotBuild } from '../src/buildbot/types.js';
import { Notifier } from '../src/notify/notifier.js';
import { Fleet } from '../src/state/fleet.js';
import { trackFleet } from '../src/state/tracker.js';
import { BuildStore } from '../src/store/builds.js';
import { type Db, openDb } from '../src/store/db.js';
import { Outbox } from '../src/store/outbox.js';
import { openPostgres } from '../src/store/pg.js';
import { builder, MASTER_URL, silentLog } from '../test/support/fleet.js';
import { type Postgres, startPostgres } from '../test/support/postgres.js';

const BUILDERS = 100;
const HISTORY = 2_000;
const RATE = 50;
const SECONDS = Number(process.env.BENCH_STORE_SECONDS ?? 20);
const TARGET_MS = 50;

let server: Postgres | undefined;
let proxy: Server | undefined;
afterAll(() => {
  proxy?.close();
  server?.stop();
});

/** A TCP proxy to 127.0.0.1:`port` that holds every chunk `delayMs` in each direction, in order. */
async function delayProxy(port: number, delayMs: number): Promise<{ server: Server; port: number }> {
  const open = new Set<Socket>();
  const relay = (from: Socket, to: Socket) =>
    from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
  const s = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port });
    for (const sock of [client, upstream]) {
      open.add(sock);
      sock
        .on('error', () => undefined)
        .on('close', () => {
          client.destroy();
          upstream.destroy();
        });
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  s.on('close', () => open.forEach((sock) => sock.destroy()));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  return { server: s, port: typeof address === 'object' && address ? address.port : 0 };
}

let nextBuildId = 1;
function finished(builderid: number, number: number, results: number, completeAt: number): BuildbotBuild {
  return {
    buildid: nextBuildId++,
    builderid,
    number,
    results,
    complete: true,
    started_at: completeAt - 600,
    complete_at: completeAt,
    state_string: results === 2 ? 'failed test (failure)' : 'build successful',
  };
}

async function run(label: string, db: Db): Promise<string> {
  const bus = new Bus();
  const fleet = await Fleet.load(new BuildStore(db), [{ name: 'lab', url: MASTER_URL, history: 20 }]);
  const notifier = new Notifier({
    outbox: new Outbox(db),
    rules: [{ to: 'console', events: ['failure', 'recovery'] }],
    deliver: async () => undefined,
    changes: async () => [],
    fleet,
    log: silentLog,
    showMaster: false,
  });
  const tracker = trackFleet(bus, fleet, silentLog, {
    db,
    maxAgeMs: 3_600_000,
    effects: async ({ announce }, tx) => void (announce && (await notifier.record(announce, tx))),
  });
  bus.emit(Events.BuildersLoaded, {
    master: 'lab',
    builders: Array.from({ length: BUILDERS }, (_, i) => builder(i + 1, `builder ${i + 1}`)),
  });
  await tracker.settled();
  const now = Math.floor(Date.now() / 1000);
  const numbers = new Map<number, number>();
  const next = (id: number) => {
    const n = (numbers.get(id) ?? 0) + 1;
    numbers.set(id, n);
    return n;
  };

  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  for (let i = 0; i < HISTORY; i++) {
    const id = (i % BUILDERS) + 1;
    bus.emit(Events.BuildFinished, {
      master: 'lab',
      build: finished(id, next(id), 0, now - 7200 + i),
      origin: 'history',
      receivedAt: Date.now(),
    });
  }
  await tracker.settled();
  const importMs = performance.now() - t0;
  h.disable();
  const imported = { max: h.max / 1e6, p99: h.percentile(99) / 1e6 };

  const live = monitorEventLoopDelay({ resolution: 1 });
  live.enable();
  let sent = 0;
  const total = RATE * SECONDS;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const id = (sent % BUILDERS) + 1;
      // Every build of a builder flips its colour: each is a transition, announced to the console.
      const red = Math.floor(sent / BUILDERS) % 2 === 0;
      bus.emit(Events.BuildFinished, {
        master: 'lab',
        build: finished(id, next(id), red ? 2 : 0, now + sent),
        origin: 'stream',
        receivedAt: Date.now(),
      });
      if (++sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1000 / RATE);
  });
  await tracker.settled();
  live.disable();
  const events = { max: live.max / 1e6, p99: live.percentile(99) / 1e6 };
  const pending = await new Outbox(db).count('pending');
  tracker.stop();
  await notifier.stop();
  await db.destroy();
  const verdict = (ms: number) => (ms <= TARGET_MS ? 'within' : 'OVER');
  return [
    `  ${label}:`,
    `    import of ${HISTORY} builds: ${(importMs / 1000).toFixed(2)} s; event-loop delay max ${imported.max.toFixed(1)} ms, p99 ${imported.p99.toFixed(1)} ms (${verdict(imported.max)} the ${TARGET_MS} ms target)`,
    `    ${RATE} events/s for ${SECONDS} s (${pending} announcements recorded): event-loop delay max ${events.max.toFixed(1)} ms, p99 ${events.p99.toFixed(1)} ms (${verdict(events.max)} the ${TARGET_MS} ms target)`,
  ].join('\n');
}

it(`event-loop delay: ${HISTORY} builds imported, then ${RATE} events/s, SQLite and PostgreSQL 5 ms away`, async () => {
  const rows: string[] = [];
  rows.push(
    await run(
      'SQLite (a file)',
      await openDb(join(mkdtempSync(join(tmpdir(), 'bbwatch-bench-')), 'state.sqlite')),
    ),
  );
  server = await startPostgres();
  const url = server.createDatabase('bench');
  const delayed = await delayProxy(server.port, 5);
  proxy = delayed.server;
  rows.push(
    await run(
      'PostgreSQL behind a proxy adding 5 ms each way',
      await openPostgres(url.replace(`:${server.port}/`, `:${delayed.port}/`)),
    ),
  );
  console.log(`\nThe store and the event loop:\n${rows.join('\n')}`);
});
