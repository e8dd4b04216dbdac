/**
 * Force, stop and rebuild from chat against the real lab master (3.7 and 4.3), whose authz lets the
 * Buildbot user `bot` force and nobody else: what the bot sends, what it refuses to send, the audit
 * trail, and the follow-ups the requester gets.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, startBot, writeConfig } from '../support/bot.js';
import { LAB_VERSIONS, type Lab, startLab } from '../support/lab.js';

type ConfigOptions = { password?: string; user?: string; force?: string[] };

function forceConfig(url: string, opts: ConfigOptions): string {
  return writeConfig(`masters:
  - name: lab
    url: ${url}
    stream: ws
    timeout: 10s
    auth: { username: ${opts.user ?? 'bot'}, password: "${opts.password ?? 'botpass'}" }
    force:
      repositoryBase: https://github.com/
      confirmAbove: 1
      rateLimit: { count: 20, per: 10m }
storage: ./state.sqlite
chat:
  console: true
announce:
  group_window: 0 # these tests count announcements one by one; groups have their own tests
  details: inline # one message per announcement; the split is tested in announce.test.ts
notify:
  - to: console
    events: [failure]
permissions:
  force: [${(opts.force ?? ['console']).join(', ')}]
`);
}

describe.each(LAB_VERSIONS)('Buildbot %s', (version) => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({
      version,
      branches: ['3.x'],
      platforms: ['AMD64 Debian root:stable,tier-1', 'AMD64 Fedora Stable:stable,tier-1'],
    });
    await lab.runBuild('AMD64 Debian root 3.x', 'pass');
    await lab.runBuild('AMD64 Debian root custom', 'pass');
    await lab.runBuild('AMD64 Fedora Stable custom', 'pass');
  });
  afterAll(async () => {
    await lab?.close();
  });

  const config = (opts: ConfigOptions = {}) => forceConfig(lab.url, opts);

  async function requestCount(): Promise<number> {
    const body = await lab.api<{ buildrequests: unknown[] }>('buildrequests');
    return body.buildrequests.length;
  }

  describe('!force', () => {
    let bot: BotProcess;
    beforeAll(async () => {
      bot = await startBot(config());
    });
    afterAll(async () => {
      await bot?.stop();
    });

    it('forces a group with a repository and branch after confirmation, and follows up', async () => {
      const before = await requestCount();
      let from = bot.stdout.length;
      bot.send('!force custom python/cpython main --reason "try the fix"');
      await bot.waitForLine(
        /^That starts 2 builders: AMD64 Debian root custom, AMD64 Fedora Stable custom\.$/,
        from,
      );
      await bot.waitForLine(
        /^Say !confirm within 60 s to go ahead, or repeat the command with --yes\.$/,
        from,
      );
      expect(await requestCount()).toBe(before);
      from = bot.stdout.length;
      bot.send('!confirm');
      await bot.waitForLine(
        /^Requested 2 builders with https:\/\/github\.com\/python\/cpython at main; you will hear when they start and finish:$/,
        from,
      );
      const link = await bot.waitForLine(/^ {2}http:\/\/127\.0\.0\.1:\d+\/#\/buildrequests\/\d+$/, from);
      const brid = Number(/buildrequests\/(\d+)$/.exec(link.text)?.[1]);
      // The master's build request carries exactly that repository and branch.
      const request = await lab.api<{ buildrequests: Array<{ buildsetid: number }> }>(
        `buildrequests/${brid}`,
      );
      const buildset = await lab.api<{
        buildsets: Array<{ reason: string; sourcestamps: Array<{ repository: string; branch: string }> }>;
      }>(`buildsets/${request.buildrequests[0]?.buildsetid}`);
      expect(buildset.buildsets[0]?.sourcestamps[0]).toMatchObject({
        repository: 'https://github.com/python/cpython',
        branch: 'main',
      });
      // Buildbot adds "A build was forced by '<its user>': " in front of the reason it is given.
      expect(buildset.buildsets[0]?.reason).toMatch(
        /: bbwatch: requested by console on console \(console\): try the fix$/,
      );
      // Follow-ups, where the request came from, naming the requester.
      await bot.waitForLine(/^console: AMD64 Debian root custom #\d+ finished: green/, from, 60_000);
      await bot.waitForLine(/^console: AMD64 Fedora Stable custom #\d+ finished: green/, from, 60_000);
    });

    it('forces one builder at its own branch with --yes-free single target', async () => {
      const from = bot.stdout.length;
      bot.send('!force AMD64 Debian root 3.x');
      await bot.waitForLine(
        /^Requested AMD64 Debian root 3\.x; you will hear when it starts and finishes:$/,
        from,
      );
      await bot.waitForLine(/^console: AMD64 Debian root 3\.x #\d+ finished: green/, from, 60_000);
    });

    it('tells of a short build both that it started and that it finished, in that order', async () => {
      const from = bot.stdout.length;
      bot.send('!force AMD64 Debian root 3.x');
      await bot.waitForLine(
        /^Requested AMD64 Debian root 3\.x; you will hear when it starts and finishes:$/,
        from,
      );
      const finished = await bot.waitForLine(
        /^console: AMD64 Debian root 3\.x #(\d+) finished: green/,
        from,
        60_000,
      );
      const number = /#(\d+) finished/.exec(finished.text)?.[1];
      const lines = bot.stdout.slice(from).map((l) => l.text);
      const started = lines.indexOf(`console: AMD64 Debian root 3.x #${number} started`);
      expect(started).toBeGreaterThanOrEqual(0);
      expect(started).toBeLessThan(lines.indexOf(finished.text));
      // How short it was (a build between two of the old 3 s polls of its request got no "started").
      const b = await lab.waitForBuild('AMD64 Debian root 3.x', Number(number));
      console.log(
        `Buildbot ${version}: forced build #${number} took ${(b.complete_at ?? 0) - b.started_at} s`,
      );
    });

    it.each([
      ['..', /may not contain \. or \.\. segments|not an allowed repository/],
      ['https://evil.example/x', /not a URL/],
      ['sandbox/myfixes;rm', /not an allowed repository path/],
      ['/etc/passwd', /may not be absolute/],
    ])('refuses the repository %j without a request', async (repo, why) => {
      const before = await requestCount();
      const from = bot.stdout.length;
      bot.send(`!force custom ${repo} main --yes`);
      const answer = await bot.waitForLine(/Usage: !force|not|may/, from);
      expect(answer.text).toMatch(why);
      expect(await requestCount()).toBe(before);
    });

    it.each([
      ['"my branch"', /contains a space/],
      ['a~b', /contains '~'/],
      ['a^b', /contains '\^'/],
      ['a:b', /contains ':'/],
      ['x..y', /contains '\.\.'/],
    ])('refuses the branch %s without a request', async (branch, why) => {
      const before = await requestCount();
      const from = bot.stdout.length;
      bot.send(`!force custom sandbox/myfixes ${branch} --yes`);
      const answer = await bot.waitForLine(/is not a valid branch name/, from);
      expect(answer.text).toMatch(why);
      expect(await requestCount()).toBe(before);
    });

    it('refuses a 10 kB argument', async () => {
      const before = await requestCount();
      const from = bot.stdout.length;
      bot.send(`!force custom ${'a'.repeat(10_000)} main`);
      await bot.waitForLine(/^That is too long for a command/, from);
      expect(await requestCount()).toBe(before);
    });

    it('stops a running build and rebuilds a finished one', async () => {
      await lab.setScenario('slow:30', 'AMD64 Fedora Stable custom');
      let from = bot.stdout.length;
      bot.send('!force AMD64 Fedora Stable custom');
      const started = await bot.waitForLine(
        /^console: AMD64 Fedora Stable custom #(\d+) started$/,
        from,
        30_000,
      );
      const number = /#(\d+) started/.exec(started.text)?.[1];
      // Buildbot records a stop that arrives before the worker runs the step's command (a busy
      // machine) as an exception, not a cancel: stop it once the command runs (its log has begun).
      const builderid = (await lab.builders()).find(
        (b) => b.name === 'AMD64 Fedora Stable custom',
      )?.builderid;
      for (let waited = 0; ; waited += 200) {
        const { logs } = await lab
          .api<{ logs: Array<{ num_lines: number }> }>(
            `builders/${builderid}/builds/${number}/steps/test/logs/stdio`,
          )
          .catch(() => ({ logs: [] }));
        if ((logs[0]?.num_lines ?? 0) > 0) break;
        if (waited > 30_000) throw new Error(`#${number}'s test step did not start its command within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      from = bot.stdout.length;
      bot.send(`!stop AMD64 Fedora Stable custom ${number}`);
      await bot.waitForLine(new RegExp(`^Stopping AMD64 Fedora Stable custom #${number}\\.$`), from);
      await bot.waitForLine(
        new RegExp(`^console: AMD64 Fedora Stable custom #${number} finished: cancelled`),
        from,
        30_000,
      );
      await lab.setScenario('pass', 'AMD64 Fedora Stable custom');
      from = bot.stdout.length;
      bot.send(`!rebuild AMD64 Fedora Stable custom ${number}`);
      await bot.waitForLine(
        /^Requested AMD64 Fedora Stable custom; you will hear when it starts and finishes:$/,
        from,
      );
      await bot.waitForLine(/^console: AMD64 Fedora Stable custom #\d+ finished: green/, from, 60_000);
    });
  });

  describe('refusals', () => {
    it('an identity without the force permission sends nothing, and the attempt is audited', async () => {
      const path = config({ force: ['irc:alice'] });
      const bot = await startBot(path);
      const before = await requestCount();
      bot.send('!force AMD64 Debian root 3.x');
      await bot.waitForLine(/^!force needs the 'force' permission\.$/);
      expect(await requestCount()).toBe(before);
      await bot.stop();
      const db = new Database(join(path, '..', 'state.sqlite'), { readonly: true });
      const rows = db.prepare('SELECT identity, command, outcome, detail FROM audit').all();
      db.close();
      expect(rows).toEqual([
        { identity: 'console', command: 'force', outcome: 'refused', detail: "no 'force' permission" },
      ]);
    });

    it('says clearly when the master refuses the bot’s credentials or its role', async () => {
      const wrong = await startBot(config({ password: 'wrong' }));
      wrong.send('!force AMD64 Debian root 3.x');
      await wrong.waitForLine(/^lab refused the bot's credentials/);
      await wrong.stop();
      const nobody = await startBot(config({ user: 'nobody', password: 'nopass' }));
      nobody.send('!force AMD64 Debian root 3.x');
      await nobody.waitForLine(/^lab does not let the bot do that \(.*you need to have role 'admins'/);
      await nobody.stop();
    });
  });
});
