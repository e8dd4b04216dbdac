/**
 * A running bot's life on every platform at once (console, IRC on the real InspIRCd + Anope,
 * Discord and Matrix stand-ins), on the real lab master: SIGHUP reloads the config without
 * dropping connections that did not change (and reconnects the one that did); a broken file is
 * refused and the running config kept; SIGTERM says goodbye on each platform and exits 0.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, startBot, writeConfig } from '../support/bot.js';
import { type FakeDiscord, startFakeDiscord } from '../support/discord/fake-discord.js';
import { IrcTestClient, plain } from '../support/irc/client.js';
import { type IrcLab, startIrcLab } from '../support/irc/lab.js';
import { type Lab, startLab } from '../support/lab.js';
import { type Homeserver, startHomeserver } from '../support/matrix/homeserver.js';

const BUILDER = 'AMD64 Debian root 3.x';

let lab: Lab;
let irc: IrcLab;
let discord: FakeDiscord;
let hs: Homeserver;
let botId: string;
let room: string;
let listener: IrcTestClient;
let bot: BotProcess;
let configPath: string;

function config(opts: { ircChannels: string[]; ircNotify: boolean; operate?: string }): string {
  return `masters:
  - name: lab
    url: ${lab.url}
    stream: ws
    timeout: 5s
storage: ./state.sqlite
chat:
  console: true
  irc:
    host: 127.0.0.1
    port: ${irc.port}
    tls: false
    nick: bbwatch
    sasl:
      account: bbwatch
      password: \${BBWATCH_TEST_IRC_PASSWORD}
    channels: ${JSON.stringify(opts.ircChannels)}
  discord:
    token: \${BBWATCH_TEST_DISCORD_TOKEN}
    api: ${discord.apiUrl}
    prefix_commands: true
  matrix:
    homeserver: ${hs.url}
    user_id: "${botId}"
    access_token: \${BBWATCH_TEST_MATRIX_TOKEN}
announce:
  group_window: 0
  details: inline
notify:
  - to: console
    events: [failure, recovery]
  - to: "matrix:${room}"
    events: [failure]
  - to: discord:${discord.world.announceChannel.id}
    events: [failure]
${opts.ircNotify ? '  - to: "irc:#lab"\n    events: [failure]\n' : ''}permissions:
  operate: [${opts.operate ?? 'console'}]
`;
}

function ircLinesOfBot(from = 0) {
  return listener.lines.slice(from).filter((l) => l.nick === 'bbwatch');
}

/** The log line `msg` once there are `n` of them since the bot started. */
function nthLog(msg: string, n: number) {
  return bot.until(`log line '${msg}' #${n}`, () => bot.logs.filter((l) => l.msg === msg)[n - 1], 60_000);
}

const gatewayConnects = () => discord.gateway.events.filter((e) => e.kind === 'connect').length;

beforeAll(async () => {
  [lab, irc, discord, hs] = await Promise.all([
    startLab({ branches: ['3.x'] }),
    startIrcLab(),
    startFakeDiscord({ heartbeatIntervalMs: 5000 }),
    startHomeserver(),
  ]);
  botId = hs.addUser('bbwatch', { token: 'matrix-bot-token' });
  const alice = hs.addUser('alice');
  room = hs.createRoom(alice, { alias: '#ci:hs.test' });
  hs.join(botId, room);
  process.env.BBWATCH_TEST_IRC_PASSWORD = 'botpass';
  process.env.BBWATCH_TEST_DISCORD_TOKEN = discord.token;
  process.env.BBWATCH_TEST_MATRIX_TOKEN = 'matrix-bot-token';
  await lab.runBuild(BUILDER, 'pass');
  listener = await IrcTestClient.connect({ port: irc.port, nick: 'listener', channels: ['#lab', '#other'] });
  configPath = writeConfig(config({ ircChannels: ['#lab'], ircNotify: false }));
  bot = await startBot(configPath);
  await bot.waitForLog('joined IRC channel', { channel: '#lab' });
}, 120_000);

afterAll(async () => {
  await bot?.stop('SIGKILL');
  await listener?.quit();
  await Promise.all([lab?.close(), irc?.close(), discord?.close(), hs?.close()]);
});

