/**
 * The real bbwatch CLI with a Matrix configuration, against the stand-in homeserver
 * (test/support/matrix) and the real lab Buildbot master: HTML notices for red builds (escaped),
 * commands answered as replies, power-level grants, invites, kicks, encrypted rooms, a 429 storm,
 * an outage of the homeserver, and restarts (clean and kill -9) that replay nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, startBot, writeConfig } from '../support/bot.js';
import { type Lab, startLab } from '../support/lab.js';
import { type Homeserver, inReplyTo, startHomeserver } from '../support/matrix/homeserver.js';
import type { StoredEvent } from '../support/matrix/model.js';

const CRAFTED = '<script>alert("x")</script> & Co';
const EVIL = `${CRAFTED} 3.x`;
const PLAIN = 'AMD64 Debian root 3.x';
const PASSWORD = 'correct horse battery staple';

let lab: Lab;
let hs: Homeserver;
let botId: string;
let alice: string;
let bob: string;
let ci: string;
let secret: string;
let config: string;
let bot: BotProcess;

beforeAll(async () => {
  [lab, hs] = await Promise.all([
    startLab({
      branches: ['3.x'],
      platforms: ['AMD64 Debian root:stable,tier-1', `${CRAFTED}:unstable,tier-3`],
    }),
    startHomeserver(),
  ]);
  botId = hs.addUser('bbwatch', { password: PASSWORD });
  alice = hs.addUser('alice', { displayName: 'Alice' });
  bob = hs.addUser('bob');
  ci = hs.createRoom(alice, { alias: '#ci:hs.test' });
  hs.join(bob, ci);
  secret = hs.createRoom(alice, { alias: '#secret:hs.test', encrypted: true });
  process.env.BBWATCH_TEST_MATRIX_PASSWORD = PASSWORD;
  config = writeConfig(`masters:
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
    rooms: ["#secret:hs.test"]
    invites_from: ["${alice}"]
    power_levels: { force: 100 }
announce:
  group_window: 0 # these tests count announcements one by one; groups have their own tests
  details: inline # one message per announcement; the split is tested in announce.test.ts
notify:
  - to: "matrix:#ci:hs.test"
    events: [failure, exception, recovery]
  - to: console
    events: [failure, recovery]
    builders: "^AMD64"
`);
  await lab.runBuild(PLAIN, 'pass'); // history, imported silently
  await lab.runBuild(EVIL, 'pass');
  hs.say(alice, ci, '!status sent before the bot ever started');
  bot = await startBot(config);
  await bot.waitForLog('Matrix rooms ready');
});

afterAll(async () => {
  await bot?.stop();
  await hs?.close();
  await lab?.close();
});

/** The bot's notices in #ci that announce something (not replies). */
function announcements(): StoredEvent[] {
  return hs.messagesFrom(botId, ci).filter((e) => !inReplyTo(e));
}

/** Waits for the announcement whose headline starts `<builder> #<number> <what>`. */
function waitForAnnouncement(builder: string, number: number, what: string): Promise<StoredEvent> {
  const start = `${builder} #${number} ${what}`;
  return hs.waitForEvent(
    ci,
    (e) => e.sender === botId && !inReplyTo(e) && String(e.content.body).startsWith(start),
    `the announcement '${start}'`,
  );
}

