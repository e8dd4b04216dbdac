/**
 * `bbwatch doctor` on a config with a `tracker:` section, as an operator runs it: the real CLI
 * asks the GitHub stand-in through @octokit/rest whether the API answers, whether the token is
 * accepted and what it may search, and whether the repository exists. A good token is all green;
 * a refused token, a missing repository and an API that is down are each named with their fix;
 * the token is never printed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../support/bot.js';
import { type GitHubStandIn, startGitHubStandIn } from '../support/github/server.js';

const GOOD = 'ghp_doctorGoodToken0123456789';
const WRONG = 'ghp_doctorWrongToken9876543210';

let hub: GitHubStandIn;
let dir: string;

beforeAll(async () => {
  hub = await startGitHubStandIn('python/cpython', []);
  dir = mkdtempSync(join(tmpdir(), 'bbwatch-doctor-tracker-'));
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.mode = 'ok';
  hub.tokens = [GOOD];
  hub.limit = 30;
  hub.resetWindow();
});

/** The `tracker:` lines of the checklist as printed on a pipe, with the fix lines under each. */
function trackerLines(stdout: string): string[] {
  const out: string[] = [];
  let inTracker = false;
  for (const line of stdout.split('\n')) {
    if (/^(ok|FAIL|warn|skip) +/.test(line)) inTracker = / tracker: /.test(line);
    else if (!/^ {6}/.test(line)) inTracker = false;
    if (inTracker) out.push(line);
  }
  return out;
}

function doctor(tracker: string, token?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  // The master is a closed port: its checks fail fast, and the tracker's are what this test reads.
  const config = writeConfig(
    `masters:
  - name: lab
    url: http://127.0.0.1:9/
    timeout: 2s
storage: ${join(dir, 'state.sqlite')}
chat:
  console: true
tracker:
  api_url: ${hub.url}
${tracker}`,
    mkdtempSync(join(dir, 'c-')),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'doctor', '--config', config, '--log-level', 'trace'],
      {
        cwd: dir,
        env: { ...process.env, ...(token ? { BBWATCH_TEST_GH_TOKEN: token } : {}), NO_COLOR: '1' },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}

const WITH_TOKEN = '  token: "${BBWATCH_TEST_GH_TOKEN}"\n';

describe('bbwatch doctor: the tracker', () => {
  it('with a good token: the API answers, the token is accepted with its limits, the repository exists', async () => {
    const r = await doctor(WITH_TOKEN, GOOD);
    expect(trackerLines(r.stdout)).toEqual([
      `ok   tracker: API answers at ${hub.url}/ — GitHub API`,
      'ok   tracker: token accepted — search 30 of 30 a minute left; core 4990 of 5000 left',
      'ok   tracker: repository python/cpython exists — public, issues on',
    ]);
    expect(`${r.stdout}${r.stderr}`).not.toContain(GOOD);
  });

  it('a refused token is a problem with its fix, naming the variable; the token is not printed', async () => {
    const r = await doctor(WITH_TOKEN, WRONG);
    expect(r.code).toBe(1);
    expect(trackerLines(r.stdout)).toEqual([
      `ok   tracker: API answers at ${hub.url}/ — GitHub API`,
      'FAIL tracker: token accepted — refused: Bad credentials',
      '      fix: set tracker.token (from $BBWATCH_TEST_GH_TOKEN) to a valid token (a fine-grained token without permissions reads public repositories), or remove it (10 searches a minute without)',
      'skip tracker: repository python/cpython exists — not tried: the token was refused',
    ]);
    expect(`${r.stdout}${r.stderr}`).not.toContain(WRONG);
  });

  it('without a token: the anonymous search limit; a repository that does not exist is a problem', async () => {
    hub.limit = 10;
    const r = await doctor('  repo: python/no-such-repo\n');
    expect(trackerLines(r.stdout)).toEqual([
      `ok   tracker: API answers at ${hub.url}/ — no token: search 10 of 10 a minute left`,
      'FAIL tracker: repository python/no-such-repo exists — not found',
      '      fix: check tracker.repo (owner/name); a private repository needs a tracker.token that can read it',
    ]);
  });

  it('the API down: a problem, and the checks that need it not tried', async () => {
    hub.mode = 'down';
    const r = await doctor(WITH_TOKEN, GOOD);
    expect(r.code).toBe(1);
    const lines = trackerLines(r.stdout);
    expect(lines[0]).toMatch(new RegExp(`^FAIL tracker: API answers at ${hub.url}/ — .*503`));
    expect(lines.slice(1)).toEqual([
      `      fix: check tracker.api_url and that this machine reaches it (a proxy, a firewall)`,
      'skip tracker: token accepted — not tried: the API does not answer',
      'skip tracker: repository python/cpython exists — not tried: the API does not answer',
    ]);
    expect(`${r.stdout}${r.stderr}`).not.toContain(GOOD);
  });
});
