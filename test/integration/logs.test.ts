/**
 * Test-log intelligence end to end: the real lab master (3.7 and 4.3) runs CPython's regrtest; the bot
 * reads the logs, announces what broke (flaky, then red), and answers !flaky, !why, !repro and !known.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, CLI, labConfig, startBot, writeConfig } from '../support/bot.js';
import { RequestBudget } from '../../src/buildbot/budget.js';
import { BuildbotRest } from '../../src/buildbot/rest.js';
import { silentLog } from '../support/fleet.js';
import { LAB_VERSIONS, type Lab, startLab } from '../support/lab.js';

const B = 'AMD64 Debian root 3.x';

function cli(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000, cwd }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe.each(LAB_VERSIONS)('Buildbot %s', (version) => {
  let lab: Lab;
  let bot: BotProcess;

  beforeAll(async () => {
    lab = await startLab({ version, branches: ['3.x'], platforms: ['AMD64 Debian root:stable,tier-1'] });
    await lab.runBuild(B, 'pass');
    const config = labConfig(lab.url, 'ws').replace(
      '[failure, exception, recovery]',
      '[failure, exception, recovery, flaky, newfailure]',
    );
    bot = await startBot(writeConfig(`${config}permissions:\n  operate: [console]\n`));
  });
  afterAll(async () => {
    await bot?.stop();
    await lab?.close();
  });

  /** The announcement block (title and indented lines) that starts with a line matching `title`. */
  async function block(pattern: RegExp, from = 0): Promise<string[]> {
    const first = await bot.waitForLine(pattern, from);
    const at = bot.stdout.indexOf(first);
    // The block ends at its link line (every announcement ends with one).
    await bot.until('the whole block', () => bot.stdout.slice(at + 1).some((l) => /^ {2}http/.test(l.text)));
    const lines = [first.text];
    for (const l of bot.stdout.slice(at + 1)) {
      if (!l.text.startsWith('  ')) break;
      lines.push(l.text);
      if (/^ {2}http/.test(l.text)) break;
    }
    return lines;
  }

  describe('test logs', () => {
    let red: { number: number; buildid: number; builderid: number };

    it('announces a flaky build (orange, a test passed on re-run) when a rule asks for it', async () => {
      const orange = await lab.runBuild(B, 'flaky');
      expect(orange.results).toBe(1);
      const lines = await block(new RegExp(`${B} #${orange.number} is orange: a test passed only on re-run`));
      expect(lines).toContain('  Passed on re-run: test_ssl_lab');
      expect(lines.some((l) => /^ {2}Log: http.*\/steps\/\d+\/logs\/stdio$/.test(l))).toBe(true);
    });

    it('names the failing test in the red announcement, with its recent flakiness', async () => {
      red = await lab.runBuild(B, 'fail');
      const lines = await block(new RegExp(`${B} #${red.number} turned red: failed test`));
      expect(lines).toContain('  Failed: test_ssl_lab (flaky 1× in 7 d)');
    });

    it('!flaky tells flaky from hard failures and links the latest one', async () => {
      const from = bot.stdout.length;
      bot.send('!flaky test.test_ssl_lab');
      const title = await bot.waitForLine(/^test_ssl_lab: /, from);
      expect(title.text).toBe('test_ssl_lab: flaky 1×, failed 1× in the last 30 days');
      await bot.waitForLine(
        new RegExp(
          `Seen in 2 builds on 1 builder \\(3\\.x\\); first .* ago, last .* ago: ${B} #${red.number} \\(failed\\)\\.`,
        ),
        from,
      );
      await bot.waitForLine(new RegExp(`#/builders/${red.builderid}/builds/${red.number}$`), from);
      bot.send('!flaky');
      await bot.waitForLine(/^Flakiest tests, last 7 days:$/, from);
      await bot.waitForLine(/^ {2}test_ssl_lab flaky 1×, failed 1× on 1 builder, last/, from);
    });

    it('!why shows the failing test case and the end of its traceback', async () => {
      const from = bot.stdout.length;
      bot.send(`!why ${B}`);
      await bot.waitForLine(
        new RegExp(`^${B} #${red.number} \\(FAILURE then FAILURE\\): 1 failing test$`),
        from,
      );
      await bot.waitForLine(/^ {2}test_ssl_lab: test_handshake$/, from);
      await bot.waitForLine(/^ {4}AssertionError: handshake failed: \[SSL: WRONG_VERSION_NUMBER\]$/, from);
    });

    it('!repro gives the regrtest command with the build seed', async () => {
      const seedLine = await lab.api<{ logchunks: Array<{ content: string }> }>(
        `builds/${red.buildid}/steps/test/logs/stdio/contents`,
      );
      const seed = /Using random seed:? (\d+)/.exec(seedLine.logchunks.map((c) => c.content).join(''))?.[1];
      expect(seed).toBeDefined();
      const from = bot.stdout.length;
      bot.send(`!repro ${B}`);
      await bot.waitForLine(new RegExp(`^Reproduce ${B} #${red.number} \\(seed ${seed}\\):$`), from);
      await bot.waitForLine(
        new RegExp(`^ {2}\\./python -m test --randseed ${seed} -v test_ssl_lab -m test_handshake$`),
        from,
      );
      await bot.waitForLine(new RegExp(`^ {2}\\./python -m test -r --randseed ${seed}$`), from);
    });

    it('!known attaches an issue that !flaky then shows; !unknown removes it', async () => {
      const from = bot.stdout.length;
      bot.send('!known test_ssl_lab #4242');
      await bot.waitForLine(/^test_ssl_lab is now known as gh-4242\.$/, from);
      bot.send('!flaky test_ssl_lab');
      await bot.waitForLine(/^ {2}Known: gh-4242$/, from);
      bot.send('!known test_ssl_lab javascript:alert(1)');
      await bot.waitForLine(/is not an issue \(gh-1234, #1234, bpo-1234 or an http\(s\) URL\)/, from);
      bot.send('!unknown test_ssl_lab');
      await bot.waitForLine(/^Removed 1 known issue from test_ssl_lab\.$/, from);
    });

    it('bbwatch analyze reads a build URL the same way', async () => {
      const output = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [CLI, 'analyze', '--json', `${lab.url}#/builders/${red.builderid}/builds/${red.number}`],
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      const json = JSON.parse(output) as Record<string, unknown>;
      expect(json).toMatchObject({
        result: 'FAILURE then FAILURE',
        partial: false,
        failed: ['test_ssl_lab'],
        flaky: [],
      });
    });
  });

  describe('bad input and back-fill', () => {
    it('a build whose test step has no log gives "no test summary found", not a crash', async () => {
      const purple = await lab.runBuild(B, 'exception');
      const result = await cli([
        'analyze',
        `${lab.url}#/builders/${purple.builderid}/builds/${purple.number}`,
      ]);
      expect(result.code).toBe(3);
      expect(result.stdout).toMatch(/^no test summary found/);
      const missing = await cli(['analyze', `${lab.url}#/builders/${purple.builderid}/builds/9999`]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/HTTP 404/);
    });

    it('bbwatch backfill analyses past builds once and resumes', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bbwatch-backfill-'));
      const config = writeConfig(labConfig(lab.url, 'poll'), dir);
      const first = await cli(['backfill', '--config', config, '--days', '1'], dir);
      expect(first.code).toBe(0);
      // The red and orange builds of the tests above, and the purple one: its test step raised
      // on the master, which back-fill classifies as the bot does (`!why` reads it from the store).
      expect(first.stdout).toBe(
        'lab: 3 orange, red or purple builds in the last 1 day; analysed 3, already done 0, unreadable 0; ' +
          'failed outside their tests: 1 exception\n',
      );
      const again = await cli(['backfill', '--config', config, '--days', '1'], dir);
      expect(again.stdout).toBe(
        'lab: 3 orange, red or purple builds in the last 1 day; analysed 0, already done 3, unreadable 0\n',
      );
    });
  });

  describe('a summary far from the end: the /raw path', () => {
    // 20,000 lines after regrtest's summary: past the tail window (16,384 lines), so the reader streams /raw.
    let tail: { number: number; buildid: number; builderid: number };
    beforeAll(async () => {
      tail = await lab.runBuild(B, 'failtail:20000');
      // The lab says it finished before the bot may have heard: until then `!why` picks the build before.
      await bot.waitForBuild(tail.buildid);
    });

    it('!why and bbwatch analyze name the failing test and its case', async () => {
      const from = bot.stdout.length;
      bot.send(`!why ${B}`);
      await bot.waitForLine(
        new RegExp(`^${B} #${tail.number} \\(FAILURE then FAILURE\\): 1 failing test$`),
        from,
      );
      await bot.waitForLine(/^ {2}test_ssl_lab: test_handshake$/, from);
      const result = await cli([
        'analyze',
        '--json',
        `${lab.url}#/builders/${tail.builderid}/builds/${tail.number}`,
      ]);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        result: 'FAILURE then FAILURE',
        partial: false,
        failed: ['test_ssl_lab'],
      });
    });

    it('/raw gives exactly the lines /contents gives (without the lines 4.3 puts first)', async () => {
      const [log] = (
        await lab.api<{ logs: Array<{ logid: number; num_lines: number }> }>(
          `builds/${tail.buildid}/steps/test/logs/stdio`,
        )
      ).logs;
      if (!log) throw new Error('no stdio log');
      // The master's own lines, stream tag dropped: what the log is.
      const { logchunks } = await lab.api<{ logchunks: Array<{ content: string }> }>(
        `logs/${log.logid}/contents`,
      );
      const lines = logchunks
        .map((c) => c.content)
        .join('')
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => l.slice(1));
      expect(lines).toHaveLength(log.num_lines);
      // What the master serves as /raw: 4.3 starts it with three lines of its own.
      const served = (await lab.get(`logs/${log.logid}/raw`)).body.split('\n', 3);
      if (version === '4.3')
        expect(served).toEqual([`Builder: ${B}`, `Build number: ${tail.number}`, 'Worker name: w1']);
      else expect(served).toEqual(lines.slice(0, 3));

      const rest = new BuildbotRest({
        baseUrl: lab.url,
        budget: new RequestBudget(10, 1_000),
        timeoutMs: 10_000,
        log: silentLog,
      });
      const chunks: Buffer[] = [];
      await rest.streamRaw(log.logid, (c) => chunks.push(Buffer.from(c)));
      expect(Buffer.concat(chunks).toString('utf8').replace(/\n$/, '').split('\n')).toEqual(lines);
    });
  });
});