describe('announcements', () => {
  it('a builder turning red arrives as an HTML notice, build data escaped, with the build link', async () => {
    const red = await lab.runBuild(EVIL, 'fail');
    const notice = await waitForAnnouncement(EVIL, red.number, 'turned red');
    const html = String(notice.content.formatted_body);
    expect(notice.content).toMatchObject({
      msgtype: 'm.notice',
      format: 'org.matrix.custom.html',
      'm.mentions': {},
    });
    expect(String(notice.content.body).split('\n')[0]).toBe(
      `${EVIL} #${red.number} turned red: failed test (failure)`,
    );
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co 3.x');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain(`<a href="${lab.url}#/builders/${red.builderid}/builds/${red.number}">`);
    expect(html).toMatch(/<font color="#c62828" data-mx-color="#c62828"><b>turned red<\/b><\/font>/);
  });

  it('a 429 storm delays the announcement but loses nothing and doubles nothing', async () => {
    const before = announcements().length;
    hs.limitSends(4, 250);
    const green = await lab.runBuild(EVIL, 'pass');
    await waitForAnnouncement(EVIL, green.number, 'recovered (green)');
    expect(hs.rateLimited.length).toBeGreaterThanOrEqual(4);
    expect(hs.tooEarly).toEqual([]);
    expect(announcements()).toHaveLength(before + 1);
  });

  it('an announcement whose answer was lost is sent again with the same transaction: it appears once', async () => {
    const before = announcements().length;
    hs.loseSendAnswers(1);
    const red = await lab.runBuild(EVIL, 'fail');
    await bot.waitForLog('announcement not delivered', { buildid: red.buildid });
    await bot.waitForLog('announced', { buildid: red.buildid });
    const sends = hs.requests.filter((r) => r.method === 'PUT' && r.path.includes('/send/'));
    const [lost, retry] = sends.slice(-2);
    expect(lost?.status).toBe(0); // carried out, answer cut
    expect(retry?.path).toBe(lost?.path); // the same transaction id
    expect(announcements()).toHaveLength(before + 1);
    const green = await lab.runBuild(EVIL, 'pass'); // green again for what follows
    await waitForAnnouncement(EVIL, green.number, 'recovered (green)');
  });

  it('announcements made while the homeserver is down arrive after it is back, once each, in order', async () => {
    const before = announcements().length;
    await hs.goDown();
    const red = await lab.runBuild(PLAIN, 'fail');
    const green = await lab.runBuild(PLAIN, 'pass');
    await bot.waitForBuild(green.buildid);
    await bot.waitForLog('announcement not delivered', { buildid: red.buildid });
    await hs.comeBack();
    await waitForAnnouncement(PLAIN, green.number, 'recovered (green)');
    const bodies = announcements()
      .slice(before)
      .map((e) => String(e.content.body).split('\n')[0]?.replace(/:.*/, ''));
    expect(bodies).toEqual([
      `${PLAIN} #${red.number} turned red`,
      `${PLAIN} #${green.number} recovered (green)`,
    ]);
  });
});

describe('a homeserver that hangs', () => {
  it("does not delay another platform's announcements; what hung follows, in order", async () => {
    const before = announcements().length;
    const from = bot.stdout.length;
    hs.stallSends();
    try {
      const red = await lab.runBuild(PLAIN, 'fail');
      await bot.waitForLine(new RegExp(`${PLAIN} #${red.number} turned red`), from);
      const green = await lab.runBuild(PLAIN, 'pass');
      await bot.waitForLine(new RegExp(`${PLAIN} #${green.number} recovered \\(green\\)`), from);
      // Both went out on the console while Matrix's first send still hangs.
      expect(announcements()).toHaveLength(before);
      hs.resumeSends();
      await waitForAnnouncement(PLAIN, green.number, 'recovered (green)');
      expect(
        announcements()
          .slice(before)
          .map((e) => String(e.content.body).split('\n')[0]?.replace(/:.*/, '')),
      ).toEqual([`${PLAIN} #${red.number} turned red`, `${PLAIN} #${green.number} recovered (green)`]);
    } finally {
      hs.resumeSends();
    }
  });
});

