/**
 * The bot on a real IRC network (InspIRCd + Anope services, test/support/irc/) watching the real
 * lab Buildbot master, checked from what people in the channel see: announcements, commands in
 * the channel and by private message, who may do what (services accounts, never nicks), flood
 * control, injection attempts from build data and chat, TLS and SASL, and a server restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, writeConfig } from '../support/bot.js';
import { logsOf, startIrcBot } from '../support/irc/bot.js';
import { IrcTestClient, plain } from '../support/irc/client.js';
import { type IrcLab, makeClientCert, startIrcLab } from '../support/irc/lab.js';
import { type Lab, startLab } from '../support/lab.js';
import { type Proxy, startProxy } from '../support/proxy.js';

const PLATFORMS = ['AMD64 Debian root', 'AMD64 Fedora Stable', 'ARM64 macOS', 'PPC64LE RHEL8'];
/** A builder name made to break IRC lines: CR LF, a second command, CTCP. */
const EVIL_PLATFORM = 'Evil\r\nQUIT pwned\r\nPRIVMSG #lab hijacked\x01VERSION\x01';
const EVIL = `${EVIL_PLATFORM} 3.x`;
const BUILDERS = PLATFORMS.map((p) => `${p} 3.x`);
const BUILDER = 'AMD64 Debian root 3.x';
/** Builders only the flood test turns red (green until then). */
const FLOOD_BUILDERS = BUILDERS.filter((b) => b !== BUILDER && b !== 'ARM64 macOS 3.x');

