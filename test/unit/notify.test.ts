import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Bus, Events } from '../../src/bus.js';
import type { NotifyRule } from '../../src/config/schema.js';
import { lineText, type Message } from '../../src/messages/message.js';
import { Notifier, type NotifierOptions } from '../../src/notify/notifier.js';
import type { FailureCause } from '../../src/logs/failure-kind.js';
import type { LogFacts } from '../../src/messages/announcement.js';
import { destinationsFor } from '../../src/notify/rules.js';
import { Fleet, type Transition } from '../../src/state/fleet.js';
import { trackFleet } from '../../src/state/tracker.js';
import { BuildStore } from '../../src/store/builds.js';
import { type Db, openDb } from '../../src/store/db.js';
import { GroupStore } from '../../src/store/groups.js';
import { Outbox } from '../../src/store/outbox.js';
import type { GroupReason } from '../../src/triage/grouping.js';
import { REASON_WAIT_MS } from '../../src/notify/delivery-queue.js';
import { build, builder, MASTER_URL, silentLog } from '../support/fleet.js';

const rules: NotifyRule[] = [
  { to: 'console', events: ['failure', 'infra'] },
  { to: 'test:#stable', events: ['failure', 'recovery'], tags: ['stable'] },
];

/** A bot's core without the network: bus, fleet, tracker and notifier over one database file. */
async function core(
  db: Db,
  deliver: (destination: string, message: Message) => Promise<string | void>,
  opts: Partial<
    Pick<
      NotifierOptions,
      | 'groupWindowMs'
      | 'recoveryHoldMs'
      | 'now'
      | 'details'
      | 'tests'
      | 'rules'
      | 'reasons'
      | 'editorFor'
      | 'culprit'
    >
  > = {},
) {
  const bus = new Bus();
  const fleet = await Fleet.load(new BuildStore(db), [{ name: 'lab', url: MASTER_URL, history: 20 }]);
  const outbox = new Outbox(db);
  const notifier = new Notifier({
    outbox,
    rules,
    deliver,
    fleet,
    log: silentLog,
    showMaster: false,
    groups: new GroupStore(db),
    ...opts,
    changes: async () => [
      { revision: 'abcdef1234567890', author: 'Jane Doe <jane@example.org>', comments: 'gh-1: Fix\nmore' },
    ],
  });
  // As the bot wires it: a build and its announcements are written in one transaction.
  const tracker = trackFleet(bus, fleet, silentLog, {
    db,
    maxAgeMs: 3_600_000,
    effects: async ({ announce }, tx) => void (announce && (await notifier.record(announce, tx))),
  });
  bus.emit(Events.BuildersLoaded, {
    master: 'lab',
    builders: [
      builder(1, 'AMD64 Debian root 3.x', ['3.x', 'stable']),
      builder(2, 'PPC64LE RHEL8 3.x', ['3.x', 'unstable']),
      builder(3, 'ARM64 macOS 3.x', ['3.x', 'stable']),
      builder(4, 'AMD64 Windows11 3.x', ['3.x', 'stable']),
    ],
  });
  /** A build finishes; resolves once the bot has recorded it (and what it announces). */
  const finish = (b: ReturnType<typeof build>, origin: 'history' | 'stream' | 'backfill' = 'stream') => {
    bus.emit(Events.BuildFinished, { master: 'lab', build: b, origin, receivedAt: Date.now() });
    return tracker.settled();
  };
  return { fleet, outbox, notifier, finish };
}

function dbFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'bbwatch-notify-')), 'state.sqlite');
}