describe('commands', () => {
  it('answers !status and a mention as replies, and nothing sent before it started', async () => {
    const status = hs.say(alice, ci, '!status 3.x');
    const answer = await hs.waitForReply(ci, status);
    expect(answer.content.msgtype).toBe('m.notice');
    expect(String(answer.content.body)).toMatch(/^3\.x: 2 builders — /);
    const mention = hs.say(alice, ci, `bbwatch: last ${PLAIN}`);
    const row = await hs.waitForReply(ci, mention);
    expect(String(row.content.body)).toMatch(/#\d+ ok #\d+ FAIL #\d+ ok/);
    expect(row.content['m.mentions']).toEqual({ user_ids: [alice] });
    // The only replies are to these two: the command sent before the start got none.
    expect(
      hs
        .messagesFrom(botId, ci)
        .filter((e) => inReplyTo(e))
        .map(inReplyTo),
    ).toEqual([status, mention]);
  });

  it('grants force by room power level (alice 100) and not below it (bob 0)', async () => {
    const fromBob = hs.say(bob, ci, '!help');
    const fromAlice = hs.say(alice, ci, '!help');
    const [bobHelp, aliceHelp] = await Promise.all([
      hs.waitForReply(ci, fromBob),
      hs.waitForReply(ci, fromAlice),
    ]);
    // Commands marked "(needs force)" for bob are not marked for alice (there may be none yet).
    const forceMarked = (e: StoredEvent) =>
      String(e.content.body)
        .split('\n')
        .filter((l) => l.includes('(needs force)'));
    expect(forceMarked(aliceHelp)).toEqual([]);
    expect(forceMarked(bobHelp).length).toBeGreaterThanOrEqual(forceMarked(aliceHelp).length);
    // What the core's permission check was given: the grant, from alice's power level only.
    const grants = (sender: string) =>
      bot.logs.filter((l) => l.msg === 'Matrix command' && l.sender === sender).map((l) => l.grants);
    expect(grants(alice).at(-1)).toEqual(['force']);
    expect(grants(bob).at(-1)).toEqual([]);
  });
});

describe('rooms', () => {
  it('refuses the encrypted room it was configured with, saying why', async () => {
    const refusal = await bot.waitForLog(
      'Matrix room is end-to-end encrypted, which bbwatch does not support (see README, "Matrix"): it will not join or post there',
    );
    expect(refusal).toMatchObject({ level: 50, room: secret });
    expect(hs.membership(botId, secret)).toBe('leave');
    expect(hs.messagesFrom(botId, secret)).toEqual([]);
  });

  it('declines an invite from an unknown user, and accepts one from alice', async () => {
    const mallory = hs.addUser('mallory');
    const trap = hs.createRoom(mallory, { joinRule: 'invite' });
    hs.invite(mallory, trap, botId);
    await hs.waitForMembership(botId, trap, 'leave');
    expect(
      await bot.waitForLog('Matrix invite refused: the inviter is not in chat.matrix.invites_from'),
    ).toMatchObject({
      inviter: mallory,
      room: trap,
    });
    const side = hs.createRoom(alice, { joinRule: 'invite' });
    hs.invite(alice, side, botId);
    await hs.waitForMembership(botId, side, 'join');
  });

  it('when kicked, logs it, stays out and keeps running', async () => {
    const side = hs.createRoom(alice, { joinRule: 'invite' });
    hs.invite(alice, side, botId);
    await hs.waitForMembership(botId, side, 'join');
    await bot.waitForLog('joined Matrix room', { room: side });
    hs.kick(alice, side, botId, 'testing');
    expect(
      await bot.waitForLog('kicked from Matrix room; not rejoining it in this run', { room: side }),
    ).toMatchObject({
      by: alice,
      reason: 'testing',
    });
    const ev = hs.say(alice, ci, '!status');
    await hs.waitForReply(ci, ev);
    expect(bot.child.exitCode).toBeNull();
    expect(hs.membership(botId, side)).toBe('leave');
  });
});

describe('restarts', () => {
  it('neither a clean restart nor kill -9 replays old commands; the token is reused, never logged', async () => {
    const answered = hs.say(alice, ci, '!status answered before the restart');
    await hs.waitForReply(ci, answered);
    expect(await bot.stop()).toBe(0);
    const announced = announcements().length;

    const whileStopped = hs.say(alice, ci, '!status sent while the bot was stopped');
    bot = await startBot(config);
    await bot.waitForLog('Matrix rooms ready');
    const fresh = hs.say(alice, ci, '!status after the restart');
    await hs.waitForReply(ci, fresh);

    await bot.stop('SIGKILL'); // its saved sync position may be older than what it answered
    const afterKill = hs.say(alice, ci, '!status sent while the bot was dead');
    bot = await startBot(config);
    await bot.waitForLog('Matrix rooms ready');
    const last = hs.say(alice, ci, '!status after kill -9');
    await hs.waitForReply(ci, last);

    const replies = hs.messagesFrom(botId, ci).map(inReplyTo);
    expect(replies.filter((id) => id === answered || id === fresh)).toHaveLength(2); // each once
    expect(replies).not.toContain(whileStopped);
    expect(replies).not.toContain(afterKill);
    expect(announcements()).toHaveLength(announced); // nothing sent again
    expect(hs.logins).toHaveLength(1); // the first start logged in; the others reused the stored token
    const stderr = bot.logs.map((l) => JSON.stringify(l)).join('\n');
    expect(stderr).not.toContain(PASSWORD);
    expect(stderr).not.toMatch(/syt_[0-9a-f]{24}/);
    // matrix-js-sdk's own logging went through the bot's JSON log: nothing on stdout, no stray stderr.
    expect(bot.stderrText).toEqual([]);
    expect(bot.stdout).toEqual([]);
  });
});
