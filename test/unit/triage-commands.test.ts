import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import { Dispatcher } from '../../src/chat/dispatcher.js';
import { trackerSchema } from '../../src/config/schema.js';
import { parseRegrtest } from '../../src/logs/regrtest.js';
import { lineText, type Message } from '../../src/messages/message.js';
import { openDb } from '../../src/store/db.js';
import { Triage } from '../../src/tracker/triage.js';
import { build, builder, controlWith, fleetWith, historyWith, silentLog } from '../support/fleet.js';
import { type GitHubStandIn, startGitHubStandIn } from '../support/github/server.js';
import { fixtureText } from '../support/regrtest-logs.js';

const REPO = 'python/cpython';
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

const db = await openDb(':memory:');
const fleet = await fleetWith(
  [
    builder(1, 'AMD64 Debian root 3.x', ['3.x', 'stable']),
    builder(2, 'PPC64LE Fedora Stable 3.14', ['3.14', 'stable']),
    builder(3, 'PPC64 Debian 3.14', ['3.14', 'stable']),
    builder(4, 'AMD64 Fedora Stable 3.14', ['3.14', 'stable']),
  ],
  [
    build(1, 10, 0, 7200),
    build(1, 11, 2, 60),
    build(2, 20, 0, 7200),
    build(2, 21, 2, 60),
    build(3, 30, 0, 7200),
    build(3, 31, 2, 600),
    build(3, 32, 2, 60),
    build(4, 39, 2, 31 * 86_400), // a month ago: outside !similar's window
    build(4, 40, 0, 7200),
    build(4, 41, 2, 60),
  ],
  'lab',
  db,
);
const { tests, store } = historyWith(db, fleet);

/** The workers the lab's master lists (masked in failure reasons). */
const WORKERS = ['cstratak-fedora-ppc64le', 'edelsohn-debian-ppc64'];

/** The red builds' analyses, from genuine regrtest logs: the lab's hard failure, and the spawn failure of test/fixtures/triage. */
async function save(builderid: number, number: number, log: string) {
  const b = fleet.recent('lab', builderid).find((r) => r.number === number);
  if (!b) throw new Error('no build');
  await store.saveDone(
    { master: 'lab', buildid: b.buildid, builderid, number },
    parseRegrtest(log),
    `http://master.invalid/logs/${b.buildid}`,
    { name: fleet.builder('lab', builderid)?.name ?? 'x', branch: '3.x' },
    b.completeAt ?? 1,
    1,
    undefined,
    WORKERS,
  );
}
await save(1, 11, fixtureText('logs/3.13.0/hard-par.log'));
const triageLog = (name: string) =>
  readFileSync(new URL(`../fixtures/triage/${name}`, import.meta.url), 'utf8');
// The same failure on two workers (other temporary paths, PIDs, addresses, worker names), and another one.
await save(2, 21, triageLog('same-1.log'));
await save(3, 32, triageLog('same-2.log'));
await save(4, 41, triageLog('other.log'));
// The same failure again: earlier on PPC64 Debian, and a month ago on AMD64 Fedora.
await save(3, 31, triageLog('same-1.log'));
await save(4, 39, triageLog('same-2.log'));

/** The changes in each build (by builder and number), as the master would list them. */
const buildid = (builderid: number, number: number) =>
  fleet.recent('lab', builderid).find((r) => r.number === number)?.buildid ?? -1;
const change = (revision: string, comments: string) => ({
  revision,
  author: 'Jane Doe <jane@example.org>',
  comments,
});
const CHANGES = new Map([
  [
    buildid(2, 21),
    [change('abc1234567', 'gh-12345: Fix the frobnicator'), change('eee0000001', 'Docs: typo')],
  ],
  [buildid(3, 31), [change('abc1234567', 'gh-12345: Fix the frobnicator')]],
  [buildid(3, 32), [change('fff0000002', 'gh-999: Tidy')]],
  [buildid(4, 41), [change('abc1234567', 'gh-12345: Fix the frobnicator')]],
]);
const readChanges = (_master: string, ids: readonly number[]) =>
  Promise.resolve(ids.flatMap((id) => CHANGES.get(id) ?? []));

let hub: GitHubStandIn;
let triage: Triage;

beforeAll(async () => {
  hub = await startGitHubStandIn(REPO, [
    {
      number: 111_111,
      title: 'test_hard: HardTests.test_error fails on AMD64 Debian root',
      state: 'open',
      updated_at: ago(3),
    },
    { number: 111_112, title: 'test_hard: test_fine is slow', state: 'closed', updated_at: ago(50) },
    // A near miss: the same file, another test.
    {
      number: 222_222,
      title: 'test_spawnish: test_spawn_setsid fails on FreeBSD',
      state: 'open',
      updated_at: ago(1),
    },
  ]);
  triage = new Triage({
    config: trackerSchema.parse({ api_url: hub.url, versions: { '3.x': '3.15' } }),
    log: silentLog,
    readFacts: () =>
      Promise.resolve({ worker: 'cstratak-fedora-ppc64le', branch: '3.14', revision: 'abc1234def' }),
    readChanges,
  });
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.mode = 'ok';
});

