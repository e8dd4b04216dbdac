import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/buildbot/budget.js';
import { BuildbotControl } from '../../src/buildbot/control.js';
import { BuildbotRest } from '../../src/buildbot/rest.js';
import { BuildbotSession, type MasterAuth } from '../../src/buildbot/session.js';
import type { BuildbotBuild, BuildbotStep } from '../../src/buildbot/types.js';
import { silentLog } from '../support/fleet.js';

/** A real HTTP server on loopback whose answers each test scripts. */
let server: Server;
let base: string;
const seen: Array<{
  url: string;
  ua: string | undefined;
  cookie?: string | undefined;
  auth?: string | undefined;
}> = [];
let script: Array<(res: import('node:http').ServerResponse) => void> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({
      url: req.url ?? '',
      ua: req.headers['user-agent'],
      cookie: req.headers.cookie,
      auth: req.headers.authorization,
    });
    const next = script.shift();
    if (next) next(res);
    else res.writeHead(404).end('{"error":"nothing scripted"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function client(timeoutMs = 2000, auth?: MasterAuth) {
  seen.length = 0;
  const budget = new RequestBudget(100, 10_000);
  return new BuildbotRest({
    baseUrl: base,
    budget,
    timeoutMs,
    log: silentLog,
    backoffMs: 10,
    session: new BuildbotSession({
      baseUrl: base,
      auth,
      budget,
      timeoutMs,
      log: silentLog,
      masterName: 'lab',
    }),
  });
}

/** Buildbot's answer to GET /auth/login: the anonymous session first, the logged-in one last. */
const loggedIn = (session: string) => (res: import('node:http').ServerResponse) =>
  res
    .writeHead(302, {
      location: '/',
      'set-cookie': ['TWISTED_SESSION=anon; Path=/', `TWISTED_SESSION=${session}; Path=/`],
    })
    .end();

/** A raw log answer as Buildbot sends it: text/plain, named by Content-Disposition. */
const raw =
  (filename: string, ...chunks: string[]) =>
  (res: import('node:http').ServerResponse) => {
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'content-disposition': `attachment; filename=${filename}`,
    });
    for (const c of chunks) res.write(c);
    res.end();
  };

async function rawText(rest: BuildbotRest): Promise<string> {
  const parts: Buffer[] = [];
  await rest.streamRaw(7, (c) => parts.push(Buffer.from(c)));
  return Buffer.concat(parts).toString('utf8');
}

