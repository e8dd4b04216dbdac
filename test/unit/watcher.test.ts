/**
 * The watcher against a small synthetic master (bench/fake-master.ts): what a stream handler
 * throws never reaches the socket's callbacks (it would end the process), and the build it was
 * processing is brought again by a back-fill.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeMaster, startFakeMaster } from '../../bench/fake-master.js';
import { MasterWatcher } from '../../src/buildbot/watcher.js';
import { Bus, Events } from '../../src/bus.js';
import { parseConfig } from '../../src/config/load.js';
import { openDb } from '../../src/store/db.js';
import { MetaStore } from '../../src/store/meta.js';
import pino from 'pino';
import { silentLog } from '../support/fleet.js';

let master: FakeMaster;
beforeAll(async () => {
  master = await startFakeMaster(2);
});
afterAll(() => master.close());

describe('watcher', () => {
  it('survives a listener that throws on a live build, and brings the build again', async () => {
    const bus = new Bus();
    const config = parseConfig(`masters:\n  - name: fake\n    url: ${master.url}\n    stream: sse\n`, 'test');
    const [m] = config.masters;
    if (!m) throw new Error('no master');
    let failNext = 0;
    const processed: Array<[number, string]> = [];
    // The history is 2 builds a builder; the replayed build is the first after it.
    const replayed = 5;
    bus.on(Events.BuildFinished, (e) => {
      if (e.build.buildid !== replayed) return;
      if (failNext > 0) {
        failNext--;
        throw new Error('Connection terminated unexpectedly'); // what pg says when the database goes
      }
      processed.push([e.build.buildid, e.origin]);
    });
    const watcher = new MasterWatcher(m, {
      bus,
      meta: new MetaStore(await openDb(':memory:')),
      log: silentLog,
    });
    await watcher.start();
    failNext = 1;
    await master.replay(1, 100);
    await vi.waitFor(() => expect(processed).toHaveLength(1), { timeout: 15_000, interval: 100 });
    expect(processed).toEqual([[replayed, 'backfill']]);
    await watcher.stop();
  }, 30_000);

  it('processes builds that finished while the stream was down before a newer live one', async () => {
    const bus = new Bus();
    const config = parseConfig(`masters:\n  - name: fake\n    url: ${master.url}\n    stream: sse\n`, 'test');
    const [m] = config.masters;
    if (!m) throw new Error('no master');
    const watcher = new MasterWatcher(m, {
      bus,
      meta: new MetaStore(await openDb(':memory:')),
      log: silentLog,
    });
    await watcher.start();
    const firstArrival: number[] = [];
    bus.on(Events.BuildFinished, (e) => {
      if (e.build.builderid === 2 && !firstArrival.includes(e.build.number))
        firstArrival.push(e.build.number);
    });
    // The stream drops; builder 2 goes red and green meanwhile; as the stream comes back, a newer
    // build's event arrives with its handshake, while the back-fill's answer is still on its way.
    master.cutStreams();
    master.finishUnstreamed(2, 2);
    master.finishUnstreamed(2, 0);
    master.finishOnNextConnect(2, 0);
    master.restDelayMs = 300;
    try {
      await vi.waitFor(() => expect(firstArrival).toHaveLength(3), { timeout: 15_000, interval: 100 });
      // Otherwise the red and the recovery would be recorded after the newer green and say nothing.
      expect(firstArrival).toEqual([3, 4, 5]);
    } finally {
      master.restDelayMs = 0;
      await watcher.stop();
    }
  }, 30_000);

  it('does not call the master down when its own store fails while loading it', async () => {
    const bus = new Bus();
    const config = parseConfig(`masters:\n  - name: fake\n    url: ${master.url}\n    stream: sse\n`, 'test');
    const [m] = config.masters;
    if (!m) throw new Error('no master');
    const db = await openDb(':memory:');
    await db.destroy(); // every statement now fails, as with a database that went away
    const warned: string[] = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => void warned.push(s) });
    const states: string[] = [];
    bus.on(Events.WatcherState, (e) => states.push(e.status));
    const watcher = new MasterWatcher(m, { bus, meta: new MetaStore(db), log });
    const started = watcher.start();
    try {
      await vi.waitFor(
        () => expect(warned.join('')).toContain("cannot record the master's builders and history"),
        {
          timeout: 10_000,
          interval: 50,
        },
      );
      expect(states).not.toContain('down');
    } finally {
      await watcher.stop();
      await started;
    }
  }, 30_000);
});
