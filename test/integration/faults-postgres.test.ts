/**
 * Faults of the database itself (issue 16, part 4), against a real PostgreSQL server on loopback
 * and the real lab master: the store's connection ended by the server mid-run, the database
 * unreachable for 20 s while a builder turns red, and a database that is up but stalled (a table
 * locked by someone else; the leader's connections stalled in a paused proxy). The bot must keep running (the same process throughout), say what
 * happened, and announce every transition exactly once when the database answers again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { type BotProcess, labConfig, startBot, writeConfig } from '../support/bot.js';
import { type Lab, startLab } from '../support/lab.js';
import { type Postgres, startPostgres } from '../support/postgres.js';
import { type Proxy, startProxy } from '../support/proxy.js';

const PLATFORMS = ['AMD64 Debian root:stable,tier-1', 'PPC64LE RHEL8:unstable,tier-3'];
const BUILDERS = PLATFORMS.map((p) => `${p.split(':')[0]} 3.x`) as [string, string];

let lab: Lab;
let server: Postgres;

beforeAll(async () => {
  server = await startPostgres();
  lab = await startLab({ branches: ['3.x'], platforms: PLATFORMS });
  // History each bot imports silently: every builder starts green.
  await Promise.all(BUILDERS.map((b) => lab.runBuild(b, 'pass')));
});

afterAll(async () => {
  await lab?.close();
  server?.stop();
});

const config = (url: string, name: string) =>
  writeConfig(
    labConfig(lab.url, 'ws', `postgres: ${url}\nhttp:\n  port: 0\n`).replace(
      './state.sqlite',
      `./${name}.sqlite`,
    ),
  );

/** Lines announcing `builder #number` turning red, across `bots`. */
const reds = (bots: BotProcess[], builder: string, number: number) =>
  bots.flatMap((b) => b.matching(new RegExp(`${builder} #${number} turned red`)));