/** A failed build and its steps as Buildbot 3.7 answered them (test/fixtures/failures, recorded from a lab master). */
const recorded = JSON.parse(
  readFileSync(new URL('../fixtures/failures/fail.json', import.meta.url), 'utf8'),
) as { build: BuildbotBuild; steps: BuildbotStep[] };

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (res: import('node:http').ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

describe('BuildbotRest', () => {
  it('sends a User-Agent naming bbwatch and builds query strings', async () => {
    script = [json(200, { builds: [], meta: { total: 0 } })];
    await client().finishedBuildsSince(1000, 200);
    expect(seen[0]?.ua).toMatch(/^bbwatch\/\d+\.\d+\.\d+ /);
    expect(seen[0]?.url).toBe(
      '/api/v2/builds?complete=true&complete_at__ge=1000&order=complete_at&order=buildid&limit=200&offset=0',
    );
  });

  it('retries 500 and 429 (after Retry-After) and then succeeds', async () => {
    script = [
      json(500, { error: 'boom' }),
      json(429, {}, { 'retry-after': '0' }),
      json(200, { builders: [] }),
    ];
    expect(await client().builders()).toEqual([]);
    expect(seen).toHaveLength(3);
  });

  it('gives up after a few attempts with the last error', async () => {
    script = [json(503, {}), json(503, {}), json(503, {}), json(503, { error: 'still down' })];
    await expect(client().builders()).rejects.toThrow(/HTTP 503 from .*api\/v2\/builders: still down/);
  });

  it('does not retry a 404 and says what the master said', async () => {
    script = [json(404, { error: 'not found while getting from endpoint' })];
    await expect(client().builders()).rejects.toThrow(/HTTP 404 .*not found while getting/);
    expect(seen).toHaveLength(1);
  });

  it('says clearly when the answer is not Buildbot', async () => {
    script = [(res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>')];
    await expect(client().builders()).rejects.toThrow(
      /answered with something that is not JSON \("<html>login<\/html>"\)/,
    );
    script = [json(200, { hello: 'world' })];
    await expect(client().builders()).rejects.toThrow(
      /did not answer with Buildbot's API \(no "builders" list/,
    );
  });

  it('reads the builds a real master sent, fields it does not know included', async () => {
    script = [json(200, { builds: [recorded.build], meta: { total: 1 } })];
    expect(await client().build(2, 3)).toEqual(recorded.build);
    expect(seen[0]?.url).toBe('/api/v2/builders/2/builds/3');
    script = [json(200, { steps: recorded.steps, meta: { total: recorded.steps.length } })];
    expect((await client().buildSteps(3)).map((s) => s.name)).toEqual([
      'worker_preparation',
      'compile',
      'test',
    ]);
  });

  it('refuses an answer whose items lack what the bot reads, saying which and why', async () => {
    // The recorded build with its result as a word, as a proxy or a fork of Buildbot might send it.
    script = [json(200, { builds: [recorded.build, { ...recorded.build, results: 'failure' }] })];
    await expect(client().build(2, 3)).rejects.toThrow(
      /api\/v2\/builders\/2\/builds\/3 answered with a "builds" list the bot cannot read \(item 1: results: expected number, received string\)/,
    );
    const { buildid: _, ...noId } = recorded.build;
    script = [json(200, { builds: [noId] })];
    await expect(client().runningBuilds(2)).rejects.toThrow(
      /item 0: buildid: expected number, received undefined/,
    );
    script = [json(200, { workers: [{ workerid: 1, name: 'w1', connected_to: null, configured_on: [] }] })];
    await expect(client().workers()).rejects.toThrow(
      /"workers" list the bot cannot read \(item 0: connected_to: expected array/,
    );
  });

  it('refuses a force scheduler list it cannot read, saying what is wrong', async () => {
    const control = () => {
      const budget = new RequestBudget(100, 10_000);
      const session = new BuildbotSession({
        baseUrl: base,
        auth: undefined,
        budget,
        timeoutMs: 2000,
        log: silentLog,
        masterName: 'lab',
      });
      return new BuildbotControl({ baseUrl: base, budget, timeoutMs: 2000, session, masterName: 'lab' });
    };
    // As Buildbot 3.7 lists a ForceScheduler with a builder and a reason (fields trimmed to what is read).
    const scheduler = {
      name: 'force',
      builder_names: ['AMD64 Debian root 3.x'],
      enabled: true,
      all_fields: [
        { name: 'reason', fullName: 'reason', type: 'text', default: 'force build', required: false },
        // A codebase's layout group: Buildbot gives the container no full name.
        {
          name: '',
          fullName: null,
          type: 'nested',
          fields: [{ name: 'branch', fullName: 'branch', type: 'fixed', default: '' }],
        },
      ],
    };
    script = [json(200, { forceschedulers: [scheduler], meta: { total: 1 } })];
    expect((await control().forceSchedulers()).map((f) => f.builder_names)).toEqual([
      ['AMD64 Debian root 3.x'],
    ]);
    script = [json(200, { forceschedulers: [{ ...scheduler, builder_names: 'AMD64 Debian root 3.x' }] })];
    await expect(control().forceSchedulers()).rejects.toThrow(
      /^lab listed its force schedulers in a shape the bot cannot read \(item 0: builder_names: expected array, received string\)$/,
    );
  });

  it('times out hanging requests', async () => {
    script = [() => undefined, () => undefined, () => undefined, () => undefined];
    await expect(client(100).builders()).rejects.toThrow(/did not answer within 100 ms/);
  });

  it('says when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const rest = new BuildbotRest({
      baseUrl: `http://127.0.0.1:${port}/`,
      budget: new RequestBudget(100, 10_000),
      timeoutMs: 500,
      log: silentLog,
      backoffMs: 5,
    });
    await expect(rest.builders()).rejects.toThrow(/could not be reached: ECONNREFUSED/);
  });

  it('streams a 4.x raw log without the Builder/Build number/Worker name lines it starts with', async () => {
    // The prefix and the log as Buildbot 4.3 writes them (the prefix as its own chunk).
    script = [
      raw(
        'AMD64 Debian root 3.x_build_5_step_test_log_stdio',
        'Builder: AMD64 Debian root 3.x\nBuild number: 5\nWorker name: w1\n',
        "/bin/regrtest_step.sh 'AMD64 Debian root 3.x'\n in dir /w/build\n",
        '== Tests result: SUCCESS ==\n',
      ),
    ];
    expect(await rawText(client())).toBe(
      "/bin/regrtest_step.sh 'AMD64 Debian root 3.x'\n in dir /w/build\n== Tests result: SUCCESS ==\n",
    );
    expect(seen[0]?.url).toBe('/api/v2/logs/7/raw');
  });

  it('streams a 3.x raw log as it is, even when it starts like the 4.x prefix', async () => {
    script = [raw('stdio', 'Builder: mine\nBuild number: 5\nsomething else\n')];
    expect(await rawText(client())).toBe('Builder: mine\nBuild number: 5\nsomething else\n');
    script = [raw('stdio', 'line 1\nline 2')];
    expect(await rawText(client())).toBe('line 1\nline 2');
  });

  it('sends no cookie and says what to configure when a master refuses anonymous reads', async () => {
    script = [json(403, { error: "you need to have role 'readers'" })];
    await expect(client().builders()).rejects.toThrow(
      "lab does not allow anonymous reads (HTTP 403 on GET /api/v2/builders: you need to have role 'readers'); " +
        'give the bot a Buildbot user or a session cookie (masters[].auth in its config)',
    );
    expect(seen).toEqual([expect.objectContaining({ url: '/api/v2/builders', cookie: undefined })]);
  });

  it('with a user, reads anonymously until refused, then logs in and sends the session with every request', async () => {
    const rest = client(2000, { username: 'bot', password: 'botpass' });
    script = [json(200, { builders: [] })];
    await rest.builders();
    script = [
      json(403, { error: "you need to have role 'readers'" }),
      loggedIn('s1'),
      json(200, { builders: [] }),
    ];
    await rest.builders();
    script = [raw('stdio', 'x\n')];
    await rawText(rest);
    expect(seen.map((r) => [r.url, r.cookie])).toEqual([
      ['/api/v2/builders', undefined],
      ['/api/v2/builders', undefined],
      ['/auth/login', undefined],
      ['/api/v2/builders', 'TWISTED_SESSION=s1'],
      ['/api/v2/logs/7/raw', 'TWISTED_SESSION=s1'],
    ]);
    expect(seen[2]?.auth).toBe(`Basic ${Buffer.from('bot:botpass').toString('base64')}`);
  });

  it('logs in again once when the master stops accepting the session, then believes it', async () => {
    const rest = client(2000, { username: 'bot', password: 'botpass' });
    script = [json(403, { error: 'anonymous' }), loggedIn('s1'), json(200, { builders: [] })];
    await rest.builders();
    script = [json(403, { error: 'expired' }), loggedIn('s2'), json(200, { builders: [] })];
    seen.length = 0;
    await rest.builders();
    expect(seen.map((r) => [r.url, r.cookie])).toEqual([
      ['/api/v2/builders', 'TWISTED_SESSION=s1'],
      ['/auth/login', undefined],
      ['/api/v2/builders', 'TWISTED_SESSION=s2'],
    ]);
    script = [json(403, { error: 'still' }), loggedIn('s3'), json(403, { error: 'no' })];
    await expect(rest.builders()).rejects.toThrow(
      "lab does not let the bot's user 'bot' read (HTTP 403 on GET /api/v2/builders: no)",
    );
  });

  it('says so when the master refuses the credentials, without retrying them', async () => {
    script = [
      json(403, { error: "you need to have role 'readers'" }),
      (res) => res.writeHead(401).end('Unauthorized'),
    ];
    await expect(client(2000, { username: 'bot', password: 'wrong' }).builders()).rejects.toThrow(
      "lab refused the bot's credentials (HTTP 401 on login)",
    );
    expect(seen.map((r) => r.url)).toEqual(['/api/v2/builders', '/auth/login']);
  });

  it('sends a configured session cookie as it is, and says when it is refused', async () => {
    script = [json(200, { builders: [] })];
    const rest = client(2000, { cookie: 'abc' });
    await rest.builders();
    expect(seen[0]?.cookie).toBe('TWISTED_SESSION=abc');
    script = [json(403, { error: "you need to have role 'readers'" })];
    await expect(rest.builders()).rejects.toThrow(
      /^lab refused the bot's session cookie \(HTTP 403 on GET \/api\/v2\/builders: .*\); it may have expired/,
    );
  });
});
