/**
 * The CLI as a newcomer meets it: --help, check-config, bad configs, masters that cannot be
 * reached or answer garbage, and `bbwatch analyze` of a log file. None of it may print a stack
 * trace or crash the bot.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, labConfig, startBot, writeConfig } from '../support/bot.js';
import { fixtureText, withChatter } from '../support/regrtest-logs.js';

function run(
  args: string[],
  cwd?: string,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
    // A CLI that exits before reading all of its input is the test's failure to report, not EPIPE.
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('bbwatch CLI', () => {
  it('prints help and version', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('bbwatch check-config FILE');
    expect(help.stdout).toContain('bbwatch doctor [--config FILE] [--json]');
    expect(help.stdout).toContain('https://buildbot.python.org/all/');
    expect(help.stdout).toContain('--log-format FMT   pretty');
    expect((await run(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('check-config accepts a good file and lists every problem of a bad one', async () => {
    const good = await run(['check-config', 'examples/cpython.yaml']);
    expect(good).toMatchObject({ code: 0, stderr: '' });
    expect(good.stdout).toContain('examples/cpython.yaml: OK — 1 master(s) (cpython)');

    const bad = writeConfig('masters:\n  - name: lab\n    urll: http://x/\nnotify:\n  - to: "irc:#x"\n');
    const result = await run(['check-config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('2 problems:');
    expect(result.stderr).toContain("masters[0].urll (line 3): unknown key 'urll'");
    expect(result.stderr).toContain('masters[0].url: is required');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses to start on a bad config with the same message', async () => {
    const bad = writeConfig('masters:\n  - name: lab\n    url: http://127.0.0.1:1/\n    stream: telepathy\n');
    const result = await run(['--config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /masters\[0\]\.stream \(line 4\): expected one of "auto"\|"ws"\|"sse"\|"poll"/,
    );
    expect((await run(['--config', '/nonexistent.yaml'])).stderr).toBe(
      'bbwatch: /nonexistent.yaml: cannot read the file (no such file)\n',
    );
    expect((await run(['--frobnicate'])).code).toBe(2);
    expect(await run(['--log-format', 'xml'])).toMatchObject({
      code: 2,
      stderr: 'bbwatch: --log-format must be one of json, pretty\n',
    });
  });
});

describe('masters that misbehave', () => {
  let garbage: Server;
  let garbageUrl: string;

  beforeAll(async () => {
    garbage = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Welcome to nginx!</h1>'),
    );
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    garbageUrl = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => garbage.close(() => r())));

  it('keeps running and answering when the master cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const bot = await startBot(writeConfig(labConfig(`http://127.0.0.1:${port}/`, 'auto')), {
      waitReady: false,
    });
    const failure = await bot.waitForLog('cannot load the master; retrying');
    expect(String(failure.err)).toContain('could not be reached: ECONNREFUSED');
    // The operator hears it once, in words, with the next try; not once per attempt.
    const said = new RegExp(
      `^lab: cannot reach http://127\\.0\\.0\\.1:${port}/ \\(connection refused\\); retrying, next try in \\d+ s$`,
    );
    const line = await bot.until('the unreachable line', () =>
      bot.logs.find((l) => said.test(String(l.msg))),
    );
    expect(line.level).toBe(40); // warn
    await bot.until('three attempts', () =>
      bot.logs.filter((l) => l.msg === 'cannot load the master; retrying').length >= 3 ? true : undefined,
    );
    expect(bot.logs.filter((l) => /cannot reach/.test(String(l.msg)))).toHaveLength(1);
    // Each retry waits longer: 2 s, 4 s, 8 s … (with jitter, at least half of that).
    const delays = bot.logs
      .filter((l) => l.msg === 'cannot load the master; retrying')
      .map((l) => Number(l.retryInMs));
    expect(delays[2]).toBeGreaterThanOrEqual(4000);
    // Per-request retries are debug lines, not warnings.
    expect(bot.logs.filter((l) => Number(l.level) >= 40 && l !== line)).toEqual([]);
    bot.send('!status');
    await bot.waitForLine(/^lab has been unreachable since \d\d:\d\d UTC \(\d+ s\): connection refused$/);
    await bot.waitForLine(/^No builders known yet: they load once it answers\.$/);
    expect(await bot.stop()).toBe(0);
  });

  it('says clearly when the URL is not a Buildbot master', async () => {
    const bot = await startBot(writeConfig(labConfig(garbageUrl, 'auto')), { waitReady: false });
    const failure = await bot.waitForLog('cannot load the master; retrying');
    expect(String(failure.err)).toBe(
      `${garbageUrl}api/v2/builders answered with something that is not JSON ("<h1>Welcome to nginx!</h1>")`,
    );
    await bot.until('the unreachable line', () =>
      bot.logs.find((l) =>
        String(l.msg).startsWith(
          `lab: cannot reach ${garbageUrl} (not Buildbot's API); retrying, next try in `,
        ),
      ),
    );
    bot.send('!help');
    await bot.waitForLine(/^bbwatch commands:$/);
    expect(await bot.stop()).toBe(0);
    expect(bot.stderrText.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('says what a master answering 500 says, in /healthz and !status too', async () => {
    const broken = createServer((_req, res) =>
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error": "database is locked"}'),
    );
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/`;
    try {
      const bot = await startBot(
        writeConfig(labConfig(url, 'auto', 'http:\n  listen: 127.0.0.1\n  port: 0\n')),
        { waitReady: false },
      );
      const listening = await bot.waitForLog('http listening');
      await bot.until('the unreachable line', () =>
        bot.logs.find((l) =>
          String(l.msg).startsWith(
            `lab: cannot reach ${url} (HTTP 500 Internal Server Error: database is locked); retrying, next try in `,
          ),
        ),
      );
      const res = await fetch(`http://127.0.0.1:${String(listening.port)}/healthz`);
      expect(res.status).toBe(503);
      const health = (await res.json()) as { problems: string[]; masters: Record<string, unknown> };
      expect(health.problems).toEqual([
        expect.stringMatching(
          /^master lab has been unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z: HTTP 500 Internal Server Error: database is locked$/,
        ),
      ]);
      expect(health.masters.lab).toMatchObject({
        status: 'down',
        reason: 'HTTP 500 Internal Server Error: database is locked',
      });
      bot.send('!status');
      await bot.waitForLine(
        /^lab has been unreachable since .*: HTTP 500 Internal Server Error: database is locked$/,
      );
      expect(await bot.stop()).toBe(0);
    } finally {
      await new Promise<void>((r) => broken.close(() => r()));
    }
  });
});

describe('bbwatch analyze FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bbwatch-analyze-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const mixed = fileURLToPath(
    new URL('../fixtures/regrtest/logs/3.11.2-debian/mixed-par.log', import.meta.url),
  );

  it('prints what a regrtest log says, and the lists with --json', async () => {
    const text = await run(['analyze', mixed]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    const lines = text.stdout.split('\n');
    expect(lines.slice(0, 7)).toEqual([
      'Result: FAILURE then FAILURE',
      'seed 2024, 2 workers, duration 2.5 sec', // the log's own "Total duration: 2.5 sec"
      'Failed (1):',
      '  test_hard — test_error, test_handshake',
      'Flaky (failed, then passed on re-run) (1):',
      '  test_flaky — test_timing',
      'Env changed (1):',
    ]);
    expect(lines).toContain('  ValueError: bad value in error test');
    expect(lines).toContain(
      '  ./python -m test --randseed 2024 -v test_hard -m test_error -m test_handshake',
    );

    const json = await run(['analyze', '--json', mixed]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      result: 'FAILURE then FAILURE',
      partial: false,
      seed: 2024,
      failed: ['test_hard'],
      flaky: ['test_flaky'],
      envChanged: ['test_envchange'],
      crashed: [],
    });
  });

  it('a big file read tail first says what the same log on stdin (streamed whole) says', async () => {
    const big = withChatter(fixtureText('logs/3.11.2-debian/mixed-par.log'), 200_000);
    const path = join(dir, 'big.log');
    writeFileSync(path, big);
    const fromFile = await run(['analyze', '--json', path]);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({
      seed: 2024,
      failed: ['test_hard'],
      flaky: ['test_flaky'],
    });
    // Stdin (`-`) and a named pipe cannot be read from the end: they are streamed.
    expect(await run(['analyze', '--json', '-'], undefined, big)).toEqual(fromFile);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const fromPipe = run(['analyze', '--json', fifo]);
    await writeFile(fifo, big);
    expect(await fromPipe).toEqual(fromFile);
  });

  it('a log without a summary exits 3; a file that cannot be read exits 1, without a stack trace', async () => {
    const empty = join(dir, 'empty.log');
    writeFileSync(empty, '');
    expect(await run(['analyze', empty])).toEqual({ code: 3, stdout: 'no test summary found\n', stderr: '' });
    const cut = join(dir, 'cut.log');
    writeFileSync(cut, withChatter(fixtureText('logs/3.11.2-debian/crash-par.log'), 50_000));
    const partial = await run(['analyze', cut]);
    expect(partial.code).toBe(0);
    expect(partial.stdout).toMatch(/^Result: \(none\) {2}— partial: the log ends before the final result\n/);
    expect(partial.stdout).toContain('Crashed (1):\n  test_crasher — Exit code -11\n');

    expect(await run(['analyze', join(dir, 'missing.log')])).toEqual({
      code: 1,
      stdout: '',
      stderr: `bbwatch analyze: ${join(dir, 'missing.log')}: cannot read the file (no such file)\n`,
    });
    expect(await run(['analyze', dir])).toEqual({
      code: 1,
      stdout: '',
      stderr: `bbwatch analyze: ${dir}: cannot read the file (a directory)\n`,
    });
  });
});
