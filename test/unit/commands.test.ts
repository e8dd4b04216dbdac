import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import { Dispatcher } from '../../src/chat/dispatcher.js';
import { openDb } from '../../src/store/db.js';
import { lineText, type Message } from '../../src/messages/message.js';
import {
  build,
  builder,
  fleetWith,
  historyWith,
  controlWith,
  MASTER_URL,
  silentLog,
} from '../support/fleet.js';

const S = 0;
const W = 1;
const F = 2;
const E = 4;
const R = 5;

const builders = [
  builder(1, 'AMD64 Debian root 3.x', ['3.x', 'stable', 'tier-1']),
  builder(2, 'AMD64 Fedora Stable 3.x', ['3.x', 'stable', 'tier-1']),
  builder(3, 'PPC64LE RHEL8 3.x', ['3.x', 'unstable', 'tier-3']),
  builder(4, 'AMD64 Debian root 3.14', ['3.14', 'stable', 'tier-1']),
  builder(5, 'ARM64 macOS 3.x', ['3.x', 'stable', 'tier-2']),
  builder(6, 'AMD64 Windows11 3.x', ['3.x', 'stable', 'tier-1']),
];
const db = await openDb(':memory:');
const fleet = await fleetWith(
  builders,
  [
    build(1, 1, S, 7200),
    build(1, 2, F, 3600),
    build(1, 3, R, 1900),
    build(1, 4, F, 1800),
    build(2, 7, S, 600),
    build(3, 1, W, 4000),
    build(3, 2, F, 300),
    build(4, 1, F, 100),
    build(5, 1, S, 50),
    build(5, 2, E, 40),
  ],
  'lab',
  db,
);
const { tests, store } = historyWith(db, fleet);

function ask(text: string, lineLimit = 10): Promise<Message | undefined> {
  const dispatcher = new Dispatcher({
    commands: COMMANDS,
    fleet,
    tests,
    control: controlWith(db, fleet),
    grants: { operate: [], force: [] },
    log: silentLog,
  });
  return dispatcher.handle(
    {
      platform: 'test',
      room: 'test',
      sender: { identity: 'test:u', name: 'u' },
      text,
      isDirect: false,
      addressed: false,
    },
    lineLimit,
  );
}

function lines(m: Message | undefined): string[] {
  if (!m) return [];
  return [...(m.title ? [lineText(m.title)] : []), ...m.lines.map(lineText), ...(m.link ? [m.link.url] : [])];
}

