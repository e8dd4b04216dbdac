/**
 * Follow-ups of forced builds come from the master's build events: the requester hears "started"
 * when the stream says the build started (no polling in between), then "finished"; a build that
 * started before its request was registered is found by one look at the master, and never told
 * twice.
 */
import { describe, expect, it } from 'vitest';
import { Bus, Events } from '../../src/bus.js';
import { BuildbotRest } from '../../src/buildbot/rest.js';
import type { BuildbotBuild } from '../../src/buildbot/types.js';
import { FollowUps } from '../../src/control/followups.js';
import { lineText } from '../../src/messages/message.js';
import { ControlStore } from '../../src/store/control.js';
import { openDb } from '../../src/store/db.js';
import { builder, fleetWith, historyWith, silentLog } from '../support/fleet.js';

const BRID = 7;

function running(buildid: number, number: number): BuildbotBuild {
  return {
    buildid,
    number,
    builderid: 1,
    buildrequestid: BRID,
    started_at: Math.floor(Date.now() / 1000),
    complete_at: null,
    complete: false,
    state_string: 'building',
    results: null,
  };
}

function finished(build: BuildbotBuild): BuildbotBuild {
  return {
    ...build,
    complete: true,
    complete_at: build.started_at + 1,
    results: 0,
    state_string: 'build successful',
  };
}

/** The follow-ups over an in-memory store, a bus, and a master that answers `buildrequests/<id>/builds`. */
async function setUp(buildsOfRequest: () => BuildbotBuild[]) {
  const db = await openDb(':memory:');
  const fleet = await fleetWith([builder(1, 'AMD64 Debian root 3.x')], [], 'lab', db);
  const store = new ControlStore(db);
  const bus = new Bus();
  const asked: string[] = [];
  // The client's own typed methods over a stand-in for its one GET of a list (`list`, private).
  const rest = Object.assign(Object.create(BuildbotRest.prototype) as BuildbotRest, {
    list: async (path: string) => {
      asked.push(path);
      return buildsOfRequest();
    },
  });
  const sent: string[] = [];
  const followUps = new FollowUps({
    store,
    fleet,
    tests: historyWith(db, fleet).tests,
    rests: new Map([['lab', rest]]),
    bus,
    log: silentLog,
    send: async (_master, buildid, event, destination, message) =>
      void sent.push(`${event} ${buildid} ${destination}: ${lineText(message.title ?? [])}`),
  });
  await store.addFollowUp({
    master: 'lab',
    brid: BRID,
    room: 'test:#ci',
    requester: 'alice',
    identity: 'test:alice',
  });
  return { bus, followUps, sent, asked };
}

/** Lets pending promise callbacks run (the REST stub answers at once). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('follow-ups of a forced build', () => {
  it('say "started" when the stream says so, then "finished", without asking the master', async () => {
    const { bus, sent, asked } = await setUp(() => []);
    bus.emit(Events.WatcherState, { master: 'lab', status: 'streaming', transport: 'ws' });
    await settle();
    const before = asked.length; // the look after a (re)connect
    const build = running(100, 5);
    bus.emit(Events.BuildStarted, { master: 'lab', build });
    await settle();
    expect(sent).toEqual(['force-started 100 test:#ci: alice: AMD64 Debian root 3.x #5 started']);
    bus.emit(Events.BuildFinished, {
      master: 'lab',
      build: finished(build),
      origin: 'stream',
      receivedAt: Date.now(),
    });
    await settle();
    expect(sent).toEqual([
      'force-started 100 test:#ci: alice: AMD64 Debian root 3.x #5 started',
      'force-finished 100 test:#ci: alice: AMD64 Debian root 3.x #5 finished: green (build successful)',
    ]);
    expect(asked.length).toBe(before);
  });

  it('ignore builds of other requests and other masters', async () => {
    const { bus, sent } = await setUp(() => []);
    bus.emit(Events.BuildStarted, { master: 'lab', build: { ...running(101, 6), buildrequestid: BRID + 1 } });
    bus.emit(Events.BuildStarted, { master: 'other', build: running(102, 7) });
    expect(sent).toEqual([]);
  });

  it('find a build that started before its request was registered, and tell its start once', async () => {
    const build = running(200, 9);
    const { bus, followUps, sent, asked } = await setUp(() => [build]);
    followUps.requested('lab');
    await settle();
    expect(asked).toEqual([`buildrequests/${BRID}/builds`]);
    expect(sent).toEqual(['force-started 200 test:#ci: alice: AMD64 Debian root 3.x #9 started']);
    // The start event that was on its way meanwhile tells nothing new.
    bus.emit(Events.BuildStarted, { master: 'lab', build });
    bus.emit(Events.BuildFinished, {
      master: 'lab',
      build: finished(build),
      origin: 'stream',
      receivedAt: Date.now(),
    });
    await settle();
    expect(sent.map((s) => s.split(' ')[0])).toEqual(['force-started', 'force-finished']);
    followUps.stop();
  });

  it('follow a request Buildbot retried (RETRY, a lost worker) to the build that ends it', async () => {
    const first = running(300, 10);
    const second = running(301, 11);
    let ofRequest: BuildbotBuild[] = [];
    const { bus, followUps, sent } = await setUp(() => ofRequest);
    bus.emit(Events.BuildStarted, { master: 'lab', build: first });
    const lost = {
      ...first,
      complete: true,
      complete_at: first.started_at + 1,
      results: 5,
      state_string: 'retry lost connection test (retry)',
    };
    bus.emit(Events.BuildFinished, { master: 'lab', build: lost, origin: 'stream', receivedAt: Date.now() });
    await settle();
    // The master is asked while the request waits for a worker again: nothing new to tell.
    ofRequest = [lost];
    followUps.requested('lab');
    await settle();
    expect(sent).toEqual([
      'force-started 300 test:#ci: alice: AMD64 Debian root 3.x #10 started',
      'force-finished 300 test:#ci: alice: AMD64 Debian root 3.x #10 finished: retry (retry lost connection test (retry))',
    ]);
    // Its next build is followed like the first: its start (found by asking, as if the event
    // was missed), then its end.
    ofRequest = [lost, second];
    followUps.requested('lab');
    await settle();
    bus.emit(Events.BuildFinished, {
      master: 'lab',
      build: finished(second),
      origin: 'stream',
      receivedAt: Date.now(),
    });
    await settle();
    expect(sent.slice(2)).toEqual([
      'force-started 301 test:#ci: alice: AMD64 Debian root 3.x #11 started',
      'force-finished 301 test:#ci: alice: AMD64 Debian root 3.x #11 finished: green (build successful)',
    ]);
    followUps.stop();
  });
});