describe('announcements', () => {
  it('announces green → red once per destination, with changes and a link', async () => {
    const sent: Array<[string, Message]> = [];
    const { finish, notifier } = await core(await openDb(':memory:'), async (d, m) => void sent.push([d, m]));
    const green = build(1, 10, 0, 3600);
    await finish(green, 'history');
    const red = build(1, 11, 2, 30);
    await finish(red);
    await finish(red); // the same event twice (stream and back-fill) is one build
    await finish(build(1, 12, 2, 20)); // red after red: quiet
    await notifier.flush();
    expect(sent.map(([d]) => d)).toEqual(['console', 'test:#stable']);
    const message = sent[0]?.[1] as Message;
    expect(message.kind).toBe('announcement');
    expect(message.tone).toBe('failure');
    expect(lineText(message.title ?? [])).toBe('AMD64 Debian root 3.x #11 turned red: failed test (failure)');
    expect(message.lines.map(lineText)).toEqual([
      'Had been passing for at least 59 min (since #10).', // the history starts at #10
      'Changes since #10:',
      '  abcdef1234 Jane Doe: gh-1: Fix',
    ]);
    expect(message.link?.url).toBe(`${MASTER_URL}#/builders/1/builds/11`);
  });

  it('applies rule filters: events, tags', async () => {
    const sent: string[] = [];
    const { finish, notifier } = await core(await openDb(':memory:'), async (d) => void sent.push(d));
    await finish(build(2, 1, 0, 600), 'history');
    await finish(build(2, 2, 2, 60)); // unstable builder: only the console rule
    await finish(build(1, 1, 2, 600), 'history');
    await finish(build(1, 2, 0, 60)); // recovery: only the stable rule asks for it
    await notifier.flush();
    expect(sent).toEqual(['console', 'test:#stable']);
  });

  it('never announces imported history or transitions older than the maximum age', async () => {
    const sent: string[] = [];
    const { finish, notifier } = await core(await openDb(':memory:'), async (d) => void sent.push(d));
    await finish(build(1, 1, 0, 9000), 'history');
    await finish(build(1, 2, 2, 8000), 'history');
    await finish(build(1, 3, 0, 7500), 'backfill');
    await finish(build(1, 4, 2, 7200), 'backfill'); // two hours old: recorded, not announced
    await notifier.flush();
    expect(sent).toEqual([]);
  });

  it('resends what was not confirmed after a restart, and nothing that was', async () => {
    const file = dbFile();
    const first: string[] = [];
    let fail = false;
    const one = await core(await openDb(file), async (d, m) => {
      if (fail) throw new Error('network down');
      first.push(`${d} ${lineText(m.title ?? [])}`);
    });
    const announced = build(1, 2, 2, 60);
    await one.finish(build(1, 1, 0, 600), 'history');
    await one.finish(announced);
    await one.notifier.flush();
    expect(first).toHaveLength(2);
    fail = true;
    await one.finish(build(2, 1, 0, 600), 'history');
    await one.finish(build(2, 2, 2, 50));
    await one.notifier.flush();
    await one.notifier.stop();
    expect(await one.outbox.count('pending')).toBe(1);

    const second: string[] = [];
    const two = await core(
      await openDb(file),
      async (d, m) => void second.push(`${d} ${lineText(m.title ?? [])}`),
    );
    await two.finish(announced, 'backfill'); // a back-fill repeating an announced build changes nothing
    await two.notifier.flush();
    expect(second).toEqual(['console PPC64LE RHEL8 3.x #2 turned red: failed test (failure)']);
    expect(await two.outbox.count('pending')).toBe(0);
    expect(await two.outbox.count('sent')).toBe(3);
  });

  it('keeps each destination in order while one of them is away', async () => {
    const sent: string[] = [];
    let down = true;
    const { finish, notifier, outbox } = await core(await openDb(':memory:'), async (d, m) => {
      if (down && d === 'test:#stable') throw new Error('away');
      sent.push(`${d} ${lineText(m.title ?? []).split(/ turned|:/)[0]}`);
    });
    await finish(build(1, 1, 0, 600), 'history');
    await finish(build(1, 2, 2, 60));
    await finish(build(1, 3, 0, 50));
    await notifier.flush();
    expect(sent).toEqual(['console AMD64 Debian root 3.x #2']);
    expect(await outbox.count('pending')).toBe(2);
    down = false;
    await notifier.flush();
    await notifier.stop();
    expect(sent).toEqual([
      'console AMD64 Debian root 3.x #2',
      'test:#stable AMD64 Debian root 3.x #2',
      'test:#stable AMD64 Debian root 3.x #3 recovered (green)',
    ]);
  });
});

describe('independent destinations', () => {
  it("a platform that hangs does not delay another's announcements", async () => {
    const heard: string[] = [];
    let release: (() => void) | undefined;
    const hung: string[] = [];
    const { finish, notifier } = await core(await openDb(':memory:'), (d, m) => {
      const title = lineText(m.title ?? []).split(' turned')[0] ?? '';
      if (d === 'console') {
        heard.push(title);
        return Promise.resolve();
      }
      // test:#stable takes the first message and never answers, as a stuck connection would.
      hung.push(title);
      return new Promise<void>((r) => (release = r));
    });
    for (const id of [1, 3]) await finish(build(id, 1, 0, 900), 'history');
    await finish(build(1, 2, 2, 60)); // stable: console and test:#stable
    void notifier.flush();
    await finish(build(3, 2, 2, 50)); // stable too
    void notifier.flush();
    await vi.waitFor(() => expect(heard).toEqual(['AMD64 Debian root 3.x #2', 'ARM64 macOS 3.x #2']));
    expect(hung).toEqual(['AMD64 Debian root 3.x #2']);
    // Once it answers, what waited behind it follows, in order.
    release?.();
    await vi.waitFor(() => expect(hung).toEqual(['AMD64 Debian root 3.x #2', 'ARM64 macOS 3.x #2']));
    release?.();
    await notifier.stop();
  });
});

/** A test lookup that answers only when told to, as a slow log read would. */
function slowTests() {
  const waiting: Array<[number, (facts: LogFacts) => void]> = [];
  return {
    tests: (t: Transition) =>
      new Promise<LogFacts | undefined>((r) => waiting.push([t.builder.builderid, r])),
    answerWith(builderid: number, facts: LogFacts) {
      for (const [id, answer] of waiting) if (id === builderid) answer(facts);
    },
    answer(builderid: number, failed: string[]) {
      for (const [id, answer] of waiting) {
        if (id !== builderid) continue;
        answer({
          failed: failed.map((name) => ({ name, flakyRecently: 0, known: [] })),
          flaky: [],
          envChanged: [],
          partial: false,
          logUrl: undefined,
          flakyDays: 7,
        });
      }
    },
  };
}

const text = (m: Message) => [lineText(m.title ?? []), ...m.lines.map(lineText)].join(' | ');

