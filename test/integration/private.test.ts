/**
 * A master that refuses anonymous reads (the lab with LAB_PRIVATE, on 3.7 and 4.3): REST answers 403
 * without a session, and Buildbot 4.3 refuses an anonymous WebSocket too. Given a Buildbot user, the
 * bot logs in and follows builds over WebSocket and SSE and reads their logs; without one, or with a
 * wrong password, it says what is wrong.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLI, labConfig, startBot, writeConfig } from '../support/bot.js';
import { LAB_VERSIONS, type Lab, startLab } from '../support/lab.js';

const B = 'AMD64 Debian root 3.x';

/** The lab config with `auth` for the master: a user, a session cookie, or none. */
function config(
  lab: Lab,
  stream: 'ws' | 'sse',
  auth?: { username: string; password: string } | { cookie: string },
): string {
  const yaml = labConfig(lab.url, stream);
  if (!auth) return writeConfig(yaml);
  const entry =
    'cookie' in auth
      ? `{ cookie: "${auth.cookie}" }`
      : `{ username: ${auth.username}, password: ${auth.password} }`;
  return writeConfig(yaml.replace(`    stream: ${stream}\n`, `    stream: ${stream}\n    auth: ${entry}\n`));
}

/** `bbwatch analyze …`: its exit status and output. */
function analyze(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'analyze', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: number }).code : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

/** A session cookie as someone would hand it to the bot: bot's, from logging in with a browser. */
async function sessionCookie(lab: Lab): Promise<string> {
  const res = await fetch(`${lab.url}auth/login`, {
    headers: { authorization: `Basic ${Buffer.from('bot:botpass').toString('base64')}` },
    redirect: 'manual',
  });
  await res.arrayBuffer();
  const cookie = res.headers.getSetCookie().at(-1)?.split(';')[0];
  if (!cookie) throw new Error(`no session from the lab (HTTP ${res.status})`);
  return cookie;
}

describe.each(LAB_VERSIONS)('Buildbot %s without anonymous reads', (version) => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({
      version,
      private: true,
      branches: ['3.x'],
      platforms: ['AMD64 Debian root:stable,tier-1'],
    });
    await lab.runBuild(B, 'pass');
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('refuses anonymous REST (and, on 4.3, an anonymous WebSocket)', async () => {
    // The lab itself: what the bot has to cope with.
    const rest = await fetch(`${lab.url}api/v2/builders`);
    expect(rest.status).toBe(403);
    expect(await rest.text()).toMatch(/you need to have role 'readers'/);
    const anonymous = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${lab.httpPort}/ws`);
      ws.on('open', () => {
        ws.terminate();
        resolve('open');
      });
      ws.on('unexpected-response', (_req, res) => {
        ws.terminate();
        resolve(`HTTP ${res.statusCode}`);
      });
      ws.on('error', (err) => resolve(err.message));
    });
    expect(anonymous).toBe(version === '4.3' ? 'HTTP 403' : 'open');
  });

  it.each(['ws', 'sse'] as const)(
    'with a user, follows builds over %s and reads their logs',
    async (stream) => {
      const bot = await startBot(config(lab, stream, { username: 'bot', password: 'botpass' }));
      let botStopped: number | null = null;
      try {
        const following = await bot.waitForLog('following live events');
        expect(following.transport).toBe(stream);
        expect(bot.logs.some((l) => l.msg === 'logged in to the master')).toBe(true);
        const red = await lab.runBuild(B, 'fail');
        const title = await bot.waitForLine(new RegExp(`${B} #${red.number} turned red: failed test`));
        // Details read from the test log, through the session.
        const at = bot.stdout.indexOf(title);
        await bot.until('the details', () => bot.stdout.length > at + 1);
        expect(bot.stdout[at + 1]?.text).toBe('  Failed: test_ssl_lab');
        expect((await bot.waitForBuild(red.buildid)).origin).toBe('stream');
      } finally {
        botStopped = await bot.stop();
        await lab.runBuild(B, 'pass'); // green again for the next bot
      }
      expect(botStopped).toBe(0);
    },
  );

  it('with a session cookie (as on buildbot.python.org), follows builds over ws and reads their logs', async () => {
    const bot = await startBot(config(lab, 'ws', { cookie: await sessionCookie(lab) }));
    let botStopped: number | null = null;
    try {
      expect((await bot.waitForLog('following live events')).transport).toBe('ws');
      const red = await lab.runBuild(B, 'fail');
      const title = await bot.waitForLine(new RegExp(`${B} #${red.number} turned red: failed test`));
      const at = bot.stdout.indexOf(title);
      await bot.until('the details', () => bot.stdout.length > at + 1);
      expect(bot.stdout[at + 1]?.text).toBe('  Failed: test_ssl_lab');
      // The cookie is the session: the bot never logs in itself.
      expect(bot.logs.some((l) => l.msg === 'logged in to the master')).toBe(false);
    } finally {
      botStopped = await bot.stop();
      await lab.runBuild(B, 'pass');
    }
    expect(botStopped).toBe(0);
  });

  it('without credentials, says that the master refuses anonymous reads and what to configure', async () => {
    const bot = await startBot(config(lab, 'ws'), { waitReady: false });
    try {
      const line = await bot.waitForLog('cannot load the master; retrying');
      expect(line.err).toBe(
        "lab does not allow anonymous reads (HTTP 403 on GET /api/v2/builders: you need to have role 'readers'); " +
          'give the bot a Buildbot user or a session cookie (masters[].auth in its config)',
      );
    } finally {
      await bot.stop();
    }
  });

  it('with a wrong password, says that the master refused its credentials', async () => {
    const bot = await startBot(config(lab, 'ws', { username: 'bot', password: 'wrong' }), {
      waitReady: false,
    });
    try {
      const line = await bot.waitForLog('cannot load the master; retrying');
      expect(line.err).toBe("lab refused the bot's credentials (HTTP 401 on login)");
    } finally {
      await bot.stop();
    }
  });

  it('bbwatch analyze of a build on it: with --config, logged in as the config says; without, says how', async () => {
    const red = await lab.runBuild(B, 'fail');
    try {
      const url = `${lab.url}#/builders/${red.builderid}/builds/${red.number}`;
      const anonymous = await analyze([url]);
      expect(anonymous.code).toBe(1);
      expect(anonymous.stderr).toMatch(/HTTP 403/);
      expect(anonymous.stderr).toMatch(/give --config with that master and its auth/);
      const file = config(lab, 'ws', { username: 'bot', password: 'botpass' });
      const logged = await analyze(['--config', file, url]);
      expect(logged.stderr).toBe('');
      expect(logged.code).toBe(0);
      expect(logged.stdout).toMatch(/^Result: FAILURE/m);
      expect(logged.stdout).toMatch(/test_ssl_lab/);
    } finally {
      await lab.runBuild(B, 'pass');
    }
  });
});