function ask(text: string, platform = 'test'): Promise<Message | undefined> {
  const dispatcher = new Dispatcher({
    commands: COMMANDS,
    fleet,
    tests,
    control: controlWith(db, fleet),
    triage,
    workers: {
      list: () =>
        Promise.resolve({
          workers: WORKERS.map((name, i) => ({
            master: 'lab',
            workerid: i + 1,
            name,
            connected: true,
            builders: 1,
          })),
          unreachable: [],
        }),
      now: () => Date.now(),
    },
    grants: { operate: ['test:u'], force: [] },
    log: silentLog,
  });
  return dispatcher.handle(
    {
      platform,
      room: 'r',
      sender: { identity: 'test:u', name: 'u' },
      text,
      isDirect: false,
      addressed: false,
    },
    12,
  );
}

const text = (m: Message | undefined) => (m ? [lineText(m.title ?? []), ...m.lines.map(lineText)] : []);

describe('tracker suggestions in !why', () => {
  it('suggests the issue naming the failing method, apart from known issues, with the command that confirms it', async () => {
    const m = await ask('!why AMD64 Debian root 3.x');
    const out = text(m);
    expect(out).toContain(
      'test_hard: maybe gh-111111 "test_hard: HardTests.test_error fails on AMD64 Debian root" (open, updated 3 d ago) — confirm: !known test_hard gh-111111',
    );
    expect(out.join('\n')).not.toContain('gh-111112');
    // Where the platform has buttons (Discord), one confirms it.
    expect(m?.actions).toEqual([{ label: "It's gh-111111", command: 'known test_hard gh-111111' }]);
  });

  it('says "no existing issue" rather than the near miss, and how to file one', async () => {
    const out = text(await ask('!why PPC64LE Fedora Stable 3.14'));
    expect(out).toContain(
      'test_spawnish: no existing issue — !file PPC64LE Fedora Stable 3.14 21 gives one ready to file',
    );
    expect(out.join('\n')).not.toContain('gh-222222');
  });

  it('shows the confirmed issue instead of suggestions once !known attached it', async () => {
    expect(text(await ask('!known test_hard gh-111111'))[1]).toBe('test_hard is now known as gh-111111.');
    const out = text(await ask('!why AMD64 Debian root 3.x'));
    expect(out).toContain('test_hard: known: gh-111111');
    expect(out.join('\n')).not.toContain('maybe');
    await ask('!unknown test_hard');
  });

  it('answers without suggestions when the tracker is down', async () => {
    hub.mode = 'down';
    const down = new Triage({
      config: trackerSchema.parse({ api_url: hub.url }),
      log: silentLog,
      readFacts: () => Promise.reject(new Error('no master')),
      readChanges,
    });
    const dispatcher = new Dispatcher({
      commands: COMMANDS,
      fleet,
      tests,
      control: controlWith(db, fleet),
      triage: down,
      grants: { operate: [], force: [] },
      log: silentLog,
    });
    const m = await dispatcher.handle(
      {
        platform: 'test',
        room: 'r',
        sender: { identity: 'test:u', name: 'u' },
        text: '!why PPC64LE Fedora Stable 3.14',
        isDirect: false,
        addressed: false,
      },
      12,
    );
    const out = text(m);
    expect(out[0]).toContain('PPC64LE Fedora Stable 3.14 #21');
    expect(out).toContain('test_spawnish: the issue tracker did not answer (down, slow or rate-limited)');
  });
});

describe('the likely culprit in !why', () => {
  it('names the one change both builders red for the same reason have since their last green build', async () => {
    const out = text(await ask('!why PPC64LE Fedora Stable 3.14'));
    expect(out).toContain('likely culprit: abc1234567 Jane Doe: gh-12345: Fix the frobnicator');
    // The builder red for another assertion of the same test is not in the group.
    expect(out).toContain('(the same failure on PPC64 Debian 3.14)');
  });

  it('names none when the other builder failed for another reason', async () => {
    const out = text(await ask('!why AMD64 Fedora Stable 3.14'));
    expect(out.join('\n')).not.toContain('likely culprit');
  });
});