describe('details as a follow-up', () => {
  it('announces a red build at once and follows with its failing tests and changes when read', async () => {
    const sent: string[] = [];
    const slow = slowTests();
    const { finish, notifier, outbox } = await core(
      await openDb(':memory:'),
      async (d, m) => void (d === 'console' && sent.push(text(m))),
      { details: 'followup', tests: slow.tests },
    );
    for (const id of [1, 2]) await finish(build(id, 1, 0, 900), 'history');
    await finish(build(1, 2, 2, 60));
    await notifier.flush();
    // The head does not wait for the log.
    expect(sent).toEqual(['AMD64 Debian root 3.x #2 turned red: failed test (failure)']);
    // Nor does a second builder's head wait for the first one's details.
    await finish(build(2, 2, 2, 50));
    await notifier.flush();
    expect(sent[1]).toMatch(/^PPC64LE RHEL8 3\.x #2 turned red/);
    slow.answer(1, ['test_ssl', 'test_os']);
    await vi.waitFor(() => expect(sent).toHaveLength(3));
    expect(sent[2]).toBe(
      'AMD64 Debian root 3.x #2: 2 failed tests | Failed: test_ssl, test_os | Had been passing for at least 14 min (since #1). | Changes since #1: |   abcdef1234 Jane Doe: gh-1: Fix',
    );
    await notifier.stop();
    // PPC64LE's details wait for its log; AMD64's went to test:#stable too.
    expect(await outbox.count('pending')).toBe(1);
  });

  it('sends details left pending by a crash after the restart, and no head twice', async () => {
    const file = dbFile();
    const first: string[] = [];
    const slow = slowTests();
    const one = await core(
      await openDb(file),
      async (d, m) => void (d === 'console' && first.push(text(m))),
      {
        details: 'followup',
        tests: slow.tests,
      },
    );
    await one.finish(build(1, 1, 0, 900), 'history');
    await one.finish(build(1, 2, 2, 60));
    await one.notifier.flush();
    await one.notifier.stop(); // the process dies before the log was read
    expect(first).toHaveLength(1);

    const second: string[] = [];
    const two = await core(
      await openDb(file),
      async (d, m) => void (d === 'console' && second.push(text(m))),
      {
        details: 'followup',
        tests: async () => undefined,
      },
    );
    await two.notifier.flush();
    await vi.waitFor(() => expect(second).toHaveLength(1));
    expect(second[0]).toMatch(
      /^AMD64 Debian root 3\.x #2: no test summary could be read \| Had been passing .* \| Changes since #1:/,
    );
    await two.notifier.stop();
    expect(await two.outbox.count('pending')).toBe(0);
  });
});

describe('one message per failure', () => {
  /** The same failing test on every builder, its error line with the builder's own number in it. */
  const ssl = (builderid: number, how?: string): GroupReason => ({
    key: 'test_ssl.test_x\nAssertionError: <n> != <n>',
    test: 'test_ssl.test_x',
    error: `AssertionError: ${builderid} != 2`,
    ...(how ? { how } : {}),
  });
  const os: GroupReason = {
    key: 'test_os.test_y\nOSError: boom',
    test: 'test_os.test_y',
    error: 'OSError: boom',
  };
  const reasonsOf =
    (table: Record<number, GroupReason[] | undefined>) =>
    async (t: Transition): Promise<GroupReason[] | undefined> =>
      table[t.builder.builderid];
  const testsOf = async (t: Transition): Promise<LogFacts> => ({
    failed: [{ name: t.builder.builderid === 4 ? 'test_os' : 'test_ssl', flakyRecently: 0, known: [] }],
    flaky: [],
    envChanged: [],
    partial: false,
    logUrl: undefined,
    flakyDays: 7,
  });
  const consoleOnly: NotifyRule[] = [{ to: 'console', events: ['failure'] }];
  const window = 30 * 60_000;

  it('IRC and the console: the first red at once, later builders of its failure in one also-on line', async () => {
    let now = 1_000_000;
    const sent: string[] = [];
    const { finish, notifier, outbox } = await core(
      await openDb(':memory:'),
      async (d, m) => void (d === 'console' && sent.push(text(m))),
      {
        rules: consoleOnly,
        details: 'followup',
        groupWindowMs: window,
        now: () => now,
        tests: testsOf,
        reasons: reasonsOf({ 1: [ssl(1)], 2: [ssl(2)], 3: [ssl(3)], 4: [os] }),
      },
    );
    for (const id of [1, 2, 3, 4]) await finish(build(id, 1, 0, 900), 'history');
    await finish(build(1, 2, 2, 60));
    await notifier.flush();
    // The first red of a quiet period does not wait for anything.
    expect(sent[0]).toBe('AMD64 Debian root 3.x #2 turned red: failed test (failure)');
    await vi.waitFor(() => expect(sent).toHaveLength(2)); // its details
    now += 1_000;
    await finish(build(2, 2, 2, 50));
    await finish(build(3, 2, 2, 40));
    await notifier.flush();
    // Both join the failure's group: gathered for one line, not announced one by one.
    await vi.waitFor(async () => expect(await outbox.count('pending')).toBe(4));
    expect(sent).toHaveLength(2);
    now += 3_000;
    await notifier.flush();
    expect(sent[2]).toBe('also on: PPC64LE RHEL8 3.x, ARM64 macOS 3.x (test_ssl.test_x)');
    // A different failure on a fourth builder is announced on its own, with its details.
    await finish(build(4, 2, 2, 30));
    await notifier.flush();
    await vi.waitFor(() => expect(sent).toHaveLength(5));
    await notifier.stop();
    expect(sent[3]).toBe('AMD64 Windows11 3.x #2 turned red: failed test (failure)');
    expect(sent[4]).toMatch(/^AMD64 Windows11 3\.x #2: 1 failed test \| Failed: test_os/);
    // The joined builders' details would only repeat the group: they are not sent, nor left pending.
    expect(sent.join('\n')).not.toMatch(/(PPC64LE|macOS).*failed test/);
    expect(await outbox.count('pending')).toBe(0);
  });

  it('Discord and Matrix: the group message is edited as builders join, and survives a restart', async () => {
    const file = dbFile();
    let n = 0;
    const sent: Array<[string, string]> = [];
    const edits: Array<[string, string]> = [];
    const options = {
      rules: consoleOnly,
      details: 'inline' as const,
      groupWindowMs: window,
      tests: testsOf,
      reasons: reasonsOf({ 1: [ssl(1, 'crashed: Exit code -11')], 2: [ssl(2)], 3: [ssl(3)], 4: [os] }),
      editorFor: () => async (_d: string, ref: string, m: Message) => void edits.push([ref, text(m)]),
    };
    const deliver = async (_d: string, m: Message) => {
      sent.push([`ref${++n}`, text(m)]);
      return `ref${n}`;
    };
    const one = await core(await openDb(file), deliver, options);
    for (const id of [1, 2, 3, 4]) await one.finish(build(id, 1, 0, 900), 'history');
    await one.finish(build(1, 2, 2, 60));
    await one.notifier.flush();
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    await one.finish(build(2, 2, 2, 50));
    await one.notifier.flush();
    await vi.waitFor(() => expect(edits).toHaveLength(1));
    expect(edits[0]?.[0]).toBe('ref1');
    expect(edits[0]?.[1]).toMatch(
      /^test_ssl\.test_x \(crashed: Exit code -11\) failed on 2 builders \(3\.x\): AssertionError: 1 != 2 — since abcdef1234 \| AMD64 Debian root 3\.x #2 http\S+ \| PPC64LE RHEL8 3\.x #2 http\S+$/,
    );
    await one.notifier.stop();

    // Another process (a restart): the group, its members and its message's reference are kept.
    const two = await core(await openDb(file), deliver, options);
    await two.notifier.flush();
    await two.finish(build(3, 2, 2, 40));
    await two.notifier.flush();
    await vi.waitFor(() => expect(edits).toHaveLength(2));
    expect(edits[1]?.[0]).toBe('ref1');
    expect(edits[1]?.[1]).toMatch(
      /failed on 3 builders \(3\.x\).* \| AMD64 Debian root 3\.x #2 \S+ \| PPC64LE RHEL8 3\.x #2 \S+ \| ARM64 macOS 3\.x #2 \S+$/,
    );
    await two.finish(build(4, 2, 2, 30));
    await two.notifier.flush();
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    await two.notifier.stop();
    // Nothing sent twice: one headline per failure, the rest edits.
    expect(sent.map(([, t]) => t.split(' | ')[0])).toEqual([
      'AMD64 Debian root 3.x #2 turned red: failed test (failure)',
      'AMD64 Windows11 3.x #2 turned red: failed test (failure)',
    ]);
    expect(await two.outbox.count('pending')).toBe(0);
  });

  it('the likely culprit is named once, under the first also-on line, and in the edited group message', async () => {
    let now = 1_000_000;
    const sent: string[] = [];
    const edits: string[] = [];
    const culprit = 'likely culprit: 3f2a9c1e0b Jane Doe: gh-12345: Fix the frobnicator';
    const asked: number[] = [];
    const options = {
      rules: [
        { to: 'console', events: ['failure'] },
        { to: 'test:#edits', events: ['failure'] },
      ] as NotifyRule[],
      groupWindowMs: window,
      now: () => now,
      reasons: reasonsOf({ 1: [ssl(1)], 2: [ssl(2)], 3: [ssl(3)] }),
      // Found for the second builder (the first alone had nothing to compare with).
      culprit: async (t: Transition) => {
        asked.push(t.builder.builderid);
        return t.builder.builderid === 1 ? [] : [culprit];
      },
      editorFor: (d: string) =>
        d === 'console'
          ? undefined
          : async (_d: string, _ref: string, m: Message) => void edits.push(text(m)),
    };
    const { finish, notifier } = await core(
      await openDb(':memory:'),
      async (d, m) => {
        if (d === 'console') sent.push(text(m));
        return `ref-${d}`;
      },
      options,
    );
    for (const id of [1, 2, 3]) await finish(build(id, 1, 0, 900), 'history');
    await finish(build(1, 2, 2, 60));
    await notifier.flush();
    await finish(build(2, 2, 2, 50));
    await notifier.flush();
    now += 2_000;
    await vi.waitFor(async () => {
      await notifier.flush();
      expect(sent).toHaveLength(2);
    });
    expect(sent[1]).toBe(`also on: PPC64LE RHEL8 3.x (test_ssl.test_x) | ${culprit}`);
    await vi.waitFor(() => expect(edits).toHaveLength(1));
    expect(edits[0]).toMatch(
      /^test_ssl\.test_x failed on 2 builders .* \| likely culprit: 3f2a9c1e0b Jane Doe: gh-12345: Fix the frobnicator \| AMD64 Debian root/,
    );
    // A third builder: named, the culprit not again on IRC; still in the edited message.
    await finish(build(3, 2, 2, 40));
    await notifier.flush();
    now += 2_000;
    await vi.waitFor(async () => {
      await notifier.flush();
      expect(sent).toHaveLength(3);
      expect(edits).toHaveLength(2);
    });
    await notifier.stop();
    expect(sent[2]).toBe('also on: ARM64 macOS 3.x (test_ssl.test_x)');
    expect(edits[1]).toContain(culprit);
    // Looked up once per joining build, whatever the number of destinations; not for the lead.
    expect(asked).toEqual([2]);
  });

  it('a slow culprit lookup does not hold the also-on line: the culprit follows on its own line when found', async () => {
    const sent: string[] = [];
    let answer: (lines: string[]) => void = () => {};
    const { finish, notifier } = await core(
      await openDb(':memory:'),
      async (d, m) => void (d === 'console' && sent.push(text(m))),
      {
        rules: consoleOnly,
        groupWindowMs: window,
        reasons: reasonsOf({ 1: [ssl(1)], 2: [ssl(2)] }),
        culprit: () => new Promise<string[]>((resolve) => (answer = resolve)),
      },
    );
    for (const id of [1, 2]) await finish(build(id, 1, 0, 900), 'history');
    await finish(build(1, 2, 2, 60));
    await notifier.flush();
    await finish(build(2, 2, 2, 50));
    await notifier.flush();
    // The real clock: the line is due a second after the builder joined, and waits a second more.
    await vi.waitFor(() => expect(sent).toHaveLength(2), { timeout: 5_000 });
    expect(sent[1]).toBe('also on: PPC64LE RHEL8 3.x (test_ssl.test_x)');
    answer(['likely culprits: 3f2a9c1e0b Jane Doe: gh-1: One', '  0a1b2c3d4e John Roe: gh-2: Two']);
    await vi.waitFor(() => expect(sent).toHaveLength(3));
    await notifier.stop();
    expect(sent[2]).toBe(
      'likely culprits of test_ssl.test_x: 3f2a9c1e0b Jane Doe: gh-1: One | 0a1b2c3d4e John Roe: gh-2: Two',
    );
  });

  it('a later red waits for its reasons at most REASON_WAIT_MS, then is announced on its own', async () => {
    let now = 1_000_000;
    const sent: string[] = [];
    const { finish, notifier } = await core(
      await openDb(':memory:'),
      async (d, m) => void (d === 'console' && sent.push(lineText(m.title ?? []))),
      {
        rules: consoleOnly,
        groupWindowMs: window,
        now: () => now,
        // A log that is never read (a master that hangs).
        reasons: () => new Promise<undefined>(() => {}),
      },
    );
    for (const id of [1, 2]) await finish(build(id, 1, 0, 900), 'history');
    await finish(build(1, 2, 2, 60));
    await notifier.flush();
    expect(sent).toEqual(['AMD64 Debian root 3.x #2 turned red: failed test (failure)']);
    await finish(build(2, 2, 2, 50));
    await notifier.flush();
    expect(sent).toHaveLength(1);
    now += REASON_WAIT_MS;
    await notifier.flush();
    await notifier.stop();
    expect(sent[1]).toBe('PPC64LE RHEL8 3.x #2 turned red: failed test (failure)');
  });

  it('a shutdown sends a gathered also-on line at once', async () => {
    const sent: string[] = [];
    const { finish, notifier, outbox } = await core(
      await openDb(':memory:'),
      async (d, m) => void (d === 'console' && sent.push(lineText(m.title ?? []))),
      {
        rules: consoleOnly,
        groupWindowMs: window,
        reasons: reasonsOf({ 1: [ssl(1)], 2: [ssl(2)] }),
      },
    );
    for (const id of [1, 2]) await finish(build(id, 1, 0, 900), 'history');
    await finish(build(1, 2, 2, 60));
    await notifier.flush();
    await finish(build(2, 2, 2, 50));
    await notifier.flush();
    await vi.waitFor(async () => expect(await outbox.count('pending')).toBe(1));
    expect(sent).toHaveLength(1);
    await notifier.drain(2_000);
    expect(sent).toEqual([
      'AMD64 Debian root 3.x #2 turned red: failed test (failure)',
      'also on: PPC64LE RHEL8 3.x (test_ssl.test_x)',
    ]);
    expect(await outbox.count('pending')).toBe(0);
  });
});

describe("a group's builders green again", () => {
  const ssl: GroupReason = {
    key: 'test_ssl.test_x\nAssertionError: <n> != <n>',
    test: 'test_ssl.test_x',
    error: 'AssertionError: 1 != 2',
  };
  const os: GroupReason = {
    key: 'test_os.test_y\nOSError: boom',
    test: 'test_os.test_y',
    error: 'OSError: boom',
  };
  const withRecovery: NotifyRule[] = [{ to: 'console', events: ['failure', 'recovery'] }];
  const hold = 60 * 60_000;

  /** Builders 1–3 red on test_ssl (one group), builder 4 red on its own failure. */
  async function redFleet(db: Db, opts: Partial<NotifierOptions> = {}, clock = { now: 1_000_000 }) {
    const sent: string[] = [];
    // The titles: what an IRC channel reads first.
    const deliver = async (d: string, m: Message) => {
      if (d === 'console') sent.push(lineText(m.title ?? []));
      return `ref${sent.length}`;
    };
    const c = await core(db, deliver, {
      rules: withRecovery,
      groupWindowMs: 30 * 60_000,
      recoveryHoldMs: hold,
      now: () => clock.now,
      reasons: async (t) => (t.builder.builderid === 4 ? [os] : [ssl]),
      ...opts,
    });
    return { ...c, sent, clock };
  }
  async function turnRed(c: Awaited<ReturnType<typeof redFleet>>) {
    for (const id of [1, 2, 3, 4]) await c.finish(build(id, 1, 0, 3600), 'history');
    for (const id of [1, 2, 3, 4]) {
      await c.finish(build(id, 2, 2, 3000 - id));
      await c.notifier.flush();
      c.clock.now += 2_000; // an also-on line is due
      await vi.waitFor(async () => {
        await c.notifier.flush();
        expect(await c.outbox.count('pending')).toBe(0);
      });
    }
    expect(c.sent).toEqual([
      'AMD64 Debian root 3.x #2 turned red: failed test (failure)',
      'also on: PPC64LE RHEL8 3.x (test_ssl.test_x)',
      'also on: ARM64 macOS 3.x (test_ssl.test_x)',
      'AMD64 Windows11 3.x #2 turned red: failed test (failure)',
    ]);
    c.sent.length = 0;
  }

  it('IRC and the console: one line once every builder of the failure is green, not one each', async () => {
    const c = await redFleet(await openDb(':memory:'));
    await turnRed(c);
    // Builder 4 failed alone: its recovery goes out at once, as any builder's.
    await c.finish(build(4, 3, 0, 100));
    await c.notifier.flush();
    await vi.waitFor(() => expect(c.sent).toHaveLength(1));
    expect(c.sent[0]).toMatch(/^AMD64 Windows11 3\.x #3 recovered \(green\)/);
    for (const id of [1, 2]) {
      c.clock.now += 60_000;
      await c.finish(build(id, 3, 0, 90 - id));
      await c.notifier.flush();
    }
    // Two of three green: they wait for the third (within the hold).
    expect(c.sent).toHaveLength(1);
    expect(await c.outbox.count('pending')).toBe(2);
    c.clock.now += 60_000;
    await c.finish(build(3, 3, 0, 80));
    await c.notifier.flush();
    await vi.waitFor(() => expect(c.sent).toHaveLength(2));
    expect(c.sent[1]).toBe(
      'recovered: AMD64 Debian root 3.x, PPC64LE RHEL8 3.x, ARM64 macOS 3.x (test_ssl.test_x); all 3 builders green again',
    );
    await c.notifier.stop();
    expect(await c.outbox.count('pending')).toBe(0);
  });

  it("a builder still red does not hold the others' news past the hold; none is named twice after a restart", async () => {
    const file = dbFile();
    const clock = { now: 1_000_000 };
    const one = await redFleet(await openDb(file), {}, clock);
    await turnRed(one);
    await one.finish(build(1, 3, 0, 100));
    await one.notifier.flush();
    expect(one.sent).toEqual([]);
    await one.notifier.stop(); // a restart while the recovery waits

    const two = await redFleet(await openDb(file), {}, clock);
    await two.notifier.flush();
    clock.now += 10 * 60_000;
    await two.finish(build(2, 3, 0, 90));
    await two.notifier.flush();
    expect(two.sent).toEqual([]);
    clock.now += hold;
    await two.notifier.flush();
    await vi.waitFor(() => expect(two.sent).toHaveLength(1));
    expect(two.sent[0]).toBe(
      'recovered: AMD64 Debian root 3.x, PPC64LE RHEL8 3.x (test_ssl.test_x); still red: ARM64 macOS 3.x',
    );
    // The last one: named alone, never the first two again.
    await two.finish(build(3, 3, 0, 80));
    await two.notifier.flush();
    await vi.waitFor(() => expect(two.sent).toHaveLength(2));
    expect(two.sent[1]).toBe('recovered: ARM64 macOS 3.x (test_ssl.test_x); all 3 builders green again');
    await two.notifier.stop();
    expect(await two.outbox.count('pending')).toBe(0);
  });

  it('a builder red again while its recovery waits: the recovery is named first', async () => {
    const c = await redFleet(await openDb(':memory:'));
    await turnRed(c);
    await c.finish(build(1, 3, 0, 100));
    await c.notifier.flush();
    c.clock.now += 60 * 60_000 - 1; // past the group's window: a new failure opens a group
    await c.finish(build(1, 4, 2, 50));
    await c.notifier.flush();
    await vi.waitFor(() => expect(c.sent).toHaveLength(2));
    await c.notifier.stop();
    expect(c.sent[0]).toBe(
      'recovered: AMD64 Debian root 3.x (test_ssl.test_x); still red: PPC64LE RHEL8 3.x, ARM64 macOS 3.x',
    );
    expect(c.sent[1]).toMatch(/^AMD64 Debian root 3\.x #4 turned red/);
  });

  it('Discord and Matrix: the group message marks them, and one message says when all are green', async () => {
    const edits: string[] = [];
    const c = await redFleet(await openDb(':memory:'), {
      editorFor: () => async (_d: string, _ref: string, m: Message) => void edits.push(text(m)),
    });
    for (const id of [1, 2, 3]) await c.finish(build(id, 1, 0, 3600), 'history');
    for (const id of [1, 2, 3]) {
      await c.finish(build(id, 2, 2, 3000 - id));
      await c.notifier.flush();
      await vi.waitFor(async () => expect(await c.outbox.count('pending')).toBe(0));
    }
    edits.length = 0;
    for (const id of [1, 2, 3]) await c.finish(build(id, 3, 0, 100 - id));
    await c.notifier.flush();
    await vi.waitFor(() => expect(edits).toHaveLength(1));
    await c.notifier.stop();
    expect(edits[0]).toMatch(
      /failed on 3 builders .* \| AMD64 Debian root 3\.x #2 \S+ — green again #3 \| PPC64LE RHEL8 3\.x #2 \S+ — green again #3 \| ARM64 macOS 3\.x #2 \S+ — green again #3$/,
    );
    expect(c.sent.at(-1)).toBe(
      'recovered: AMD64 Debian root 3.x, PPC64LE RHEL8 3.x, ARM64 macOS 3.x (test_ssl.test_x); all 3 builders green again',
    );
  });

  it('recovery_hold 0: every recovery on its own, as before', async () => {
    const c = await redFleet(await openDb(':memory:'), { recoveryHoldMs: 0 });
    await turnRed(c);
    for (const id of [1, 2]) await c.finish(build(id, 3, 0, 100 - id));
    await c.notifier.flush();
    await vi.waitFor(() => expect(c.sent).toHaveLength(2));
    await c.notifier.stop();
    expect(c.sent).toEqual([
      'AMD64 Debian root 3.x #3 recovered (green): build successful',
      'PPC64LE RHEL8 3.x #3 recovered (green): build successful',
    ]);
  });
});

describe('a store that fails', () => {
  it('an outbox that cannot be read delays delivery to the next retry, not to some later event', async () => {
    vi.useFakeTimers();
    try {
      const sent: string[] = [];
      const { finish, notifier, outbox } = await core(await openDb(':memory:'), async (d, m) => {
        if (d === 'console') sent.push(lineText(m.title ?? []));
      });
      const pending = outbox.pending.bind(outbox);
      let failures = 1;
      outbox.pending = (...args) => {
        if (failures-- > 0) throw new Error('SQLITE_IOERR: disk I/O error');
        return pending(...args);
      };
      for (const id of [1, 2]) await finish(build(id, 1, 0, 900), 'history');
      await finish(build(1, 2, 2, 60));
      await notifier.flush(); // resolves: the failure is handled, not thrown at the caller
      expect(sent).toEqual([]);
      await vi.advanceTimersByTimeAsync(2_100);
      expect(sent).toEqual(['AMD64 Debian root 3.x #2 turned red: failed test (failure)']);
      await notifier.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('routing: a red that is not a test failure goes to infra, not failure', () => {
  const routed: NotifyRule[] = [
    { to: 'test:#tests', events: ['failure', 'recovery'] },
    // `worker` brings `infra`: the rule as mergeRules gives it (test/unit/living.test.ts).
    { to: 'test:#ops', events: ['worker', 'infra'] },
    { to: 'test:#all', events: ['failure', 'infra', 'recovery'] },
  ];

  /** The messages' first lines, by destination and title. */
  const bodies = new Map<string, string[]>();
  async function run(steps: Array<[number, number, number, string?]>) {
    const sent: string[] = [];
    const { finish, notifier } = await core(
      await openDb(':memory:'),
      async (d, m) => {
        const title = `${d} ${lineText(m.title ?? [])}`;
        sent.push(title);
        bodies.set(title, m.lines.map(lineText));
      },
      { rules: routed },
    );
    await finish(build(1, 1, 0, 900), 'history');
    for (const [n, results, ago, state] of steps) await finish(build(1, n, results, ago, state));
    await notifier.flush();
    await notifier.stop();
    return sent;
  }

  it('a compile red reaches the infra (and worker) destinations only', async () => {
    expect(await run([[2, 2, 60, 'failed compile (failure)']])).toEqual([
      'test:#ops AMD64 Debian root 3.x #2 turned red: failed compile (failure)',
      'test:#all AMD64 Debian root 3.x #2 turned red: failed compile (failure)',
    ]);
  });

  it('a checkout red too; a test red is a failure as before', async () => {
    expect(await run([[2, 2, 60, 'failed update (failure)']])).toEqual([
      'test:#ops AMD64 Debian root 3.x #2 turned red: failed update (failure)',
      'test:#all AMD64 Debian root 3.x #2 turned red: failed update (failure)',
    ]);
    expect(await run([[2, 2, 60]])).toEqual([
      'test:#tests AMD64 Debian root 3.x #2 turned red: failed test (failure)',
      'test:#all AMD64 Debian root 3.x #2 turned red: failed test (failure)',
    ]);
  });

  it('tests failing after a compile red are news for the test channel; the recovery goes where the reds went', async () => {
    expect(
      await run([
        [2, 2, 300, 'failed compile (failure)'],
        [3, 2, 200], // the tests fail now: the test channel never heard of this red streak
        [4, 2, 100], // red after red: quiet
        [5, 0, 50],
      ]),
    ).toEqual([
      'test:#ops AMD64 Debian root 3.x #2 turned red: failed compile (failure)',
      'test:#all AMD64 Debian root 3.x #2 turned red: failed compile (failure)',
      'test:#tests AMD64 Debian root 3.x #3 turned red: failed test (failure)',
      'test:#all AMD64 Debian root 3.x #3 turned red: failed test (failure)',
      'test:#tests AMD64 Debian root 3.x #5 recovered (green): build successful',
      'test:#all AMD64 Debian root 3.x #5 recovered (green): build successful',
    ]);
    // Its changes are those since the last green build, #1, not since the compile red.
    expect(bodies.get('test:#tests AMD64 Debian root 3.x #3 turned red: failed test (failure)')).toContain(
      'Changes since #1:',
    );
  });

  it('the recovery from a compile red goes to the infra destinations, not to those that heard no red', async () => {
    expect(
      await run([
        [2, 2, 100, 'failed compile (failure)'],
        [3, 0, 50],
      ]),
    ).toEqual([
      'test:#ops AMD64 Debian root 3.x #2 turned red: failed compile (failure)',
      'test:#all AMD64 Debian root 3.x #2 turned red: failed compile (failure)',
      'test:#ops AMD64 Debian root 3.x #3 recovered (green): build successful',
      'test:#all AMD64 Debian root 3.x #3 recovered (green): build successful',
    ]);
  });
});

describe('failures that are not test failures', () => {
  // Causes as the classifier gives them for the lab's recorded builds (test/unit/failure-kind.test.ts).
  const compile: FailureCause = {
    kind: 'compile',
    step: 'compile',
    detail:
      "./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'; did you mean 'SSL_read'? [-Werror=implicit-function-declaration]",
    logUrl: 'http://master.invalid/#/builders/1/builds/2/steps/1/logs/stdio',
    excerpt: [],
  };
  const hang: FailureCause = {
    kind: 'timeout',
    step: 'test',
    timeout: { seconds: 1200, reason: 'silence' },
    running: ['test_concurrent_futures.test_deadlock'],
    logUrl: 'http://master.invalid/#/builders/1/builds/2/steps/2/logs/stdio',
    excerpt: [],
  };
  const facts = (cause: FailureCause, partial: boolean): LogFacts => ({
    failed: [],
    flaky: [],
    envChanged: [],
    partial,
    logUrl: cause.logUrl,
    flakyDays: 7,
    cause,
  });

  it("inline: the title says the compile error instead of Buildbot's state string", async () => {
    const sent: Message[] = [];
    const { finish, notifier } = await core(
      await openDb(':memory:'),
      async (d, m) => void (d === 'console' && sent.push(m)),
      {
        tests: async () => facts(compile, false),
      },
    );
    await finish(build(1, 1, 0, 900), 'history');
    await finish(build(1, 2, 2, 60, 'failed compile (failure)'));
    await notifier.flush();
    await notifier.stop();
    expect(sent.map(text)).toEqual([
      "AMD64 Debian root 3.x #2 turned red: failed compile: ./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'; did you mean 'SSL_read'? [-Werror=implicit-function-declaration] | " +
        'Log: http://master.invalid/#/builders/1/builds/2/steps/1/logs/stdio | Had been passing for at least 14 min (since #1). | ' +
        'Changes since #1: |   abcdef1234 Jane Doe: gh-1: Fix',
    ]);
  });

  it('follow-up: the headline stays as fast as ever, the details say the step was killed and in which test', async () => {
    const sent: string[] = [];
    const slow = slowTests();
    const { finish, notifier } = await core(
      await openDb(':memory:'),
      async (d, m) => void (d === 'console' && sent.push(text(m))),
      { details: 'followup', tests: slow.tests },
    );
    await finish(build(1, 1, 0, 900), 'history');
    await finish(build(1, 2, 2, 60));
    await notifier.flush();
    expect(sent).toEqual(['AMD64 Debian root 3.x #2 turned red: failed test (failure)']);
    slow.answerWith(1, facts(hang, true));
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    await notifier.stop();
    // The killed step explains the short log: no "ends early" guess.
    expect(sent[1]).toBe(
      'AMD64 Debian root 3.x #2: test killed after 1200 s without output while running test_concurrent_futures.test_deadlock | ' +
        'Log: http://master.invalid/#/builders/1/builds/2/steps/2/logs/stdio | Had been passing for at least 14 min (since #1). | ' +
        'Changes since #1: |   abcdef1234 Jane Doe: gh-1: Fix',
    );
  });
});

describe('destinationsFor', () => {
  const subject = {
    master: 'lab',
    event: 'failure' as const,
    builderName: 'AMD64 Debian root 3.14',
    tags: ['3.14', 'stable'],
  };
  it.each<[NotifyRule, boolean]>([
    [{ to: 'a', events: ['failure'] }, true],
    [{ to: 'a', events: ['recovery'] }, false],
    [{ to: 'a', events: ['failure'], branches: ['3.14'] }, true],
    [{ to: 'a', events: ['failure'], branches: ['3.x', '3.13'] }, false],
    [{ to: 'a', events: ['failure'], tags: ['unstable', 'stable'] }, true],
    [{ to: 'a', events: ['failure'], tags: ['unstable'] }, false],
    [{ to: 'a', events: ['failure'], builders: 'debian' }, true],
    [{ to: 'a', events: ['failure'], builders: '^Windows' }, false],
    [{ to: 'a', events: ['failure'], masters: ['other'] }, false],
  ])('%j → %s', (rule, matches) => {
    expect(destinationsFor([rule], subject)).toEqual(matches ? ['a'] : []);
  });

  it('lists a destination once even when several rules match', () => {
    const twice: NotifyRule[] = [
      { to: 'a', events: ['failure'] },
      { to: 'a', events: ['failure'], tags: ['stable'] },
    ];
    expect(destinationsFor(twice, subject)).toEqual(['a']);
  });
});

export type { Transition };

describe('a build Buildbot retried (RETRY: its worker was lost)', () => {
  it('is not announced itself; the red build after it says it was retried', async () => {
    const sent: Message[] = [];
    const { finish, notifier } = await core(
      await openDb(':memory:'),
      async (d, m) => void (d === 'console' && sent.push(m)),
    );
    await finish(build(1, 1, 0, 900), 'history');
    // Green, then a lost worker: nothing to say yet (Buildbot runs the request again).
    await finish(build(1, 2, 5, 120, 'retry lost connection test (retry)'));
    await notifier.flush();
    expect(sent).toEqual([]);
    // The retried build passes: still green, nothing to say.
    await finish(build(1, 3, 0, 110));
    await notifier.flush();
    expect(sent).toEqual([]);
    // Lost again, and this time the retried build fails: one red, which names the retried attempt.
    await finish(build(1, 4, 5, 100, 'retry lost connection test (retry)'));
    await finish(build(1, 5, 2, 60));
    await notifier.flush();
    await notifier.stop();
    expect(sent.map(text)).toEqual([
      'AMD64 Debian root 3.x #5 turned red: failed test (failure) | ' +
        'Retried before this build: #4 (retry lost connection test (retry)). | ' +
        'Had been passing for at least 14 min (since #1). | Changes since #3: |   abcdef1234 Jane Doe: gh-1: Fix',
    ]);
  });
});
