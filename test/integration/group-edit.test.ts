/**
 * One message per failure on a platform that edits (issue 17): the real bbwatch CLI with Matrix,
 * against the stand-in homeserver and the lab master. Two builders failing the same test give one
 * message in the room, edited (an m.replace event) to name both; a different failure on a third
 * builder is announced on its own.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BotProcess, startBot, writeConfig } from '../support/bot.js';
import { type Lab, startLab } from '../support/lab.js';
import { type Homeserver, replaces, startHomeserver } from '../support/matrix/homeserver.js';

const PASSWORD = 'correct horse battery staple';
const [A, B, C] = ['AMD64 Debian root 3.x', 'AMD64 Debian root 3.14', 'PPC64LE RHEL8 3.x'] as const;

let lab: Lab;
let hs: Homeserver;
let botId: string;
let ci: string;
let bot: BotProcess | undefined;

beforeAll(async () => {
  [lab, hs] = await Promise.all([
    startLab({
      branches: ['3.x', '3.14'],
      platforms: ['AMD64 Debian root:stable,tier-1', 'PPC64LE RHEL8:unstable,tier-3'],
    }),
    startHomeserver(),
  ]);
  botId = hs.addUser('bbwatch', { password: PASSWORD });
  const alice = hs.addUser('alice');
  ci = hs.createRoom(alice, { alias: '#ci:hs.test' });
  hs.join(botId, ci);
  for (const name of [A, B, C]) await lab.runBuild(name, 'pass');
});

afterAll(async () => {
  await bot?.stop();
  await hs?.close();
  await lab?.close();
});

it('two builders failing the same test: one message, edited; another failure: its own message; both green again: marked, and one message', async () => {
  process.env.BBWATCH_TEST_MATRIX_PASSWORD = PASSWORD;
  bot = await startBot(
    writeConfig(`masters:
  - name: lab
    url: ${lab.url}
    stream: ws
    timeout: 5s
storage: ./state.sqlite
chat:
  console: true
  matrix:
    homeserver: ${hs.url}
    user_id: "${botId}"
    password: \${BBWATCH_TEST_MATRIX_PASSWORD}
    rooms: ["#ci:hs.test"]
announce:
  group_window: 30m
  burst_window: 2m # an old config's key: a warning, and nothing else
  details: inline
notify:
  - to: "matrix:#ci:hs.test"
    events: [failure, recovery]
`),
  );
  await bot.waitForLog('Matrix rooms ready');
  expect(
    bot.logs.filter((l) => String(l.msg).startsWith('announce.burst_window no longer does anything')),
  ).toHaveLength(1);
  const first = await lab.runBuild(A, 'fail');
  const lead = await hs.waitForEvent(
    ci,
    (e) => e.sender === botId && String(e.content.body).startsWith(`${A} #${first.number} turned red`),
    'the first red',
  );
  const second = await lab.runBuild(B, 'fail');
  const edit = await hs.waitForEvent(
    ci,
    (e) => e.sender === botId && replaces(e) === lead.event_id,
    'the edit',
  );
  const third = await lab.runBuild(C, 'crash');
  await hs.waitForEvent(
    ci,
    (e) => e.sender === botId && String(e.content.body).startsWith(`${C} #${third.number} turned red`),
    'the third red, on its own',
  );
  const shown = hs.shownFrom(botId, ci);
  // Two messages in the room: the group (edited once) and the other failure.
  expect(shown.map((e) => e.edits)).toEqual([1, 0]);
  const group = String(shown[0]?.content.body);
  expect(group).toMatch(/^test_ssl_lab\S* failed on 2 builders \(3\.x, 3\.14\)/);
  expect(group).toContain(`${A} #${first.number} `);
  expect(group).toContain(`${B} #${second.number} `);
  expect(String(edit.content.body)).toMatch(/^\* test_ssl_lab/);
  expect(shown[0]?.content.format).toBe('org.matrix.custom.html');

  // Both green again: the group's message marks them, and one message says so, not one each.
  const greenA = await lab.runBuild(A, 'pass');
  const greenB = await lab.runBuild(B, 'pass');
  await hs.waitForEvent(
    ci,
    (e) =>
      e.sender === botId &&
      String(e.content.body) === `recovered: ${A}, ${B} (${group.split(' ')[0]}); all 2 builders green again`,
    'the recovery line',
  );
  const after = hs.shownFrom(botId, ci);
  expect(after.map((e) => e.edits)).toEqual([2, 0, 0]);
  const marked = String(after[0]?.content.body);
  expect(marked).toContain(`${A} #${first.number} `);
  expect(marked).toMatch(new RegExp(`#${first.number} \\S+ — green again #${greenA.number}`));
  expect(marked).toMatch(new RegExp(`#${second.number} \\S+ — green again #${greenB.number}`));
});
