/**
 * Triage end to end: the real lab master runs CPython's regrtest; the built bot (the real CLI)
 * reads the red build's log and searches a local GitHub stand-in through @octokit/rest for the
 * failing test: the details message suggests the matching issue, `!known` confirms it, `!file`
 * gives a new-issue link, and a tracker that does not answer leaves the suggestion out without
 * holding the announcement back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, labConfig, startBot, writeConfig } from '../support/bot.js';
import { type GitHubStandIn, startGitHubStandIn } from '../support/github/server.js';
import { LAB_VERSIONS, type Lab, startLab } from '../support/lab.js';
import { parsePrometheus, sampleValue } from '../support/prometheus.js';

const A = 'AMD64 Debian root 3.x';
const B = 'PPC64LE Fedora 3.x';
const DAY = 86_400_000;

describe.each(LAB_VERSIONS)('Buildbot %s', (version) => {
  let lab: Lab;
  let bot: BotProcess;
  let hub: GitHubStandIn;
  let metricsUrl: string;

  beforeAll(async () => {
    hub = await startGitHubStandIn('python/cpython', [
      {
        number: 117_001,
        title: 'test_ssl_lab: ContextTests.test_handshake fails on AMD64 Debian root',
        state: 'open',
        updated_at: new Date(Date.now() - 3 * DAY).toISOString(),
      },
      // A near miss: the same file, another test.
      {
        number: 117_002,
        title: 'test_ssl_lab: test_context is slow',
        state: 'open',
        updated_at: new Date(Date.now() - DAY).toISOString(),
      },
    ]);
    lab = await startLab({
      version,
      branches: ['3.x'],
      platforms: ['AMD64 Debian root:stable,tier-1', 'PPC64LE Fedora:stable,tier-1'],
    });
    await Promise.all([lab.runBuild(A, 'pass'), lab.runBuild(B, 'pass')]);
    // A generous wait: on a busy machine the tracebacks and the search may take a while; the tests
    // check what the message says, not how fast.
    const tracker = `tracker:\n  api_url: ${hub.url}\n  token: "\${BBWATCH_TEST_GH_TOKEN}"\n  timeout: 1s\n  wait: 30s\n  cache_ttl: 0s\npermissions:\n  operate: [console]\nhttp:\n  listen: 127.0.0.1\n  port: 0\n`;
    process.env.BBWATCH_TEST_GH_TOKEN = 'ghp_labtoken';
    bot = await startBot(writeConfig(labConfig(lab.url, 'ws', tracker)));
    const listening = await bot.waitForLog('http listening');
    metricsUrl = `http://127.0.0.1:${String(listening.port)}/metrics`;
  });
  afterAll(async () => {
    await bot?.stop();
    await lab?.close();
    await hub?.close();
  });

  async function block(pattern: RegExp, from = 0): Promise<string[]> {
    const first = await bot.waitForLine(pattern, from);
    const at = bot.stdout.indexOf(first);
    await bot.until('the whole block', () => bot.stdout.slice(at + 1).some((l) => /^ {2}http/.test(l.text)));
    const lines = [first.text];
    for (const l of bot.stdout.slice(at + 1)) {
      if (!l.text.startsWith('  ')) break;
      lines.push(l.text);
      if (/^ {2}http/.test(l.text)) break;
    }
    return lines;
  }

  it('suggests the issue naming the failing method in the red announcement, searched with the token', async () => {
    const red = await lab.runBuild(A, 'fail');
    const lines = await block(new RegExp(`${A} #${red.number} turned red`));
    expect(lines).toContain(
      '  test_ssl_lab: maybe gh-117001 "test_ssl_lab: ContextTests.test_handshake fails on AMD64 Debian root" (open, updated 3 d ago) — confirm: !known test_ssl_lab gh-117001',
    );
    expect(lines.join('\n')).not.toContain('gh-117002');
    expect(hub.requests[0]).toEqual({ q: 'repo:python/cpython is:issue "test_handshake"', authorized: true });
  });

  it('confirms it with !known, after which !why says known instead of maybe', async () => {
    let from = bot.stdout.length;
    bot.send('!known test_ssl_lab gh-117001');
    await bot.waitForLine(/^test_ssl_lab is now known as gh-117001\.$/, from);
    from = bot.stdout.length;
    bot.send(`!why ${A}`);
    await bot.waitForLine(/^ {2}test_ssl_lab: known: gh-117001$/, from);
    expect(bot.stdout.slice(from).some((l) => l.text.includes('maybe gh-'))).toBe(false);
    bot.send('!unknown test_ssl_lab');
  });

  it('gives a new-issue link with the build, the worker, the revision and the traceback', async () => {
    const from = bot.stdout.length;
    bot.send(`!file ${A}`);
    await bot.waitForLine(
      /: file "test_ssl_lab: ContextTests\.test_handshake fails on AMD64 Debian root 3\.x"/,
      from,
    );
    const link = await bot.waitForLine(/https:\/\/github\.com\/python\/cpython\/issues\/new\?/, from);
    const url = new URL(/(https:\/\/github\.com\/\S+)/.exec(link.text)?.[1] ?? '');
    expect(url.pathname).toBe('/python/cpython/issues/new');
    const body = url.searchParams.get('body') ?? '';
    expect(body).toMatch(
      new RegExp(
        `^Build: ${lab.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}#/builders/\\d+/builds/\\d+$`,
        'm',
      ),
    );
    expect(body).toMatch(/^Builder: AMD64 Debian root 3\.x \(worker: \S+\)$/m);
    expect(body).toContain('AssertionError: handshake failed: [SSL: WRONG_VERSION_NUMBER]');
    expect(url.searchParams.get('labels')).toBe('tests,type-bug');
  });

  it('announces without suggestions when the tracker does not answer', async () => {
    // No cache (cache_ttl: 0s): B's search of the same test goes to the stand-in, which never answers.
    hub.mode = 'hang';
    const asked = hub.requests.length;
    const red = await lab.runBuild(B, 'fail');
    const lines = await block(new RegExp(`${B} #${red.number} turned red`));
    expect(lines).toContain('  Failed: test_ssl_lab');
    expect(lines.join('\n')).not.toMatch(/maybe gh-|no existing issue/);
    expect(hub.requests.length).toBeGreaterThan(asked);
    hub.mode = 'ok';
  });

  it('/metrics counts the searches the stand-in received and the one that timed out', async () => {
    // The hung search fails on its timeout (tracker.timeout, 1 s); searching then pauses.
    const failures = (m: ReturnType<typeof parsePrometheus>) =>
      sampleValue(m, 'bbwatch_tracker_errors_total', { kind: 'failure' }) ?? 0;
    let m = parsePrometheus(await (await fetch(metricsUrl)).text());
    for (let i = 0; i < 150 && failures(m) < 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      m = parsePrometheus(await (await fetch(metricsUrl)).text());
    }
    expect(sampleValue(m, 'bbwatch_tracker_searches_total')).toBe(hub.requests.length);
    expect(sampleValue(m, 'bbwatch_tracker_errors_total', { kind: 'failure' })).toBe(1);
    expect(sampleValue(m, 'bbwatch_tracker_rate_limited_total')).toBe(0);
  });
});
