/**
 * Runtime subscriptions, mutes and snoozes, worker alerts: the pure parts with a fake clock, the
 * stores over SQLite files (a restart is a second object on the same file), and the commands
 * through the dispatcher.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import { asWorkerEvent } from '../../src/buildbot/stream.js';
import { Dispatcher } from '../../src/chat/dispatcher.js';
import { parseEvents, parseFilters } from '../../src/config/rule-args.js';
import type { NotifyRule } from '../../src/config/schema.js';
import { lineText, type Message } from '../../src/messages/message.js';
import { holdingMute, type Mute, MuteService, muteLength } from '../../src/notify/mute.js';
import { destinationsFor } from '../../src/notify/rules.js';
import { describeRoom, mergeRules, Subscriptions } from '../../src/notify/subscriptions.js';
import { openDb } from '../../src/store/db.js';
import { SubscriptionStore } from '../../src/store/subscriptions.js';
import { WorkerAlerts } from '../../src/workers/alerts.js';
import { type WorkersView, workerDestinations, workerMessage } from '../../src/workers/monitor.js';
import { build, builder, controlWith, fleetWith, historyWith, silentLog } from '../support/fleet.js';

const H = 3_600_000;

function dbFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'bbwatch-living-')), 'state.sqlite');
}

function text(m: Message | undefined): string[] {
  if (!m) return [];
  return [...(m.title ? [lineText(m.title)] : []), ...m.lines.map(lineText)];
}

const subject = (builderName: string, tags: string[], event: NotifyRule['events'][number] = 'failure') => ({
  master: 'lab',
  event,
  builderName,
  tags,
});

describe('rule merge', () => {
  const config: NotifyRule[] = [
    { to: 'console', events: ['failure', 'recovery'], branches: ['3.x'] },
    { to: 'irc:#py', events: ['failure'] },
  ];

  it('runtime on adds to the config; off removes an event the config gives, for that room only', () => {
    const merged = mergeRules(config, [
      { room: 'console', event: 'recovery', enabled: false, setAt: 1 },
      { room: 'console', event: 'failure', enabled: true, branches: ['3.14'], setAt: 2 },
      { room: 'irc:#py', event: 'worker', enabled: true, setAt: 3 },
    ]);
    expect(merged).toEqual([
      { to: 'console', events: ['failure'], branches: ['3.x'] },
      { to: 'irc:#py', events: ['failure'] },
      { to: 'console', events: ['failure'], branches: ['3.14'] },
      // worker brings infra (a red that is not a test's).
      { to: 'irc:#py', events: ['worker', 'infra'] },
    ]);
    // The union of config and runtime filters: 3.x from the config, 3.14 from the runtime rule.
    expect(destinationsFor(merged, subject('AMD64 Debian root 3.14', ['3.14']))).toEqual([
      'irc:#py',
      'console',
    ]);
    expect(destinationsFor(merged, subject('AMD64 Debian root 3.x', ['3.x'], 'recovery'))).toEqual([]);
  });

  it('!notify list has one order whatever the clock: config first, then runtime events in event order', () => {
    const lines = (setAts: number[]) =>
      describeRoom('console', config, [
        { room: 'console', event: 'worker', enabled: true, setAt: setAts[0] ?? 0 },
        { room: 'console', event: 'flaky', enabled: true, setAt: setAts[1] ?? 0 },
        { room: 'console', event: 'exception', enabled: true, setAt: setAts[2] ?? 0 },
      ]).map((l) => `${l.source}:${l.event}`);
    const expected = [
      'config:failure',
      'config:recovery',
      'runtime:exception',
      'runtime:flaky',
      'runtime:worker',
      'runtime:infra',
    ];
    expect(lines([1, 2, 3])).toEqual(expected);
    expect(lines([3, 2, 1])).toEqual(expected);
    expect(lines([5, 5, 5])).toEqual(expected);
  });

  it('worker brings infra, in the config and at runtime, unless the room turned infra off', () => {
    const ops: NotifyRule[] = [{ to: 'irc:#ops', events: ['worker'] }];
    const red = subject('AMD64 Debian root 3.x', ['3.x'], 'infra');
    expect(destinationsFor(mergeRules(ops, []), red)).toEqual(['irc:#ops']);
    expect(describeRoom('irc:#ops', ops, []).map((l) => `${l.event}:${l.via ?? ''}`)).toEqual([
      'worker:',
      'infra:worker',
    ]);
    const off = [{ room: 'irc:#ops', event: 'infra' as const, enabled: false, setAt: 1 }];
    expect(destinationsFor(mergeRules(ops, off), red)).toEqual([]);
    expect(destinationsFor(mergeRules(ops, off), subject('w', [], 'worker'))).toEqual(['irc:#ops']);
    const runtime = [
      { room: 'console', event: 'worker' as const, enabled: true, setAt: 1 },
      { room: 'console', event: 'infra' as const, enabled: false, setAt: 2 },
    ];
    expect(destinationsFor(mergeRules([], runtime), red)).toEqual([]);
    // The room's own infra, with its filters, is what it hears of infra.
    const filtered = [
      { room: 'console', event: 'worker' as const, enabled: true, setAt: 1 },
      { room: 'console', event: 'infra' as const, enabled: true, tags: ['stable'], setAt: 2 },
    ];
    expect(destinationsFor(mergeRules([], filtered), red)).toEqual([]);
    expect(destinationsFor(mergeRules([], filtered), subject('X 3.x', ['stable'], 'infra'))).toEqual([
      'console',
    ]);
    expect(describeRoom('console', [], runtime).map((l) => l.event)).toEqual(['worker']);
    // A room that asked for failure only does not hear infra.
    expect(destinationsFor(mergeRules(config, []), red)).toEqual([]);
  });

  it('off for every event of a config rule drops the rule', () => {
    const merged = mergeRules(config, [{ room: 'irc:#py', event: 'failure', enabled: false, setAt: 1 }]);
    expect(merged.map((r) => r.to)).toEqual(['console']);
  });

  it('reads events and filters as typed in chat', () => {
    expect(parseEvents('failure,recovery')).toEqual(['failure', 'recovery']);
    expect(parseEvents('all')).toContain('worker');
    expect(() => parseEvents('failure,bogus')).toThrow(/'bogus' is not an event/);
    expect(parseFilters(['3.x', '3.14', 'tag:stable', 'Debian|Fedora', 'root'])).toEqual({
      branches: ['3.x', '3.14'],
      tags: ['stable'],
      builders: 'Debian|Fedora root',
    });
    expect(parseFilters(['branch:release-1'])).toEqual({ branches: ['release-1'] });
    expect(() => parseFilters(['(unclosed'])).toThrow(/not a valid regular expression/);
  });

  it('keeps runtime subscriptions across a restart, and lists both sources', async () => {
    const file = dbFile();
    const first = await Subscriptions.load(config, new SubscriptionStore(await openDb(file)), () => 1000);
    await first.on('console', ['worker'], {}, 'console');
    await first.off('console', ['recovery'], 'console');
    const again = await Subscriptions.load(config, new SubscriptionStore(await openDb(file)));
    expect(destinationsFor(again.rules(), subject('w', [], 'worker'))).toEqual(['console']);
    expect(again.list('console')).toEqual([
      { event: 'failure', source: 'config', active: true, filters: 'branches 3.x' },
      { event: 'recovery', source: 'config', active: false, filters: 'branches 3.x', setBy: 'console' },
      { event: 'worker', source: 'runtime', active: true, filters: '', setBy: 'console' },
      { event: 'infra', source: 'runtime', active: true, filters: '', setBy: 'console', via: 'worker' },
    ]);
    // `on` again for an event the room turned off: it is heard again (runtime rule, no filters).
    await again.on('console', ['recovery'], {}, 'console');
    expect(destinationsFor(again.rules(), subject('X 3.14', ['3.14'], 'recovery'))).toEqual(['console']);
  });
});

describe('mute windows', () => {
  it('clamps the length to [1 s, max] with a default', () => {
    expect(muteLength(undefined, H, 7 * 24 * H)).toBe(H);
    expect(muteLength(2 * H, H, 7 * 24 * H)).toBe(2 * H);
    expect(muteLength(30 * 24 * H, H, 7 * 24 * H)).toBe(7 * 24 * H);
    expect(muteLength(1, H, 7 * 24 * H)).toBe(1000);
  });

  it('holds a room by its mute, any room by a builder snooze, until (not including) the end', () => {
    const mutes: Mute[] = [
      { id: 1, kind: 'room', target: 'console', startedAt: 0, until: 100 },
      { id: 2, kind: 'builder', target: 'AMD64 Debian root 3.x', startedAt: 0, until: 200 },
    ];
    expect(holdingMute(mutes, 'console', 'X', 99)?.id).toBe(1);
    expect(holdingMute(mutes, 'console', 'X', 100)).toBeUndefined();
    expect(holdingMute(mutes, 'irc:#py', 'amd64 debian root 3.x', 150)?.id).toBe(2);
    expect(holdingMute(mutes, 'irc:#py', 'AMD64 Debian root 3.x', 200)).toBeUndefined();
    expect(holdingMute(mutes, 'irc:#py', undefined, 150)).toBeUndefined();
  });

  async function service(file: string, clock: { now: number }) {
    const sent: Array<{ id: number; room: string; message: Message }> = [];
    const mutes = await MuteService.load({
      store: new SubscriptionStore(await openDb(file)),
      defaultMs: H,
      maxMs: 24 * H,
      log: silentLog,
      now: () => clock.now,
      send: async (id, room, message) => void sent.push({ id, room, message }),
    });
    return { mutes, sent };
  }

  it('holds back while muted, summarises on unmute, and survives a restart', async () => {
    const file = dbFile();
    const clock = { now: 1_000_000 };
    const a = await service(file, clock);
    expect((await a.mutes.mute('console', 2 * H, 'console')).until).toBe(1_000_000 + 2 * H);
    expect(await a.mutes.hold('console', 'B 3.x', 'B 3.x #1 turned red')).toBe(true);
    expect(await a.mutes.hold('irc:#py', 'B 3.x', 'B 3.x #1 turned red')).toBe(false);
    a.mutes.stop();

    clock.now += H;
    const b = await service(file, clock); // a restart: the mute is still there
    await b.mutes.start();
    expect(b.sent).toEqual([]);
    expect(await b.mutes.hold('console', 'C 3.x', 'C 3.x #7 recovered')).toBe(true);
    expect(await b.mutes.unmute('console')).toEqual([
      'While muted (1 h): 2 announcements held back:',
      '  B 3.x #1 turned red',
      '  C 3.x #7 recovered',
    ]);
    expect(await b.mutes.hold('console', 'C 3.x', 'C 3.x #8 turned red')).toBe(false);
    expect(await b.mutes.unmute('console')).toBeUndefined();
    b.mutes.stop();
  });

  it('ends a mute that expired while the bot was stopped, telling the room', async () => {
    const file = dbFile();
    const clock = { now: 5_000_000 };
    const a = await service(file, clock);
    await a.mutes.mute('console', undefined, 'console');
    await a.mutes.hold('console', 'B 3.x', 'B 3.x #1 turned red');
    a.mutes.stop();
    clock.now += 2 * H;
    const b = await service(file, clock);
    await b.mutes.start();
    b.mutes.stop();
    expect(b.sent.map((s) => [s.room, ...text(s.message)])).toEqual([
      ['console', 'Mute ended after 1 h: 1 announcement held back:', 'B 3.x #1 turned red'],
    ]);
    expect(b.mutes.status('console').room).toBeUndefined();
  });

  it('snoozes a builder in every room; ending it tells each room that missed something', async () => {
    const clock = { now: 0 };
    const { mutes, sent } = await service(dbFile(), clock);
    await mutes.snooze('B 3.x', 30 * 60_000, 'console');
    expect(await mutes.hold('console', 'B 3.x', 'B 3.x #1 turned red')).toBe(true);
    expect(await mutes.hold('irc:#py', 'B 3.x', 'B 3.x #1 turned red')).toBe(true);
    expect(await mutes.hold('irc:#py', 'C 3.x', 'C 3.x #1 turned red')).toBe(false);
    expect(await mutes.unsnooze('b 3.x')).toBe(2);
    mutes.stop();
    expect(sent.map((s) => s.room).sort()).toEqual(['console', 'irc:#py']);
    expect(text(sent[0]?.message)[0]).toBe('Snooze of B 3.x ended after 0 s: 1 announcement held back:');
  });
});

describe('worker grace period', () => {
  const G = 5 * 60_000;

  it('announces a worker away longer than the grace period once, and its return once', () => {
    const alerts = new WorkerAlerts(G);
    alerts.baseline('lab', 1, 'w1', true);
    expect(alerts.signal('lab', 1, 'w1', 'disconnected', 1000)).toEqual([]);
    // Buildbot's later `missing` does not restart the clock.
    expect(alerts.signal('lab', 1, 'w1', 'missing', 60_000)).toEqual([]);
    expect(alerts.nextDue()).toBe(1000 + G);
    expect(alerts.due(1000 + G - 1)).toEqual([]);
    expect(alerts.due(1000 + G)).toEqual([
      { kind: 'missing', master: 'lab', workerid: 1, name: 'w1', since: 1000, at: 1000 + G },
    ]);
    expect(alerts.due(1000 + 2 * G)).toEqual([]);
    expect(alerts.nextDue()).toBeUndefined();
    expect(alerts.signal('lab', 1, 'w1', 'connected', 1000 + 3 * G)).toEqual([
      { kind: 'back', master: 'lab', workerid: 1, name: 'w1', since: 1000, at: 1000 + 3 * G },
    ]);
    expect(alerts.signal('lab', 1, 'w1', 'connected', 1000 + 4 * G)).toEqual([]);
  });

  it('says nothing about a worker back within the grace period, or one already away at start', () => {
    const alerts = new WorkerAlerts(G);
    alerts.baseline('lab', 1, 'w1', true);
    alerts.baseline('lab', 2, 'w2', false);
    alerts.signal('lab', 1, 'w1', 'disconnected', 0);
    expect(alerts.signal('lab', 1, 'w1', 'connected', G - 1)).toEqual([]);
    expect(alerts.due(10 * G)).toEqual([]);
    expect(alerts.signal('lab', 2, 'w2', 'connected', 10 * G)).toEqual([]);
  });

  it('reads worker events from the stream, and nothing else', () => {
    expect(asWorkerEvent('workers/3/disconnected', { workerid: 3, name: 'w1' })).toEqual({
      workerid: 3,
      name: 'w1',
      signal: 'disconnected',
    });
    expect(asWorkerEvent('workers/3/missing', { workerid: 3, name: 'w1' })?.signal).toBe('missing');
    expect(asWorkerEvent('workers/3/paused', { name: 'w1' })).toBeUndefined();
    expect(asWorkerEvent('workers/x/connected', { name: 'w1' })).toBeUndefined();
    expect(asWorkerEvent('workers/3/connected', null)).toBeUndefined();
  });

  it('sends worker alerts to rules with the worker event, filtered by master only', () => {
    const rules: NotifyRule[] = [
      { to: 'console', events: ['failure'] },
      { to: 'irc:#ops', events: ['worker'], branches: ['3.x'] },
      { to: 'irc:#other', events: ['worker'], masters: ['other'] },
    ];
    expect(workerDestinations(rules, 'lab')).toEqual(['irc:#ops']);
    const msg = workerMessage(
      { kind: 'missing', master: 'lab', workerid: 1, name: 'w1', since: 0, at: 6 * 60_000 },
      false,
    );
    expect(text(msg)[0]).toBe('Worker w1 is offline: gone for 6 min');
  });
});

const commandsSetup = await (async () => {
  const db = await openDb(':memory:');
  const fleet = await fleetWith(
    [builder(1, 'AMD64 Debian root 3.x', ['3.x'])],
    [build(1, 1, 0, 600)],
    'lab',
    db,
  );
  const { tests } = historyWith(db, fleet);
  const clock = { now: 10_000_000 };
  const subscriptions = await Subscriptions.load(
    [{ to: 'test', events: ['failure'] }],
    new SubscriptionStore(db),
  );
  const mutes = await MuteService.load({
    store: new SubscriptionStore(db),
    defaultMs: H,
    maxMs: 24 * H,
    log: silentLog,
    now: () => clock.now,
    send: async () => undefined,
  });
  const dispatcher = new Dispatcher({
    commands: COMMANDS,
    fleet,
    tests,
    control: controlWith(db, fleet),
    subscriptions,
    mutes,
    grants: { operate: ['test:op'], force: [] },
    log: silentLog,
  });
  return { db, fleet, tests, clock, subscriptions, mutes, dispatcher };
})();

describe('commands', () => {
  const { tests, subscriptions, mutes, dispatcher } = commandsSetup;
  const ask = async (text: string, identity = 'test:op') =>
    (
      await dispatcher.handle(
        {
          platform: 'test',
          room: 'test',
          sender: { identity, name: 'u' },
          text,
          isDirect: false,
          addressed: false,
        },
        20,
      )
    )?.lines.map(lineText) ?? [];
  const askAll = async (t: string, identity = 'test:op') => {
    const m = await dispatcher.handle(
      {
        platform: 'test',
        room: 'test',
        sender: { identity, name: 'u' },
        text: t,
        isDirect: false,
        addressed: false,
      },
      20,
    );
    return text(m);
  };

  it('!notify changes need operate (or a platform grant), listing does not', async () => {
    expect(await ask('!notify on worker', 'test:nobody')).toEqual([
      "Changing what test is notified of needs the 'operate' permission.",
    ]);
    const opByChannel = await dispatcher.handle(
      {
        platform: 'test',
        room: 'test',
        sender: { identity: undefined, name: 'chanop', platformGrants: ['operate'] },
        text: '!notify on worker',
        isDirect: false,
        addressed: false,
      },
      20,
    );
    expect(text(opByChannel)).toEqual(['test will be notified of worker.']);
    expect(await ask('!notify off failure')).toEqual(['test will no longer be notified of failure.']);
    expect(await ask('!notify on recovery 3.x tag:stable Debian')).toEqual([
      'test will be notified of recovery (branches 3.x; tags stable; builders /Debian/).',
    ]);
    expect(await askAll('!notify list', 'test:nobody')).toEqual([
      'test is notified of:',
      'failure — config: every builder — turned off here by test:op',
      // Runtime events in the documented event order, whatever order they were set in.
      'recovery — runtime: branches 3.x; tags stable; builders /Debian/ (set by test:op)',
      'worker — runtime: every builder',
      'infra (with worker) — runtime: every builder',
    ]);
    expect((await ask('!notify on bogus'))[0]).toMatch(/^'bogus' is not an event .* Usage: !notify /);
  });

  it('patterns from chat that stall a backtracking engine are accepted and matched in linear time', async () => {
    // `(.*.*)*!` took 26-37 s against this 16-character name with JavaScript's RegExp.
    const name = 'AMD64 Ubuntu 3.x';
    // Each with whether it matches 5,000 a's (case-insensitive, like every builder filter).
    const evil: Array<[string, boolean]> = [
      ['(.*.*)*!', false],
      ['(a+)+$', true],
      ['(a|aa)+$', true],
      ['(x+x+)+y', false],
      ['^(([a-z])+.)+[A-Z]([a-z])+$', true],
    ];
    for (const [pattern, matchesAs] of evil) {
      expect(await ask(`!notify on flaky ${pattern}`)).toEqual([
        `test will be notified of flaky (builders /${pattern}/).`,
      ]);
      expect(destinationsFor(subscriptions.rules(), subject(name, ['3.x'], 'flaky'))).toEqual([]);
      expect(destinationsFor(subscriptions.rules(), subject('a'.repeat(5000), [], 'flaky'))).toEqual(
        matchesAs ? ['test'] : [],
      );
      expect(await ask(`!known test_os gh-1 ${pattern}`)).toEqual([
        `test_os is now known as gh-1 on builders matching /${pattern}/.`,
      ]);
      expect(await tests.knownFor('test_os', `${name} ${'x'.repeat(5000)}`)).toEqual([]);
      expect(await ask('!unknown test_os')).toHaveLength(1);
    }
    expect((await ask('!notify on flaky (?=Debian)'))[0]).toMatch(
      /^'\(\?=Debian\)' is not a valid regular expression: .*\(lookarounds and backreferences are not supported: patterns use RE2 syntax\)\. Usage: !notify /,
    );
    expect((await ask(`!known test_os gh-1 ${'a'.repeat(301)}`))[0]).toMatch(
      /is not a valid regular expression: the pattern is too long \(301 characters, at most 300\)/,
    );
    await ask('!notify off flaky');
  });

  it('!mute, !unmute and !snooze', async () => {
    expect(await ask('!mute 2h', 'test:nobody')).toEqual(["Muting needs the 'operate' permission."]);
    expect((await ask('!mute 30d'))[0]).toMatch(/^test is muted for 1 d \(capped at 1 d\), until .* UTC\./);
    expect(await mutes.hold('test', 'X', 'X #1 turned red')).toBe(true);
    expect(await askAll('!unmute')).toEqual([
      'test is unmuted.',
      'While muted (0 s): 1 announcement held back:',
      '  X #1 turned red',
    ]);
    expect(await ask('!unmute')).toEqual(['test is not muted.']);
    expect((await ask('!snooze debian root 4h'))[0]).toMatch(
      /^AMD64 Debian root 3\.x is snoozed everywhere for 4 h, until /,
    );
    expect((await askAll('!snooze'))[1]).toMatch(/^AMD64 Debian root 3\.x until .* \(by test:op\)$/);
    expect(await ask('!snooze debian root off')).toEqual([
      'AMD64 Debian root 3.x is no longer snoozed (0 announcements had been held back).',
    ]);
    expect((await ask('!mute soon'))[0]).toMatch(/^'soon' is not a duration/);
  });
});

const workersSetup = await (async () => {
  const db = await openDb(':memory:');
  const fleet = await fleetWith([builder(1, 'AMD64 Debian root 3.x', ['3.x'])], [], 'lab', db);
  const { tests } = historyWith(db, fleet);
  return { db, fleet, tests };
})();

describe('!workers', () => {
  const { db, fleet, tests } = workersSetup;
  const view = (result: Awaited<ReturnType<WorkersView['list']>>): WorkersView => ({
    list: async () => result,
    now: () => 10 * 60_000,
  });
  const ask = async (workers: WorkersView, line: string) =>
    text(
      await new Dispatcher({
        commands: COMMANDS,
        fleet,
        tests,
        control: controlWith(db, fleet),
        workers,
        grants: { operate: [], force: [] },
        log: silentLog,
      }).handle(
        {
          platform: 'test',
          room: 'test',
          sender: { identity: 'test:u', name: 'u' },
          text: line,
          isDirect: false,
          addressed: false,
        },
        20,
      ),
    );
  const two = view({
    workers: [
      { master: 'lab', workerid: 1, name: 'w1', connected: true, builders: 3 },
      { master: 'lab', workerid: 2, name: 'w2', connected: false, builders: 1, offlineSince: 60_000 },
      { master: 'lab', workerid: 3, name: 'w0', connected: false, builders: 2 },
    ],
    unreachable: [],
  });

  it('lists offline workers first, and only them with offline', async () => {
    expect(await ask(two, '!workers')).toEqual([
      '3 workers: 1 connected, 2 offline',
      'w0 OFFLINE (2 builders)',
      'w2 OFFLINE for 9 min (1 builder)',
      'w1 connected (3 builders)',
    ]);
    expect(await ask(two, '!workers offline')).toEqual([
      '3 workers: 1 connected, 2 offline',
      'w0 OFFLINE (2 builders)',
      'w2 OFFLINE for 9 min (1 builder)',
    ]);
    expect((await ask(two, '!workers online'))[0]).toMatch(/^Only "offline" may follow\. Usage: !workers/);
  });

  it('says which master did not answer', async () => {
    const down = view({ workers: [], unreachable: [{ master: 'lab', error: 'HTTP 502' }] });
    expect(await ask(down, '!workers')).toEqual(['Cannot ask lab for its workers: HTTP 502']);
  });
});