describe('SIGHUP', () => {
  it('takes new notify rules and permissions without reconnecting anything', async () => {
    const ircFrom = listener.lines.length;
    const connects = gatewayConnects();
    const syncs = hs.requests.length;
    writeFileSync(configPath, config({ ircChannels: ['#lab'], ircNotify: true, operate: 'nobody' }));
    bot.child.kill('SIGHUP');
    const reloaded = await nthLog('config reloaded', 1);
    expect(reloaded.applied).toEqual(['notify', 'permissions']);
    expect(reloaded.reconnected).toEqual([]);

    // The new rule is in force: the red build goes to IRC too, which it did not before.
    const red = await lab.runBuild(BUILDER, 'fail');
    await listener.waitFor('bbwatch', new RegExp(`^${BUILDER} #${red.number} turned red`), ircFrom);
    await bot.waitForLine(new RegExp(`${BUILDER} #${red.number} turned red`));
    // And the new permissions: the console may no longer mute.
    const from = bot.stdout.length;
    bot.child.stdin?.write('!mute 1h\n');
    await bot.waitForLine(/permission/, from);

    // Nothing reconnected: no QUIT/JOIN on IRC, no new gateway session, the Matrix sync kept going.
    expect(ircLinesOfBot(ircFrom).filter((l) => l.command === 'QUIT' || l.command === 'JOIN')).toEqual([]);
    expect(gatewayConnects()).toBe(connects);
    expect(hs.requests.slice(syncs).some((r) => r.path.endsWith('/account/whoami'))).toBe(false);
    await lab.runBuild(BUILDER, 'pass');
  });

  it('reconnects only the platform whose settings changed', async () => {
    const ircFrom = listener.lines.length;
    const connects = gatewayConnects();
    writeFileSync(configPath, config({ ircChannels: ['#lab', '#other'], ircNotify: true }));
    bot.child.kill('SIGHUP');
    const reloaded = await nthLog('config reloaded', 2);
    expect(reloaded.reconnected).toEqual(['irc']);
    expect(reloaded.applied).toEqual(['permissions']);
    await listener.until('bbwatch back in #other', () =>
      ircLinesOfBot(ircFrom).find((l) => l.command === 'JOIN' && l.params[0] === '#other'),
    );
    expect(ircLinesOfBot(ircFrom).some((l) => l.command === 'QUIT')).toBe(true);
    expect(gatewayConnects()).toBe(connects);
  });

  it('refuses a broken file and keeps running on the old config', async () => {
    const before = bot.logs.length;
    writeFileSync(configPath, 'masters:\n  - name: lab\n    url: not a url\n');
    bot.child.kill('SIGHUP');
    const refused = await bot.waitForLog('config not reloaded: it has problems; the running one stays');
    expect(JSON.stringify(refused.problems)).toContain('masters[0].url');
    // Still announcing with the rules it had.
    const ircFrom = listener.lines.length;
    const red = await lab.runBuild(BUILDER, 'fail');
    await listener.waitFor('bbwatch', new RegExp(`^${BUILDER} #${red.number} turned red`), ircFrom);
    expect(bot.logs.slice(before).some((l) => l.msg === 'config reloaded')).toBe(false);
    expect(bot.child.exitCode).toBeNull();
  });
});

describe('SIGTERM', () => {
  it('says goodbye on each platform and exits 0', async () => {
    const ircFrom = listener.lines.length;
    expect(await bot.stop('SIGTERM')).toBe(0);
    const quit = ircLinesOfBot(ircFrom).find((l) => l.command === 'QUIT');
    expect(plain(quit?.params.at(-1) ?? '')).toMatch(/bbwatch stopping/);
    expect(discord.gateway.events.filter((e) => e.kind === 'presence').map((e) => e.status)).toEqual([
      'invisible',
    ]);
    expect(discord.gateway.events.filter((e) => e.kind === 'close').at(-1)?.code).toBe(1000);
    expect(hs.presence.get(botId)).toBe('offline');
    expect(bot.stdout.at(-1)?.text).toBe('bbwatch stopped.');
  });
});
