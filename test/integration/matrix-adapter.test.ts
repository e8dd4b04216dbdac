/**
 * The Matrix adapter in-process against the stand-in homeserver (test/support/matrix), with
 * unmodified matrix-js-sdk underneath: commands and replies, power-level grants through the core's
 * permission check, invites, kicks, encrypted rooms, rate limits, an outage, a restart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MatrixAdapter, type MatrixAdapterOptions } from '../../adapters/matrix/matrix.js';
import type { IncomingMessage } from '../../src/chat/adapter.js';
import { isAllowed } from '../../src/chat/permissions.js';
import { type Message, reply } from '../../src/messages/message.js';
import { type Homeserver, inReplyTo, startHomeserver } from '../support/matrix/homeserver.js';
import { type TestServices, testServices } from '../support/matrix/services.js';

const TOKEN = 'syt_bot_token_0123456789';
let hs: Homeserver;
let bot: string;
let alice: string;
let bob: string;
let room: string;
const running: MatrixAdapter[] = [];

beforeEach(async () => {
  hs = await startHomeserver();
  bot = hs.addUser('bbwatch', { token: TOKEN, password: 'bot-password' });
  alice = hs.addUser('alice', { displayName: 'Alice' });
  bob = hs.addUser('bob');
  room = hs.createRoom(alice, { alias: '#ci:hs.test', powerLevels: { [bob]: 10 } });
  hs.join(bob, room);
});

afterEach(async () => {
  for (const adapter of running.splice(0)) await adapter.stop();
  await hs.close();
});

interface Started {
  adapter: MatrixAdapter;
  t: TestServices;
  received: IncomingMessage[];
}

/**
 * Starts an adapter whose commands are answered like the dispatcher would: `!force` needs the
 * `force` permission (granted to nobody in `permissions`), anything else is echoed back.
 */
async function start(
  opts: Partial<MatrixAdapterOptions> = {},
  state?: Map<string, string>,
): Promise<Started> {
  const t = testServices(state);
  const received: IncomingMessage[] = [];
  const adapter = new MatrixAdapter({
    homeserver: hs.url,
    userId: bot,
    accessToken: TOKEN,
    rooms: ['#ci:hs.test'],
    invitesFrom: [alice],
    powerLevels: { force: 50 },
    ...opts,
  });
  running.push(adapter);
  await adapter.start(async (m) => {
    received.push(m);
    const answer = m.text.replace(/^!/, '').startsWith('force')
      ? isAllowed({ operate: [], force: [] }, m.sender, 'force')
        ? 'forced'
        : '!force needs the force permission'
      : `${m.sender.name} asked: ${m.text}`;
    await adapter.send(m.room, reply([answer]));
  }, t.services);
  await t.waitForLog('Matrix rooms ready');
  return { adapter, t, received };
}

/** Waits for a condition on the adapter's side, re-checking whenever the homeserver sees a request. */
function until(check: () => boolean): Promise<true> {
  return hs.until('the condition', () => check() || undefined);
}

function bodyOf(e: { content: Record<string, unknown> }): unknown {
  return e.content.body;
}

const announcement: Message = {
  kind: 'announcement',
  tone: 'failure',
  title: [{ text: 'AMD64 Debian root 3.x', bold: true }, ' #7 ', { text: 'turned red', tone: 'failure' }],
  lines: [],
  link: { label: 'build #7', url: 'http://127.0.0.1:8010/#/builders/1/builds/7' },
};