describe('!similar', () => {
  const REASON =
    'test_spawnish.test_spawn_file_actions: AssertionError: posix_spawn of <tmp> failed in child <n>: <object object at <hex>> on <worker>';

  it('lists the builds of the last 30 days that failed the same way, newest first, the reason once', async () => {
    const out = text(await ask('!similar PPC64LE Fedora Stable 3.14'));
    expect(out[0]).toBe(
      'PPC64LE Fedora Stable 3.14 #21: 2 other builds failed the same way in the last 30 days',
    );
    expect(out.slice(1)).toEqual([
      REASON,
      expect.stringMatching(
        /^ {2}PPC64 Debian 3\.14 #32, \d+ (s|min) ago http:\/\/\S+\/#\/builders\/3\/builds\/32$/,
      ),
      expect.stringMatching(
        /^ {2}PPC64 Debian 3\.14 #31, \d+ min ago http:\/\/\S+\/#\/builders\/3\/builds\/31$/,
      ),
    ]);
    // From the other side: the same reason, the first build among them.
    const back = text(await ask('!similar PPC64 Debian 3.14 32'));
    expect(back.slice(1, 3)).toEqual([
      REASON,
      expect.stringMatching(/^ {2}PPC64LE Fedora Stable 3\.14 #21, /),
    ]);
  });

  it('says so when no other build failed the same way (another assertion is another reason)', async () => {
    expect(text(await ask('!similar AMD64 Fedora Stable 3.14'))).toEqual([
      'AMD64 Fedora Stable 3.14 #41: no other build failed the same way in the last 30 days',
      'test_spawnish.test_spawn_file_actions: AssertionError: file_actions not applied: <tmp> is missing (pid <n>, <object object at <hex>>)',
      '  no other build',
    ]);
  });

  it('is in !help', async () => {
    expect(text(await ask('!help'))).toContainEqual(
      '!similar <builder> [build] — the builds that failed the same way in the last 30 days',
    );
  });
});

describe('!file', () => {
  it('gives a new-issue link with the title, build, worker, revision, tests, traceback, seed and labels', async () => {
    const m = await ask('!file PPC64LE Fedora Stable 3.14');
    const url = new URL(m?.link?.url ?? '');
    expect(`${url.origin}${url.pathname}`).toBe('https://github.com/python/cpython/issues/new');
    expect(url.searchParams.get('title')).toBe(
      'test_spawnish: TestPosixSpawnish.test_spawn_file_actions fails on PPC64LE Fedora Stable 3.14',
    );
    expect(url.searchParams.get('labels')).toBe('tests,type-bug,3.14');
    const body = url.searchParams.get('body') ?? '';
    expect(body).toContain(`Build: ${fleet.buildUrl('lab', 2, 21)}`);
    expect(body).toContain('Builder: PPC64LE Fedora Stable 3.14 (worker: cstratak-fedora-ppc64le)');
    expect(body).toContain('revision abc1234def');
    expect(body).toContain('AssertionError: posix_spawn of /tmp/test_python_');
    expect(body).toContain('Random seed: 4242');
    expect(body).toContain('!repro PPC64LE Fedora Stable 3.14 21');
    expect(text(m)[0]).toBe(
      'PPC64LE Fedora Stable 3.14 #21: file "test_spawnish: TestPosixSpawnish.test_spawn_file_actions fails on PPC64LE Fedora Stable 3.14"',
    );
  });

  it('labels 3.x with the configured version, and says when the test already has an issue', async () => {
    await ask('!known test_hard gh-111111');
    const m = await ask('!file AMD64 Debian root 3.x');
    expect(new URL(m?.link?.url ?? '').searchParams.get('labels')).toBe('tests,type-bug,3.15');
    expect(text(m)).toContain(
      "Already known: test_hard gh-111111. Add the build's link there rather than file a new one.",
    );
    await ask('!unknown test_hard');
  });

  it('keeps the link within what Discord accepts', async () => {
    const m = await ask('!file PPC64LE Fedora Stable 3.14', 'discord');
    const url = m?.link?.url ?? '';
    expect(url.length).toBeLessThanOrEqual(2000);
    const body = new URL(url).searchParams.get('body') ?? '';
    expect(body).toContain(`Build: ${fleet.buildUrl('lab', 2, 21)}`);
    expect(body).toContain('Random seed: 4242');
  });

  it('gives IRC the short form, one line long', async () => {
    const m = await ask('!file PPC64LE Fedora Stable 3.14', 'irc');
    const url = m?.link?.url ?? '';
    expect(Buffer.byteLength(url)).toBeLessThan(400);
    const parsed = new URL(url);
    expect(parsed.searchParams.get('title')).toBe(
      'test_spawnish: TestPosixSpawnish.test_spawn_file_actions fails on PPC64LE Fedora Stable 3.14',
    );
    expect(parsed.searchParams.get('body')).toContain(`Build: ${fleet.buildUrl('lab', 2, 21)}`);
  });
});
