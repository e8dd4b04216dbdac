/**
 * `bbwatch doctor` as an operator runs it: the real CLI against the lab Buildbot master, the IRC
 * lab (InspIRCd + Anope), and the Discord and Matrix stand-ins that the real discord.js and
 * matrix-js-sdk talk to. A working setup is all green with exit 0; a wrong SASL password, channels
 * the bot cannot join, a bad Discord token and a Matrix room the bot is not in are each named with
 * their fix, and exit 1. No secret ever reaches the output or the logs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../support/bot.js';
import { type FakeDiscord, startFakeDiscord } from '../support/discord/fake-discord.js';
import { Permission } from '../support/discord/world.js';
import { IrcTestClient } from '../support/irc/client.js';
import { type IrcLab, startIrcLab } from '../support/irc/lab.js';
import { type Lab, startLab } from '../support/lab.js';
import { type Homeserver, startHomeserver } from '../support/matrix/homeserver.js';

const MATRIX_PASSWORD = 'matrix pass phrase 42';
const IRC_PASSWORD = 'irc-sasl-secret-77';
const LAB_PASSWORD = 'botpass'; // the lab master's user bot (test/support/lab/master.cfg)

let lab: Lab;
let irc: IrcLab;
let discord: FakeDiscord;
let hs: Homeserver;
let alice: IrcTestClient;
let botId: string;
let dir: string;

interface Check {
  status: string;
  section: string;
  title: string;
  detail: string;
  fix: string[];
}

/** The checklist as printed on a pipe: `FAIL irc: join #x — reason`, then `      fix: ...` lines. */
function checklist(stdout: string): Check[] {
  const checks: Check[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(ok|FAIL|warn|skip) +(.+?): (.*?)(?: — (.*))?$/.exec(line);
    if (m) {
      checks.push({
        status: m[1] ?? '',
        section: m[2] ?? '',
        title: m[3] ?? '',
        detail: m[4] ?? '',
        fix: [],
      });
      continue;
    }
    const fix = /^ {6}(?:fix: | {5})(.*)$/.exec(line);
    if (fix) checks.at(-1)?.fix.push(fix[1] ?? '');
  }
  return checks;
}

function find(checks: Check[], section: string, title: string): Check {
  const found = checks.find((c) => c.section === section && c.title === title);
  if (!found)
    throw new Error(
      `no check '${section}: ${title}' in:\n${checks.map((c) => `${c.section}: ${c.title}`).join('\n')}`,
    );
  return found;
}