describe('!status', () => {
  it('summarises a branch by colour and lists red builders, longest red first', async () => {
    const out = lines(await ask('!status 3.x'));
    expect(out[0]).toBe('3.x: 5 builders — 1 green, 2 red, 1 purple, 1 no builds yet');
    expect(out[1]).toMatch(
      /^AMD64 Debian root 3\.x red for 1 h( 0 min)?|^AMD64 Debian root 3\.x red for 59 min/,
    );
    expect(out[1]).toContain(`since #2 ${MASTER_URL}#/builders/1/builds/2`);
    expect(out[2]).toMatch(/^PPC64LE RHEL8 3\.x red for 5 min, since #2 /);
    expect(out[3]).toBe(`ARM64 macOS 3.x purple (exception) at #2 ${MASTER_URL}#/builders/5/builds/2`);
    expect(out[4]).toBe(`${MASTER_URL}#/builders?tags=%2B3.x`);
  });

  it('narrows by tags and by builder text', async () => {
    expect(lines(await ask('!status 3.x stable'))[0]).toBe(
      '3.x stable: 4 builders — 1 green, 1 red, 1 purple, 1 no builds yet',
    );
    expect(lines(await ask('!status tier-3'))[0]).toBe('all builders tier-3: 1 builder — 1 red');
    expect(lines(await ask('!status debian root'))[0]).toBe('debian root: 2 builders — 2 red');
    expect(lines(await ask('!status'))[0]).toBe(
      'all builders: 6 builders — 1 green, 3 red, 1 purple, 1 no builds yet',
    );
  });

  it('cuts long answers at the line limit with a count and the master view', async () => {
    const out = lines(await ask('!status all', 3));
    expect(out).toHaveLength(3);
    expect(out[2]).toBe(`… and 3 more: ${MASTER_URL}#/builders`);
  });

  it('says clearly when nothing matches', async () => {
    expect(lines(await ask('!status 2.7'))).toEqual(["No builder matches '2.7'."]);
  });
});

describe('!last', () => {
  it('shows the last builds as a row, newest first, with the red streak', async () => {
    const out = lines(await ask('!last AMD64 Debian root 3.x'));
    expect(out[0]).toBe('AMD64 Debian root 3.x: last 4 builds');
    expect(out[1]).toBe('#4 FAIL #3 retry #2 FAIL #1 ok');
    expect(out[2]).toMatch(/^Red for (59 min|1 h)/);
    expect(out[2]).toContain('since #2.');
    expect(out[3]).toBe(`${MASTER_URL}#/builders/1`);
  });

  it('accepts a unique part of a name and a count', async () => {
    expect(lines(await ask('!last fedora'))[1]).toBe('#7 ok');
    expect(lines(await ask('!last debian root 3.x 2'))[1]).toBe('#4 FAIL #3 retry');
  });

  it('lists candidates for an ambiguous name', async () => {
    expect(lines(await ask('!last debian'))).toEqual([
      "'debian' matches 2 builders: AMD64 Debian root 3.14, AMD64 Debian root 3.x. Be more specific.",
    ]);
    expect(lines(await ask('!last nothing-like-this'))).toEqual(["No builder matches 'nothing-like-this'."]);
  });

  it('says when a builder has no builds yet', async () => {
    expect(lines(await ask('!last windows11'))[0]).toBe('AMD64 Windows11 3.x: no finished builds known yet.');
  });
});

describe('!why on failures that are not test failures', () => {
  const key = (builderid: number, number: number) => {
    const b = fleet.recent('lab', builderid).find((r) => r.number === number);
    if (!b) throw new Error(`no build ${builderid}#${number}`);
    return { master: 'lab', buildid: b.buildid, builderid, number };
  };
  const who = { name: 'x', branch: '3.x' };
  // As the classifier gives them for the lab's recorded builds (test/unit/failure-kind.test.ts).
  beforeAll(async () => {
    await store.saveDone(key(4, 1), undefined, undefined, who, 1, 1, {
      kind: 'compile',
      step: 'compile',
      detail: "./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'",
      logUrl: 'http://master.invalid/#/builders/4/builds/1/steps/1/logs/stdio',
      excerpt: [
        "./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'",
        ' 2561 |     if (SSL_read_ex(self->ssl, mem, len, &count) <= 0) {',
        '      |         ^~~~~~~~~~~',
      ],
    });
    await store.saveDone(key(5, 2), undefined, undefined, who, 1, 1, {
      kind: 'other',
      step: 'test',
      exception: true,
      detail: "builtins.RuntimeError: lab scenario 'exception': the test step raised on the master",
      excerpt: ["builtins.RuntimeError: lab scenario 'exception': the test step raised on the master"],
    });
  });

  it('leads with what broke and the log lines that show it', async () => {
    expect(lines(await ask('!why AMD64 Debian root 3.14'))).toEqual([
      "AMD64 Debian root 3.14 #1: failed compile: ./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'",
      "  ./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'",
      '   2561 |     if (SSL_read_ex(self->ssl, mem, len, &count) <= 0) {',
      '        |         ^~~~~~~~~~~',
      'http://master.invalid/#/builders/4/builds/1/steps/1/logs/stdio',
    ]);
  });

  it('takes the latest purple build by default, too', async () => {
    const out = lines(await ask('!why ARM64 macOS 3.x'));
    expect(out[0]).toBe(
      "ARM64 macOS 3.x #2: exception in test: builtins.RuntimeError: lab scenario 'exception': the test step raised on the master",
    );
  });

  it('still says when a build has nothing to explain', async () => {
    expect(lines(await ask('!why AMD64 Fedora Stable 3.x'))).toEqual([
      'AMD64 Fedora Stable 3.x has no red, purple or orange build in its recent history.',
    ]);
  });
});