describe('the stand-in homeserver', () => {
  it('serves matrix-js-sdk without a request it does not implement', async () => {
    const { adapter } = await start();
    const ev = hs.say(alice, room, '!status');
    await hs.waitForReply(room, ev);
    await adapter.send('matrix:#ci:hs.test', announcement);
    expect(hs.unknownRequests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});

describe('commands', () => {
  it('answers !commands, mentions and thread messages as replies, and never old messages', async () => {
    hs.join(bot, room); // a member already: the first sync holds the old command
    const old = hs.say(alice, room, '!status before the bot started');
    // A room the bot joins at start, whose history (shown on joining) holds a command too.
    const later = hs.createRoom(alice, { alias: '#later:hs.test' });
    const beforeJoin = hs.say(alice, later, '!status before the bot joined');
    const { received } = await start({ rooms: ['#ci:hs.test', '#later:hs.test'] });

    const ev = hs.say(alice, room, '!status 3.x');
    const answer = await hs.waitForReply(room, ev);
    expect(answer.sender).toBe(bot);
    expect(answer.content).toMatchObject({
      msgtype: 'm.notice',
      body: 'Alice asked: !status 3.x',
      format: 'org.matrix.custom.html',
      'm.mentions': { user_ids: [alice] },
    });

    const mention = hs.say(alice, room, 'bbwatch: last foo');
    expect(bodyOf(await hs.waitForReply(room, mention))).toBe('Alice asked: last foo');

    const threaded = hs.say(alice, room, '!help', { 'm.relates_to': { rel_type: 'm.thread', event_id: ev } });
    const inThread = await hs.waitForReply(room, threaded);
    expect(inThread.content['m.relates_to']).toMatchObject({ rel_type: 'm.thread', event_id: ev });

    hs.say(alice, room, 'just chatting');
    hs.say(alice, room, '!ignored', { msgtype: 'm.notice' });
    const last = hs.say(alice, room, '!status');
    await hs.waitForReply(room, last);
    expect(received.map((m) => m.text)).toEqual(['!status 3.x', 'last foo', '!help', '!status']);
    expect(hs.events(room).some((e) => inReplyTo(e) === old)).toBe(false);
    expect(hs.events(later).some((e) => inReplyTo(e) === beforeJoin)).toBe(false);
    expect(received[0]).toMatchObject({
      platform: 'matrix',
      isDirect: false,
      sender: { identity: `matrix:${alice}` },
    });
  });

  it('grants force by room power level: the creator (100) may, a user at 10 may not', async () => {
    // Timelines trimmed after 3 events: the room state (power levels) survives it.
    const { received } = await start({ keepEvents: 3 });
    const fromBob = hs.say(bob, room, '!force AMD64');
    expect(bodyOf(await hs.waitForReply(room, fromBob))).toBe('!force needs the force permission');
    const fromAlice = hs.say(alice, room, '!force AMD64');
    expect(bodyOf(await hs.waitForReply(room, fromAlice))).toBe('forced');

    hs.setPowerLevel(alice, room, bob, 50); // promoted: the next command sees the new level
    const again = hs.say(bob, room, '!force AMD64');
    expect(bodyOf(await hs.waitForReply(room, again))).toBe('forced');
    expect(received.map((m) => m.sender.platformGrants ?? [])).toEqual([[], ['force'], ['force']]);
  });

  it('without power_levels configured, a power level grants nothing', async () => {
    const { received } = await start({ powerLevels: undefined });
    const ev = hs.say(alice, room, '!force AMD64');
    expect(bodyOf(await hs.waitForReply(room, ev))).toBe('!force needs the force permission');
    expect(received[0]?.sender.platformGrants).toBeUndefined();
  });
});

describe('rooms', () => {
  it('accepts a direct chat from an allowed user and takes plain text there as commands', async () => {
    const { t } = await start();
    const dm = hs.createRoom(alice, { joinRule: 'invite' });
    hs.invite(alice, dm, bot, { isDirect: true });
    await hs.waitForMembership(bot, dm, 'join');
    await t.waitForLog('joined Matrix room', { room: dm });
    const ev = hs.say(alice, dm, 'status');
    expect(bodyOf(await hs.waitForReply(dm, ev))).toBe('Alice asked: status');
  });

  it('declines invites from anyone not in invites_from', async () => {
    const { t } = await start();
    const mallory = hs.addUser('mallory');
    const trap = hs.createRoom(mallory, { joinRule: 'invite' });
    hs.invite(mallory, trap, bot);
    await hs.waitForMembership(bot, trap, 'leave');
    const refused = await t.waitForLog(/^Matrix invite refused/, { room: trap });
    expect(refused.inviter).toBe(mallory);
  });

  it('when kicked, logs who did it, stays out, keeps working elsewhere and says why it cannot post there', async () => {
    const other = hs.createRoom(alice, { alias: '#other:hs.test' });
    const { adapter, t } = await start({ rooms: ['#ci:hs.test', '#other:hs.test'] });
    hs.kick(alice, room, bot, 'too chatty');
    const kicked = await t.waitForLog(/^kicked from Matrix room/, { room });
    expect(kicked).toMatchObject({ by: alice, reason: 'too chatty' });
    await expect(adapter.send('matrix:#ci:hs.test', announcement)).rejects.toThrow(
      /kicked from this room by @alice/,
    );
    const ev = hs.say(alice, other, '!status');
    await hs.waitForReply(other, ev);
    expect(hs.membership(bot, room)).toBe('leave');
  });

  it('refuses encrypted rooms: a configured one, an invite to one, and a room that turns encryption on', async () => {
    const secret = hs.createRoom(alice, { alias: '#secret:hs.test', encrypted: true });
    const { adapter, t } = await start({ rooms: ['#ci:hs.test', '#secret:hs.test'] });
    const logged = await t.waitForLog(/end-to-end encrypted/, { room: secret });
    expect(logged.level).toBe(50); // error
    expect(hs.membership(bot, secret)).toBe('leave'); // joined to read the state, then left at once
    await expect(adapter.send('matrix:#secret:hs.test', announcement)).rejects.toThrow(
      /end-to-end encrypted/,
    );

    const dm = hs.createRoom(alice, { joinRule: 'invite', encrypted: true });
    hs.invite(alice, dm, bot, { isDirect: true });
    await hs.waitForMembership(bot, dm, 'leave');
    await t.waitForLog(/end-to-end encrypted/, { room: dm });

    hs.enableEncryption(alice, room);
    await hs.waitForMembership(bot, room, 'leave');
    await expect(adapter.send('matrix:#ci:hs.test', announcement)).rejects.toThrow(/end-to-end encrypted/);
    expect(hs.messagesFrom(bot, secret)).toEqual([]);
  });
});

describe('sending', () => {
  it('honours M_LIMIT_EXCEEDED (retry_after_ms, then Retry-After) and posts each event once', async () => {
    const { adapter, t } = await start();
    hs.limitSends(3, 300);
    await adapter.send('matrix:#ci:hs.test', announcement);
    hs.limitSends(1, 1000, { header: true });
    const ev = hs.say(alice, room, '!status');
    await hs.waitForReply(room, ev);
    expect(hs.rateLimited).toHaveLength(4);
    expect(hs.tooEarly).toEqual([]); // never came back before the homeserver said it could
    expect(new Set(hs.rateLimited.slice(0, 3).map((r) => r.txnId)).size).toBe(1);
    expect(hs.messagesFrom(bot, room).map(bodyOf)).toEqual([
      'AMD64 Debian root 3.x #7 turned red\nhttp://127.0.0.1:8010/#/builders/1/builds/7',
      'Alice asked: !status',
    ]);
    expect(t.logs.filter((l) => l.msg === 'rate-limited by the homeserver; waiting')).toHaveLength(4);
  });

  it('gives up on a long 429 storm with an error (the outbox retries later), then delivers with the same transaction', async () => {
    const { adapter } = await start({ outgoing: { maxRateLimited: 2 } });
    hs.limitSends(2, 50);
    await expect(adapter.send('matrix:#ci:hs.test', announcement)).rejects.toThrow(/M_LIMIT_EXCEEDED/);
    await adapter.send('matrix:#ci:hs.test', announcement);
    await adapter.send('matrix:#ci:hs.test', announcement); // a resend: the same event, not a new one
    expect(hs.messagesFrom(bot, room)).toHaveLength(1);
    expect(hs.tooEarly).toEqual([]);
  });

  it('rejects while the homeserver is down and delivers once it is back', async () => {
    const { adapter, t } = await start();
    await hs.goDown();
    await expect(adapter.send('matrix:#ci:hs.test', announcement)).rejects.toThrow();
    await t.waitForLog('lost the Matrix homeserver; sync will resume when it is back');
    const connects = t.connects();
    await hs.comeBack();
    await t.waitForLog('the Matrix homeserver is reachable again');
    // The core hears it (and sends what waited at once).
    expect(t.connects()).toBe(connects + 1);
    await adapter.send('matrix:#ci:hs.test', announcement);
    expect(hs.messagesFrom(bot, room)).toHaveLength(1);
    // Commands work again too.
    const ev = hs.say(alice, room, '!status');
    await hs.waitForReply(room, ev);
  });
});

describe('sessions', () => {
  it('logs in with a password once, keeps the token and the sync position, and answers nothing old after a restart', async () => {
    const state = new Map<string, string>();
    const first = await start({ accessToken: undefined, password: 'bot-password' }, state);
    const ev = hs.say(alice, room, '!status');
    await hs.waitForReply(room, ev);
    await first.adapter.stop();
    const filtersCreated = hs.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/filter'),
    ).length;

    const whileAway = hs.say(alice, room, '!status while the bot was away');
    const syncsBefore = hs.requests.length;
    const second = await start({ accessToken: undefined, password: 'bot-password' }, state);
    const after = hs.say(alice, room, '!status after the restart');
    await hs.waitForReply(room, after);

    expect(hs.logins).toHaveLength(1); // the stored token was used again
    expect(hs.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/filter')).length).toBe(
      filtersCreated,
    );
    const firstSync = hs.requests.slice(syncsBefore).find((r) => r.path.endsWith('/sync'));
    expect(firstSync?.query.since).toMatch(/^s\d+$/); // resumed, not a full initial sync
    expect(hs.events(room).some((e) => inReplyTo(e) === whileAway)).toBe(false);
    expect(second.received.map((m) => m.text)).toEqual(['!status after the restart']);
    for (const line of [...first.t.raw, ...second.t.raw]) {
      expect(line).not.toContain('bot-password');
      expect(line).not.toMatch(/syt_[0-9a-f]{24}/); // the token the login handed out
    }
  });

  it('logged out by the homeserver: logs in again with the password, or says it stays off with a token', async () => {
    const withPassword = await start({ accessToken: undefined, password: 'bot-password' });
    hs.logoutAll(bot);
    hs.say(alice, room, 'wake the sync up'); // the next /sync is answered M_UNKNOWN_TOKEN
    await withPassword.t.waitForLog('the Matrix homeserver logged the bot out; logging in again');
    await until(
      () =>
        hs.logins.length === 2 &&
        withPassword.t.logs.filter((l) => l.msg === 'connected to the Matrix homeserver').length === 2,
    );
    const ev = hs.say(alice, room, '!status');
    await hs.waitForReply(room, ev);
    await withPassword.adapter.stop();

    const token = 'syt_second_token';
    hs.addUser('bbwatch', { token, password: 'bot-password' });
    const withToken = await start({ accessToken: token });
    hs.logoutAll(bot);
    hs.say(alice, room, 'wake the sync up again');
    await withToken.t.waitForLog('the Matrix homeserver logged the bot out; the Matrix adapter stays off');
    await expect(withToken.adapter.send('matrix:#ci:hs.test', announcement)).rejects.toThrow(
      /no longer accepts/,
    );
  });

  it('refuses to start with a token the homeserver does not know', async () => {
    const adapter = new MatrixAdapter({
      homeserver: hs.url,
      userId: bot,
      accessToken: 'wrong',
      rooms: [],
      invitesFrom: [],
    });
    await expect(adapter.start(async () => undefined, testServices().services)).rejects.toThrow(
      /does not accept the configured access token \(M_UNKNOWN_TOKEN\)/,
    );
  });

  it('starts while the homeserver is down and connects when it comes back', async () => {
    await hs.goDown();
    const t = testServices();
    const adapter = new MatrixAdapter({
      homeserver: hs.url,
      userId: bot,
      accessToken: TOKEN,
      rooms: ['#ci:hs.test'],
      invitesFrom: [],
    });
    running.push(adapter);
    await adapter.start(async (m) => void (await adapter.send(m.room, reply(['ok']))), t.services);
    await t.waitForLog('cannot reach the Matrix homeserver; trying again in the background');
    await expect(adapter.send('matrix:#ci:hs.test', announcement)).rejects.toThrow(/not connected/);
    expect(t.connects()).toBe(0);
    await hs.comeBack();
    await t.waitForLog('Matrix rooms ready');
    expect(t.connects()).toBe(1);
    await adapter.send('matrix:#ci:hs.test', announcement);
    expect(hs.messagesFrom(bot, room)).toHaveLength(1);
  });
});