function doctor(
  config: string,
  env: Record<string, string>,
  extra: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'doctor', '--config', config, ...extra],
      { cwd: dir, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function config(parts: { ircChannels: string; matrixRooms: string; httpPort: number }): string {
  return writeConfig(
    `masters:
  - name: lab
    url: ${lab.url}
    timeout: 5s
    auth: { username: bot, password: "\${BBWATCH_TEST_LAB_PASSWORD}" }
storage: ${join(dir, 'state.sqlite')}
http: { port: ${parts.httpPort} }
chat:
  irc:
    host: 127.0.0.1
    port: ${irc.tlsPort}
    tls_ca: ${irc.caFile}
    nick: bbwatch
    sasl: { account: bbwatch, password: "\${BBWATCH_TEST_IRC_PASSWORD}" }
    channels: ${parts.ircChannels}
  discord:
    token: \${BBWATCH_TEST_DISCORD_TOKEN}
    api: ${discord.apiUrl}
  matrix:
    homeserver: ${hs.url}
    user_id: "${botId}"
    password: \${BBWATCH_TEST_MATRIX_PASSWORD}
    rooms: ${parts.matrixRooms}
notify:
  - to: "irc:#lab"
  - to: "discord:${discord.world.announceChannel.id}"
  - to: "matrix:#ci:hs.test"
`,
    dir,
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bbwatch-doctor-'));
  [lab, irc, discord, hs] = await Promise.all([
    startLab({ branches: ['3.x'], platforms: ['AMD64 Debian root:stable,tier-1'] }),
    startIrcLab({ accounts: ['alice:alicepass', `bbwatch:${IRC_PASSWORD}`] }),
    startFakeDiscord(),
    startHomeserver(),
  ]);
  // #private is invite-only: alice made it and stays in it (an empty channel would be made afresh).
  alice = await IrcTestClient.connect({ port: irc.port, nick: 'alice', channels: ['#private'] });
  alice.send('MODE #private +i');
  await alice.until('+i on #private', () =>
    alice.lines.some((l) => l.command === 'MODE' && l.params[0] === '#private' && l.params[1] === '+i'),
  );
  botId = hs.addUser('bbwatch', { password: MATRIX_PASSWORD });
  const owner = hs.addUser('owner');
  const ci = hs.createRoom(owner, { alias: '#ci:hs.test' });
  hs.join(botId, ci);
  hs.createRoom(owner, { alias: '#elsewhere:hs.test' });
}, 180_000);

afterAll(async () => {
  await alice?.quit();
  await Promise.all([lab?.close(), irc?.close(), discord?.close(), hs?.close()]);
});

const goodEnv = () => ({
  BBWATCH_TEST_LAB_PASSWORD: LAB_PASSWORD,
  BBWATCH_TEST_IRC_PASSWORD: IRC_PASSWORD,
  BBWATCH_TEST_DISCORD_TOKEN: discord.token,
  BBWATCH_TEST_MATRIX_PASSWORD: MATRIX_PASSWORD,
});

describe('bbwatch doctor', () => {
  it('is all green against a setup that works, and exits 0', async () => {
    const path = config({
      ircChannels: '["#lab"]',
      matrixRooms: '["#ci:hs.test"]',
      httpPort: await freePort(),
    });
    const { code, stdout, stderr } = await doctor(path, goodEnv());
    const checks = checklist(stdout);
    expect({ code, stderr }, stdout).toEqual({ code: 0, stderr: '' });
    expect(
      checks.filter((c) => c.status !== 'ok'),
      stdout,
    ).toEqual([]);
    // Every part named in the brief was checked, in order: config, store, master, chat platforms, HTTP.
    expect(checks.map((c) => c.section)).toEqual([
      'config',
      'store',
      ...Array(5).fill('master lab'),
      ...Array(5).fill('irc'),
      ...Array(4).fill('discord'),
      ...Array(3).fill('matrix'),
      'http',
    ]);
    expect(find(checks, 'master lab', `answers at ${lab.url}`).detail).toMatch(
      /^Buildbot 3\.7\.\S+, API v2.*, 2 builders$/,
    );
    expect(find(checks, 'master lab', 'live events over WebSocket').detail).toBe(
      'subscribed to finished builds',
    );
    expect(find(checks, 'master lab', 'live events over SSE').detail).toBe('subscribed to finished builds');
    expect(find(checks, 'master lab', 'login as bot').detail).toMatch(/^logged in as bot/);
    expect(find(checks, 'master lab', 'force schedulers').detail).toMatch(
      /^custom \(1 builder, takes a repository\), force \(1 builder.*; 2 of 2 builders can be forced$/,
    );
    expect(find(checks, 'irc', 'TLS handshake').detail).toBe('certificate verified');
    expect(find(checks, 'irc', 'SASL PLAIN login as bbwatch').detail).toBe('logged in to account bbwatch');
    expect(find(checks, 'irc', 'join #lab').detail).toBe('joined');
    expect(find(checks, 'discord', 'bot token').detail).toMatch(/^accepted: bot user bbwatch/);
    expect(find(checks, 'discord', `post in channel ${discord.world.announceChannel.id}`).detail).toBe(
      '#ci-alerts in Lab: can see it and post embeds',
    );
    expect(find(checks, 'matrix', `login as ${botId}`).detail).toMatch(/^\/whoami: @bbwatch:hs\.test/);
    expect(find(checks, 'matrix', 'room #ci:hs.test').detail).toMatch(
      /^joined #ci:hs\.test \(!.*\); power level 0, posting needs 0$/,
    );
    expect(stdout.trim().split('\n').at(-1)).toBe(`Everything works: ${checks.length} checks passed.`);
    // The doctor's password login to the homeserver leaves no device behind; nothing was posted.
    expect(hs.requests.filter((r) => r.path.endsWith('/logout'))).toHaveLength(1);
    expect(discord.posts(discord.world.announceChannel.id)).toEqual([]);
  }, 120_000);

  it('names each problem with its fix, exits 1, and prints no secret', async () => {
    const path = config({
      ircChannels: '["#lab", "#private", "&nochan"]',
      matrixRooms: '["#ci:hs.test", "#elsewhere:hs.test"]',
      httpPort: await freePort(),
    });
    const env = {
      ...goodEnv(),
      BBWATCH_TEST_IRC_PASSWORD: 'not-the-irc-password',
      BBWATCH_TEST_DISCORD_TOKEN: `${discord.token}-revoked`,
    };
    const { code, stdout, stderr } = await doctor(path, env, ['--log-level', 'trace']);
    const checks = checklist(stdout);
    expect(code, stdout).toBe(1);

    const sasl = find(checks, 'irc', 'SASL PLAIN login as bbwatch');
    expect(sasl.status).toBe('FAIL');
    expect(sasl.fix).toEqual([
      'check chat.irc.sasl.account and chat.irc.sasl.password (from $BBWATCH_TEST_IRC_PASSWORD) — the server said: SASL authentication failed',
    ]);
    const invite = find(checks, 'irc', 'join #private');
    expect(invite.status).toBe('FAIL');
    expect(invite.fix[0]).toMatch(
      /^#private is invite-only \(\+i\): have an operator invite bbwatch .* — the server said: Cannot join channel \(invite only\)$/,
    );
    const unknown = find(checks, 'irc', 'join &nochan');
    expect(unknown.status).toBe('FAIL');
    expect(unknown.fix[0]).toMatch(
      /^the server has no channel &nochan and will not make one: check chat\.irc\.channels\[2\] for a typo/,
    );
    expect(find(checks, 'irc', 'join #lab').status).toBe('ok');

    const token = find(checks, 'discord', 'bot token');
    expect(token).toMatchObject({ status: 'FAIL', detail: 'Discord refused the token' });
    expect(token.fix[0]).toMatch(
      /^check chat\.discord\.token \(from \$BBWATCH_TEST_DISCORD_TOKEN\): copy the token/,
    );
    expect(find(checks, 'discord', `post in channel ${discord.world.announceChannel.id}`).status).toBe(
      'skip',
    );

    const room = find(checks, 'matrix', 'room #elsewhere:hs.test');
    expect(room.status).toBe('FAIL');
    expect(room.detail).toMatch(/^the bot is not in #elsewhere:hs\.test \(!/);
    expect(room.fix[0]).toMatch(
      /^invite @bbwatch:hs\.test to the room from an account listed in chat\.matrix\.invites_from/,
    );
    expect(find(checks, 'matrix', 'room #ci:hs.test').status).toBe('ok');

    // Nothing else failed, and the summary says how much did.
    expect(checks.filter((c) => c.status === 'FAIL').map((c) => `${c.section}: ${c.title}`)).toEqual([
      'irc: SASL PLAIN login as bbwatch',
      'irc: join #private',
      'irc: join &nochan',
      'discord: bot token',
      'matrix: room #elsewhere:hs.test',
    ]);
    expect(stdout.trim().split('\n').at(-1)).toMatch(
      /^5 problems, 2 not tried: bbwatch would not work as configured/,
    );

    // Neither the output nor the trace-level logs hold a secret, right or wrong.
    const printed = stdout + stderr;
    expect(stderr.length).toBeGreaterThan(0);
    for (const secret of [...Object.values(env), IRC_PASSWORD, discord.token]) {
      expect(printed.includes(secret), `a secret was printed: ${secret.slice(0, 4)}…`).toBe(false);
    }
  }, 120_000);

  it('checks a NickServ login, and quotes NickServ when the password is wrong', async () => {
    const path = writeConfig(
      `masters:
  - name: lab
    url: ${lab.url}
storage: ${join(dir, 'state.sqlite')}
chat:
  irc:
    host: 127.0.0.1
    port: ${irc.port}
    tls: false
    nickserv: { password: "\${BBWATCH_TEST_NICKSERV}" }
    channels: ["#lab"]
`,
      mkdtempSync(join(tmpdir(), 'bbwatch-doctor-nickserv-')),
    );
    const good = await doctor(path, { BBWATCH_TEST_NICKSERV: IRC_PASSWORD });
    expect(good.code, good.stdout).toBe(0);
    expect(find(checklist(good.stdout), 'irc', 'NickServ IDENTIFY as bbwatch').detail).toBe(
      'logged in to account bbwatch',
    );
    const bad = await doctor(path, { BBWATCH_TEST_NICKSERV: 'not-the-nickserv-password' });
    const identify = find(checklist(bad.stdout), 'irc', 'NickServ IDENTIFY as bbwatch');
    expect(bad.code).toBe(1);
    expect(identify.fix).toEqual([
      'check chat.irc.nickserv.account and chat.irc.nickserv.password (from $BBWATCH_TEST_NICKSERV) — NickServ said: Password incorrect.',
    ]);
    expect(bad.stdout).not.toContain('not-the-nickserv-password');
  }, 120_000);

  it('never hangs on a host that takes connections and answers nothing', async () => {
    // Accepts every connection, says nothing, closes nothing.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const path = writeConfig(
        `masters:
  - name: mute
    url: http://127.0.0.1:${port}/
    timeout: 2s
storage: ${join(dir, 'state.sqlite')}
chat:
  irc:
    host: 127.0.0.1
    port: ${port}
    tls: false
    channels: ["#lab"]
`,
        mkdtempSync(join(tmpdir(), 'bbwatch-doctor-silent-')),
      );
      const { code, stdout } = await doctor(path, {});
      const checks = checklist(stdout);
      expect(code, stdout).toBe(1);
      const master = find(checks, 'master mute', `answers at http://127.0.0.1:${port}/`);
      expect(master).toMatchObject({
        status: 'FAIL',
        detail: `http://127.0.0.1:${port}/api/v2/builders did not answer within 2000 ms`,
      });
      expect(master.fix[0]).toMatch(/^no answer: is the host up/);
      expect(find(checks, 'irc', `connect to 127.0.0.1:${port}`).status).toBe('ok');
      const register = find(checks, 'irc', 'register as bbwatch');
      expect(register).toMatchObject({ status: 'FAIL', detail: 'no answer within 20 s' });
      expect(register.fix[0]).toBe(
        `the server took the connection but never welcomed the bot: is 127.0.0.1:${port} an IRC port without TLS (chat.irc.port, chat.irc.tls)?`,
      );
      expect(find(checks, 'irc', 'join #lab').status).toBe('skip');
    } finally {
      silent.close();
    }
  }, 120_000);

  it('says which channel permission the bot lacks, and answers --json', async () => {
    // The bot's role may no longer embed links in the announcement channel.
    const { announceChannel, botRole } = discord.world;
    announceChannel.overwrites = [
      { id: botRole.id, type: 0, allow: '0', deny: String(Permission.EmbedLinks) },
    ];
    try {
      const path = config({
        ircChannels: '["#lab"]',
        matrixRooms: '["#ci:hs.test"]',
        httpPort: await freePort(),
      });
      const { code, stdout } = await doctor(path, goodEnv(), ['--json']);
      const report = JSON.parse(stdout) as { ok: boolean; checks: Array<Record<string, string>> };
      expect(code).toBe(1);
      expect(report.ok).toBe(false);
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([
        {
          section: 'discord',
          title: `post in channel ${announceChannel.id}`,
          status: 'fail',
          detail: '#ci-alerts in Lab: the bot lacks Embed Links',
          fix: "give the bot's role Embed Links in #ci-alerts (channel settings → Permissions)",
        },
      ]);
      expect(stdout).not.toContain(discord.token);
    } finally {
      announceChannel.overwrites = [];
    }
  }, 120_000);
});