let irc: IrcLab;
let lab: Lab;
let certs: ReturnType<typeof makeClientCert>;
let certDir: string;

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'bbwatch-irc-certs-'));
  certs = makeClientCert(certDir, 'bbext');
  [irc, lab] = await Promise.all([
    startIrcLab({
      accounts: [
        'alice:alicepass',
        'mallory:mallorypass',
        'bbwatch:botpass',
        'bbnick:nickpass',
        `bbext:extpass:${certs.fingerprint}`,
      ],
    }),
    startLab({
      branches: ['3.x'],
      platforms: [...PLATFORMS.map((p) => `${p}:stable`), `${EVIL_PLATFORM}:unstable`],
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([irc?.close(), lab?.close()]);
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

function baseConfig(chatIrc: string, storage = './state.sqlite'): string {
  return `masters:
  - name: lab
    url: ${lab.url}
    stream: ws
    timeout: 5s
storage: ${storage}
chat:
  irc:
    host: 127.0.0.1
${chatIrc}
`;
}

/** The announcements (headline lines) from `nick` in `client`'s view, from index `from` on. */
function headlines(client: IrcTestClient, from = 0, nick = 'bbwatch') {
  const out = [];
  for (const line of client.from(nick, from)) {
    const m = /^(.+) #(\d+) (turned red|recovered \(green\)|stopped with an exception)/.exec(
      plain(line.text),
    );
    if (m)
      out.push({ channel: line.target, builder: m[1] as string, number: Number(m[2]), what: m[3] as string });
  }
  return out;
}

/** Runs builds on several builders at once; resolves with each finished build. */
function runMany(builds: Array<[string, 'pass' | 'fail']>) {
  return Promise.all(builds.map(([b, scenario]) => lab.runBuild(b, scenario)));
}

describe('the bot in #lab', () => {
  let bot: BotProcess;
  let watcher: IrcTestClient;
  let config: string;
  let proxy: Proxy;

  beforeAll(async () => {
    // History the bot imports silently: every builder green once.
    await runMany([...BUILDERS, EVIL].map((b) => [b, 'pass']));
    // The watcher is in the channels first, so the server makes it their operator.
    watcher = await IrcTestClient.connect({ port: irc.port, nick: 'watcher', channels: ['#lab', '#keyed'] });
    watcher.send('MODE #keyed +k sesame');
    proxy = await startProxy(irc.tlsPort);
    config = writeConfig(
      baseConfig(`    port: ${proxy.port}
    tls: true
    tls_ca: ${irc.caFile}
    nick: bbwatch
    sasl: { account: bbwatch, password: "\${IRC_PASSWORD}" }
    channels: ["#lab", { name: "#keyed", key: sesame }]
    ops_operate: true
    reconnect: { min: 300ms, max: 2s }
    flood: { burst: 5, interval: 100ms }
announce:
  group_window: 0 # these tests count announcements one by one; groups have their own tests
  details: inline # one message per announcement; the split is tested in announce.test.ts
notify:
  - to: "irc:#lab"
    events: [failure, exception, recovery]
permissions:
  operate: ["irc:alice"]`),
    );
    bot = await startIrcBot(config, { env: { IRC_PASSWORD: 'botpass' } });
    await watcher.until('the bot to join #lab and #keyed', () => {
      const joins = watcher.lines.filter((l) => l.command === 'JOIN' && l.nick === 'bbwatch');
      return joins.length >= 2;
    });
  });
  afterAll(async () => {
    await watcher?.quit();
    expect(await bot?.stop()).toBe(0);
    await proxy?.close();
  });

  it('logs in with SASL over verified TLS, and its lines carry its services account', async () => {
    const login = await bot.waitForLog('logged in to IRC services');
    expect(login.account).toBe('bbwatch');
    const joins = watcher.lines.filter((l) => l.command === 'JOIN' && l.nick === 'bbwatch');
    expect(joins.map((l) => l.params[0])).toEqual(['#lab', '#keyed']);
    expect(joins.every((l) => l.tags.account === 'bbwatch')).toBe(true);
    // The password came from the environment: it is nowhere in the logs.
    expect(JSON.stringify(bot.logs)).not.toContain('botpass');
  });

  it('announces a builder turning red: a coloured headline with the link, then the details', async () => {
    const from = watcher.lines.length;
    const red = await lab.runBuild(BUILDER, 'fail');
    const head = await watcher.waitFor('bbwatch', new RegExp(`^${BUILDER} #${red.number} turned red`), from);
    expect(head.target).toBe('#lab');
    expect(head.account).toBe('bbwatch');
    expect(head.text).toContain(`\x02${BUILDER}\x0f`);
    expect(head.text).toContain('\x0304turned red');
    expect(plain(head.text)).toContain(`${lab.url}#/builders/${red.builderid}/builds/${red.number}`);
    // The details follow (what they are is the core's business), within announce_lines (4).
    const sent = await bot.waitForLog('IRC message sent', { kind: 'announcement' });
    expect(sent.lines).toBeGreaterThan(1);
    expect(sent.lines).toBeLessThanOrEqual(4);
    await watcher.until(
      'the whole announcement',
      () => watcher.from('bbwatch', from).length >= Number(sent.lines),
    );
    const lines = watcher.from('bbwatch', from);
    expect(lines).toHaveLength(Number(sent.lines));
    expect(lines.map((l) => l.target)).toEqual(lines.map(() => '#lab'));
    for (const l of lines) expect(l.bytes).toBeLessThanOrEqual(512);
  });

  it('answers !status, "<nick>: cmd", "<nick>, cmd" and private messages where they were asked', async () => {
    let from = watcher.lines.length;
    watcher.say('#lab', '!status 3.x');
    const status = await watcher.waitFor('bbwatch', /^3\.x: 5 builders — .*1 red/, from);
    expect(status.target).toBe('#lab');
    await watcher.waitFor('bbwatch', new RegExp(`^${BUILDER} red for`), from);

    from = watcher.lines.length;
    watcher.say('#lab', `bbwatch: last ${BUILDER}`);
    const last = await watcher.waitFor('bbwatch', /^#\d+ FAIL #\d+ ok$/, from);
    expect(last.target).toBe('#lab');
    expect(last.text).toContain('\x0304#'); // results in their colours

    from = watcher.lines.length;
    watcher.say('#lab', 'BBWatch, status stable');
    expect((await watcher.waitFor('bbwatch', /^all builders stable: 4 builders — /, from)).target).toBe(
      '#lab',
    );

    from = watcher.lines.length;
    watcher.say('bbwatch', 'status 3.x');
    const direct = await watcher.waitFor('bbwatch', /^3\.x: 5 builders/, from);
    expect(direct.target).toBe('watcher');

    // Channel chatter, even mentioning the bot, gets no answer.
    from = watcher.lines.length;
    watcher.say('#lab', 'is bbwatch: still red?');
    watcher.say('#lab', '!frobnicate');
    await watcher.waitFor('bbwatch', /^Unknown command 'frobnicate'/, from);
    expect(watcher.from('bbwatch', from).filter((l) => l.target === '#lab')).toHaveLength(1);
  });

  it('sends a long reply privately, with a one-line pointer in the channel', async () => {
    const from = watcher.lines.length;
    watcher.say('#lab', '!help');
    const pointer = await watcher.waitFor(
      'bbwatch',
      /^watcher: the answer has \d+ lines; I sent it to you/,
      from,
    );
    expect(pointer.target).toBe('#lab');
    await watcher.waitFor('bbwatch', /^!help <command> explains one\.$/, from);
    const privately = watcher.from('bbwatch', from).filter((l) => l.target === 'watcher');
    expect(privately.map((l) => plain(l.text))[0]).toBe('bbwatch commands:');
    expect(privately.length).toBe(Number(/has (\d+) lines/.exec(pointer.text)?.[1]));
    expect(watcher.from('bbwatch', from).filter((l) => l.target === '#lab')).toHaveLength(1);
  });

  it('knows people by their services account, never by their nick', async () => {
    const alice = await IrcTestClient.connect({
      port: irc.port,
      nick: 'alice',
      sasl: { account: 'alice', password: 'alicepass' },
      channels: ['#lab'],
    });
    const mallory = await IrcTestClient.connect({
      port: irc.port,
      nick: 'alice2',
      sasl: { account: 'mallory', password: 'mallorypass' },
      channels: ['#lab'],
    });
    // alice (account alice, listed under permissions.operate) may operate: the bot says so.
    let from = alice.lines.length;
    alice.say('#lab', '!proof');
    await alice.waitFor('bbwatch', /^proof: may operate as irc:alice, platform grants none$/, from);
    alice.say('bbwatch', 'help');
    const aliceHelp = await alice.waitFor('bbwatch', /^!proof — /, from);
    expect(plain(aliceHelp.text)).not.toContain('(needs operate)');

    // mallory, logged in to another account, with a nick like alice's: refused.
    from = mallory.lines.length;
    mallory.say('#lab', '!proof');
    await mallory.waitFor('bbwatch', /^!proof needs the 'operate' permission\.$/, from);
    await alice.quit();

    // Someone who takes the nick alice without logging in: refused, and told why.
    const impostor = await IrcTestClient.connect({ port: irc.port, nick: 'alice', channels: ['#lab'] });
    expect(impostor.account).toBeUndefined();
    from = impostor.lines.length;
    impostor.say('#lab', '!proof');
    await impostor.waitFor(
      'bbwatch',
      /^!proof needs the 'operate' permission \(and you are not identified to the network\)\.$/,
      from,
    );
    impostor.say('bbwatch', 'help');
    const help = await impostor.waitFor('bbwatch', /^!proof — /, from);
    expect(plain(help.text)).toContain('(needs operate)');
    await Promise.all([impostor.quit(), mallory.quit()]);
  });

  it('lets a channel operator operate in that channel only, with no identity', async () => {
    // The watcher made #lab, so the server made it operator there; it is not logged in.
    let from = watcher.lines.length;
    watcher.say('#lab', '!proof');
    await watcher.waitFor('bbwatch', /^proof: may operate as not identified, platform grants operate$/, from);
    from = watcher.lines.length;
    watcher.say('bbwatch', 'proof');
    await watcher.waitFor(
      'bbwatch',
      /^!proof needs the 'operate' permission \(and you are not identified/,
      from,
    );
    // Not an operator any more: refused in the channel too.
    watcher.send('MODE #lab -o watcher');
    await watcher.until('the mode change', () => watcher.lines.slice(from).some((l) => l.command === 'MODE'));
    from = watcher.lines.length;
    watcher.say('#lab', '!proof');
    await watcher.waitFor('bbwatch', /^!proof needs the 'operate' permission/, from);
  });

  it('joined the channel that has a key', () => {
    const keyed = watcher.lines.find(
      (l) => l.command === 'JOIN' && l.nick === 'bbwatch' && l.params[0] === '#keyed',
    );
    expect(keyed).toBeDefined();
  });

  it('lets neither build data nor chat inject a line, a command or a CTCP', async () => {
    const from = watcher.lines.length;
    const red = await lab.runBuild(EVIL, 'fail');
    await bot.waitForLog('announced', { buildid: red.buildid });
    watcher.say('#lab', '!status 3.x');
    await watcher.waitFor('bbwatch', /^3\.x: 5 builders/, from);
    watcher.say('#lab', '!last \x01VERSION\x01 nothing\x07here');
    await watcher.waitFor('bbwatch', /^No builder matches/, from);

    const seen = watcher.lines.slice(from);
    const fromBot = seen.filter((l) => l.nick === 'bbwatch');
    // The bot said only PRIVMSGs to #lab, none of them a CTCP; it did not quit or join anything.
    expect(new Set(fromBot.map((l) => `${l.command} ${l.params[0]}`))).toEqual(new Set(['PRIVMSG #lab']));
    for (const l of watcher.chat(from).filter((c) => c.nick === 'bbwatch')) {
      expect(l.text).not.toMatch(/[\x00\x01\x07\r\n]/);
      expect(l.bytes).toBeLessThanOrEqual(512);
      expect(plain(l.text)).not.toMatch(/^(hijacked|QUIT)/);
    }
    const evilHead = watcher.chat(from).find((l) => plain(l.text).includes(`#${red.number} turned red`));
    expect(plain(evilHead?.text ?? '')).toMatch(
      /^Evil {2}QUIT pwned {2}PRIVMSG #lab hijacked VERSION {2}3\.x #\d+ turned red/,
    );
    const noMatch = watcher.chat(from).find((l) => /^No builder matches/.test(plain(l.text)));
    expect(noMatch?.text).toContain('VERSION nothing here');
  });

  it('reconnects after the server restarts, rejoins, and delivers what was announced meanwhile', async () => {
    const connects = logsOf(bot, 'connected to IRC').length;
    await watcher.quit();
    await irc.stop();
    await bot.waitForLog('disconnected from IRC; reconnecting');
    // The proxy holds the bot's reconnects back until the watcher is in the channel again, so
    // that the watcher cannot miss what the bot says the moment it is back.
    proxy.block();
    const red = await lab.runBuild('ARM64 macOS 3.x', 'fail');
    await bot.until('a failed delivery', () =>
      bot.logs.find((l) => l.msg === 'announcement not delivered' && l.buildid === red.buildid),
    );
    await irc.start();
    watcher = await IrcTestClient.connect({ port: irc.port, nick: 'watcher', channels: ['#lab'] });
    proxy.unblock();
    await bot.until('a new connection', () => logsOf(bot, 'connected to IRC').length > connects, 30_000);
    const head = await watcher.waitFor(
      'bbwatch',
      new RegExp(`^ARM64 macOS 3\\.x #${red.number} turned red`),
      0,
    );
    expect(head.account).toBe('bbwatch');
    const rejoined = logsOf(bot, 'joined IRC channel').slice(-2);
    expect(rejoined.map((l) => l.channel).sort()).toEqual(['#keyed', '#lab']);
    expect(headlines(watcher).filter((h) => h.builder === 'ARM64 macOS 3.x')).toHaveLength(1);
    // The server confirmed it (see the next test): nothing of this one is left to send again.
    await bot.until('the announcement confirmed', () =>
      bot.logs.find((l) => l.msg === 'announced' && l.buildid === red.buildid),
    );
  });

  it('sends an announcement again when the connection died before the server read it', async () => {
    const connects = logsOf(bot, 'connected to IRC').length;
    const from = watcher.lines.length;
    // The bot's lines go into its socket and vanish: the server never sees them.
    proxy.swallow();
    // ARM64 macOS turned red in the test before: it recovers.
    const green = await lab.runBuild('ARM64 macOS 3.x', 'pass');
    await bot.until('the transition', () =>
      bot.logs.find(
        (l) => l.msg === 'transition' && l.number === green.number && l.builder === 'ARM64 macOS 3.x',
      ),
    );
    // Long enough for the lines to be written (the flood bucket allows 5 at once); they are lost.
    await new Promise((r) => setTimeout(r, 1_000));
    proxy.block();
    proxy.unblock();
    await bot.until('a new connection', () => logsOf(bot, 'connected to IRC').length > connects, 30_000);
    await watcher.waitFor('bbwatch', new RegExp(`^ARM64 macOS 3\\.x #${green.number} recovered`), from);
    // Once: the copy written into the dead connection never arrived.
    expect(headlines(watcher, from).filter((h) => h.builder === 'ARM64 macOS 3.x')).toEqual([
      { channel: '#lab', builder: 'ARM64 macOS 3.x', number: green.number, what: 'recovered (green)' },
    ]);
  });
});

describe('flood control', () => {
  const CHANNELS = Array.from({ length: 25 }, (_, i) => `#f${i}`);
  const BURST = 5;
  const INTERVAL_MS = 50;
  let bot: BotProcess;
  let listener: IrcTestClient;

  beforeAll(async () => {
    listener = await IrcTestClient.connect({ port: irc.port, nick: 'listener', channels: CHANNELS });
    bot = await startIrcBot(
      writeConfig(
        baseConfig(`    port: ${irc.port}
    tls: false
    nick: bbflood
    channels: [${CHANNELS.map((c) => `"${c}"`).join(', ')}]
    flood: { burst: ${BURST}, interval: ${INTERVAL_MS}ms }
    compact_after: 1
    compact_window: 10m
announce:
  group_window: 0 # these tests count announcements one by one; groups have their own tests
  details: inline # one message per announcement; the split is tested in announce.test.ts
notify:
${CHANNELS.map((c) => `  - to: "irc:${c}"\n    events: [failure]`).join('\n')}`),
      ),
    );
    await bot.until(
      'the bot in every channel',
      () => logsOf(bot, 'joined IRC channel').length === CHANNELS.length,
    );
  });
  afterAll(async () => {
    await listener?.quit();
    expect(await bot?.stop()).toBe(0);
  });

  it('delivers a burst of 50 announcements in order, at the configured rate, dropping nothing, compacting', async () => {
    // Two builders turn red at once: two transitions, each for 25 channels.
    const from = listener.lines.length;
    await runMany(FLOOD_BUILDERS.map((b) => [b, 'fail']));
    await bot.until('50 announcements sent', () => logsOf(bot, 'announced').length >= 50 && true, 60_000);
    const transitions = logsOf(bot, 'transition');
    expect(transitions.map((t) => t.builder).sort()).toEqual([...FLOOD_BUILDERS].sort());
    // The outbox's order: each transition as it was recorded, to each channel in the rules' order.
    const expected = transitions.flatMap((t) =>
      CHANNELS.map((channel) => `${channel} ${t.builder} #${t.number}`),
    );
    // Every line the bot wrote (it logs a message once the server confirmed it) reaches the channels.
    const written = logsOf(bot, 'IRC message sent').reduce((n, l) => n + Number(l.lines), 0);
    await listener.until('every line', () => listener.from('bbflood', from).length >= written);
    expect(listener.from('bbflood', from)).toHaveLength(written);
    const seen = headlines(listener, from, 'bbflood').map((h) => `${h.channel} ${h.builder} #${h.number}`);
    expect(seen).toEqual(expected);
    // A burst in a channel (compact_after: 1): the first announcement in full, the next one its
    // headline alone.
    for (const channel of CHANNELS) {
      const here = listener.from('bbflood', from).filter((l) => l.target === channel);
      const heads = here.flatMap((l, i) => (/ #\d+ turned red/.test(plain(l.text)) ? [i] : []));
      expect(heads).toEqual([0, here.length - 1]);
      expect(here.length).toBeGreaterThan(2);
    }

    // Paced: in any second, at most the burst plus a line per interval. Times are the server's
    // (server-time, when it took each line from the bot), with two lines of slack for its loop.
    const lines = listener.from('bbflood', from);
    const at = lines.map((l) => Date.parse(l.tags.time ?? ''));
    expect(at.every(Number.isFinite)).toBe(true);
    for (const [i, first] of at.entries()) {
      const within = at.slice(i).filter((t) => t - first < 1000).length;
      expect(within).toBeLessThanOrEqual(BURST + 1000 / INTERVAL_MS + 2);
    }
    for (const l of lines) expect(l.bytes).toBeLessThanOrEqual(512);
    const span = (at.at(-1) as number) - (at[0] as number);
    console.log(
      `flood: ${lines.length} lines for 50 announcements in ${span} ms (${((lines.length * 1000) / span).toFixed(1)} lines/s)`,
    );
  });
});

describe('TLS and SASL EXTERNAL', () => {
  it('logs in with a client certificate, takes an alternative nick, joins where it announces', async () => {
    await lab.runBuild('ARM64 macOS 3.x', 'fail'); // red in the history the bot imports
    const holder = await IrcTestClient.connect({ port: irc.port, nick: 'bbext', channels: ['#ext'] });
    const bot = await startIrcBot(
      writeConfig(
        baseConfig(`    port: ${irc.tlsPort}
    tls_ca: ${irc.caFile}
    nick: bbext
    alt_nicks: [bbext_alt]
    client_cert: { cert: ${certs.cert}, key: ${certs.key} }
    sasl: { mechanism: EXTERNAL }
announce:
  group_window: 0 # these tests count announcements one by one; groups have their own tests
  details: inline # one message per announcement; the split is tested in announce.test.ts
notify:
  - to: "irc:#ext"
    events: [recovery]`),
      ),
      { waitFor: 'connected to IRC' },
    );
    try {
      expect((await bot.waitForLog('logged in to IRC services')).account).toBe('bbext');
      expect(logsOf(bot, 'connected to IRC').at(-1)?.nick).toBe('bbext_alt');
      // #ext is in no channel list: the first announcement for it makes the bot join it.
      const green = await lab.runBuild('ARM64 macOS 3.x', 'pass');
      const line = await holder.waitFor(
        'bbext_alt',
        new RegExp(`^ARM64 macOS 3\\.x #${green.number} recovered`),
      );
      expect(line.target).toBe('#ext');
      expect(line.account).toBe('bbext');
      // Once its own nick is free, the bot takes it back.
      await holder.quit();
      await bot.waitForLog('IRC nick changed', { nick: 'bbext' });
    } finally {
      await holder.quit();
      expect(await bot.stop()).toBe(0);
    }
  });

  it('identifies with NickServ when it has no SASL, before joining', async () => {
    const bot = await startIrcBot(
      writeConfig(
        baseConfig(`    port: ${irc.port}
    tls: false
    nick: bbnick
    nickserv: { password: "\${NICK_PASSWORD}" }
    channels: ["#lab"]`),
      ),
      { env: { NICK_PASSWORD: 'nickpass' }, waitFor: 'joined IRC channel' },
    );
    try {
      const login = bot.logs.findIndex(
        (l) => l.msg === 'logged in to IRC services' && l.account === 'bbnick',
      );
      expect(login).toBeGreaterThan(-1);
      expect(login).toBeLessThan(bot.logs.findIndex((l) => l.msg === 'joined IRC channel'));
      expect(JSON.stringify(bot.logs)).not.toContain('nickpass');
    } finally {
      expect(await bot.stop()).toBe(0);
    }
  });

  it('refuses a server whose certificate it cannot verify, and keeps trying', async () => {
    const bot = await startIrcBot(
      writeConfig(
        baseConfig(`    port: ${irc.tlsPort}
    nick: bbcheck`),
      ),
      { waitFor: 'IRC connection error' },
    );
    try {
      const error = await bot.waitForLog('IRC connection error');
      expect(String(error.err)).toMatch(/self[- ]signed certificate/);
      await bot.until('a second attempt', () => logsOf(bot, 'IRC connection error').length >= 2);
      expect(logsOf(bot, 'connected to IRC')).toHaveLength(0);
    } finally {
      expect(await bot.stop()).toBe(0);
    }
  });
});