async function health(bot: BotProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const port = [...bot.logs].reverse().find((l) => l.msg === 'http listening')?.port as number;
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('database faults (PostgreSQL)', () => {
  it('rides out its connections ended by the server, then the database away for 20 s during a red build', async () => {
    const url = server.createDatabase('dbfaults_restart');
    // The bot reaches the database through a proxy the test can cut.
    const proxy: Proxy = await startProxy(server.port);
    const viaProxy = url.replace(`:${server.port}/`, `:${proxy.port}/`);
    const bot = await startBot(config(viaProxy, 'a'), { waitReady: false });
    try {
      await bot.waitForLog('leading');
      await bot.waitForLog('following live events', {}, 60_000);
      const pid = bot.child.pid;

      // 1. The server ends every session (pg_terminate_backend): the lock's too.
      server.terminateSessions('dbfaults_restart');
      await bot.waitForLog('stepping down: standing by to lead again', {}, 20_000);
      await bot.until(
        'it leads again',
        () => bot.logs.filter((l) => l.msg === 'leading').length >= 2,
        30_000,
      );
      await bot.until(
        'it follows the master again',
        () => bot.logs.filter((l) => l.msg === 'following live events').length >= 2,
        60_000,
      );
      const first = await lab.runBuild(BUILDERS[0], 'fail');
      await bot.waitForLine(new RegExp(`${BUILDERS[0]} #${first.number} turned red`), 0, 60_000);
      // Marked sent (a message the platform took but the outbox did not record yet is sent again
      // after a crash: README, "Two replicas").
      await bot.waitForLog('announced', { buildid: first.buildid }, 10_000);

      // 2. The database is unreachable for 20 s; meanwhile a builder turns red.
      proxy.block();
      const awayAt = Date.now();
      await bot.waitForLog('stepping down: standing by to lead again', {}, 20_000);
      const red = await lab.runBuild(BUILDERS[1], 'fail');
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 20_000 - (Date.now() - awayAt))));
      expect(reds([bot], BUILDERS[1], red.number)).toEqual([]);
      proxy.unblock();
      await bot.waitForLine(new RegExp(`${BUILDERS[1]} #${red.number} turned red`), 0, 90_000);
      // Once after, the same process throughout.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(reds([bot], BUILDERS[1], red.number)).toHaveLength(1);
      expect(reds([bot], BUILDERS[0], first.number)).toHaveLength(1);
      expect(bot.child.pid).toBe(pid);
      expect(bot.child.exitCode).toBeNull();
      expect(bot.logs.filter((l) => l.msg === 'leading').length).toBeGreaterThanOrEqual(3);
      // Nothing fatal: it never gave up.
      expect(bot.logs.filter((l) => l.level >= 60).map((l) => l.msg)).toEqual([]);
      expect(await bot.stop('SIGTERM')).toBe(0);
    } finally {
      await bot.stop();
      await proxy.close();
    }
  }, 300_000);

  it('a stalled database (a table locked by someone else): the standby leads within 30 s, nothing lost', async () => {
    const url = server.createDatabase('dbfaults_stall');
    // Green again (the test before left it red): the build below turns it red.
    await lab.runBuild(BUILDERS[0], 'pass');
    const leader = await startBot(config(url, 'b'), { waitReady: false });
    const bots = [leader];
    const locker = new pg.Client({ connectionString: url });
    try {
      await leader.waitForLog('leading');
      await leader.waitForLog('following live events', {}, 60_000);
      const standby = await startBot(config(url, 'c'), { waitReady: false });
      bots.push(standby);
      await standby.waitForLog('standing by: another bbwatch process leads');

      // Someone holds an exclusive lock on the outbox: every statement on it waits, then times out.
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE announcements IN ACCESS EXCLUSIVE MODE');
      const stalledAt = Date.now();
      const red = await lab.runBuild(BUILDERS[0], 'fail');
      await leader.waitForLog(
        'database unreachable; retrying (nothing is lost: builds are fetched again)',
        {},
        30_000,
      );
      const { status, body } = await health(leader);
      expect(status).toBe(503);
      expect(String((body.problems as string[]).join(' '))).toMatch(/database has been unreachable since/);
      const leading = await standby.waitForLog('leading', {}, 40_000);
      const takeoverMs = leading.time - stalledAt;
      await leader.waitForLog('stepping down: standing by to lead again');
      console.log(`stalled database: the lock taken → the standby leads after ${takeoverMs} ms`);
      expect(takeoverMs).toBeLessThan(30_000);

      // The lock goes: the red build is announced, once, by whichever process leads.
      await locker.query('ROLLBACK');
      await standby.until('the red announced', () => reds(bots, BUILDERS[0], red.number).length > 0, 90_000);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(reds(bots, BUILDERS[0], red.number)).toHaveLength(1);
      expect(leader.child.exitCode).toBeNull();
    } finally {
      await locker.end().catch(() => undefined);
      for (const bot of bots) await bot.stop();
    }
  }, 300_000);

  it('a stalled path to the database (a paused proxy): the standby leads within 30 s, the red announced once, the old leader silent', async () => {
    const url = server.createDatabase('dbfaults_pause');
    // Green again (the test before left it red): the build below turns it red.
    await lab.runBuild(BUILDERS[0], 'pass');
    // The leader reaches the database through a proxy that can stall; the standby directly.
    const proxy: Proxy = await startProxy(server.port);
    const viaProxy = url.replace(`:${server.port}/`, `:${proxy.port}/`);
    const leader = await startBot(config(viaProxy, 'd'), { waitReady: false });
    const bots = [leader];
    try {
      await leader.waitForLog('leading');
      await leader.waitForLog('following live events', {}, 60_000);
      const standby = await startBot(config(url, 'e'), { waitReady: false });
      bots.push(standby);
      await standby.waitForLog('standing by: another bbwatch process leads');

      // Nothing crosses between the leader and the database any more, and nothing is closed.
      proxy.pause();
      const pausedAt = Date.now();
      const red = await lab.runBuild(BUILDERS[0], 'fail');
      // The leader's statements time out: it stops sending and steps down.
      await leader.waitForLog('stepping down: standing by to lead again', {}, 30_000);
      const leading = await standby.waitForLog('leading', {}, 40_000);
      const takeoverMs = leading.time - pausedAt;
      console.log(
        `stalled path to the database: the proxy paused → the standby leads after ${takeoverMs} ms`,
      );
      expect(takeoverMs).toBeLessThan(30_000);
      await standby.waitForLine(new RegExp(`${BUILDERS[0]} #${red.number} turned red`), 0, 90_000);

      // The stall ends: what the old leader's connections held arrives late; it stands by.
      proxy.resume();
      await leader.until(
        'the old leader standing by',
        () =>
          leader.logs.some(
            (l) => l.time >= pausedAt && l.msg === 'standing by: another bbwatch process leads',
          ),
        60_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(reds(bots, BUILDERS[0], red.number)).toHaveLength(1);
      expect(reds([standby], BUILDERS[0], red.number)).toHaveLength(1);
      // Not one message from the old leader since the stall began: only its console closing.
      expect(leader.stdout.filter((l) => l.at >= pausedAt).map((l) => l.text)).toEqual(['bbwatch stopped.']);
      expect(leader.child.exitCode).toBeNull();
      expect(standby.logs.filter((l) => l.level >= 60).map((l) => l.msg)).toEqual([]);
    } finally {
      for (const bot of bots) await bot.stop();
      await proxy.close();
    }
  }, 300_000);
});
