/**
 * A synthetic Buildbot master for the load benchmark: `builders` builders, a REST API just large
 * enough for bbwatch's start-up and back-fill, and an SSE stream that replays finished builds at a
 * fixed rate, alternating each builder between green and red so that every second event of a
 * builder is a transition. It records when it sent each build, for event-to-send latency.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeMaster {
  url: string;
  /** `<builderid>:<number>` → when the event was written to the stream (Date.now()). */
  sentAt: Map<string, number>;
  /** Replays `count` events at `perSecond`; resolves, once all are sent, with how many were red. */
  replay(count: number, perSecond: number): Promise<number>;
  /** A build of `builderid` finishes while no stream tells of it: only REST (back-fill) knows it. */
  finishUnstreamed(builderid: number, results: number): void;
  /**
   * A build of `builderid` that finishes as the next stream opens: its event goes out in the same
   * write as the stream's handshake, as a busy master's can.
   */
  finishOnNextConnect(builderid: number, results: number): void;
  /** Ends every open stream (the client reconnects). */
  cutStreams(): void;
  /** REST answers wait this long (a slow master). */
  restDelayMs: number;
  /**
   * The test log every red build's `test` step has (its lines); none by default, so that a red
   * build's analysis finds no test step.
   */
  testLog: string[] | undefined;
  close(): Promise<void>;
}

export async function startFakeMaster(builders: number): Promise<FakeMaster> {
  const now = () => Math.floor(Date.now() / 1000);
  const started = now() - 3600;
  const history = Array.from({ length: builders }, (_, i) => [
    build(i * 2 + 1, i + 1, 1, 0, started),
    build(i * 2 + 2, i + 1, 2, 0, started + 60),
  ]).flat();
  let nextBuildId = builders * 2 + 1;
  const numbers = new Map<number, number>();
  const sentAt = new Map<string, number>();
  const streams = new Set<ServerResponse>();
  let onConnect: string[] = [];
  const finish = (builderid: number, results: number) => {
    const number = (numbers.get(builderid) ?? 2) + 1;
    numbers.set(builderid, number);
    const b = build(nextBuildId++, builderid, number, results, now());
    // Like a real master, a finished build is also in REST's answers from now on (back-fill).
    history.push(b);
    return b;
  };
  const frameOf = (b: ReturnType<typeof build>) =>
    `event: event\ndata: ${JSON.stringify({ key: ['builders', String(b.builderid), 'builds', String(b.number), 'finished'], message: b })}\n\n`;

  const server = createServer((req, res) => {
    if (fake.restDelayMs > 0 && !req.url?.startsWith('/sse/')) {
      setTimeout(() => answer(req, res), fake.restDelayMs);
      return;
    }
    answer(req, res);
  });
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = url.pathname;
    if (path.startsWith('/sse/listen/')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(['event: handshake\ndata: fake-uuid\n\n', ...onConnect].join(''));
      onConnect = [];
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (path === '/api/v2/builders') {
      return json({
        builders: Array.from({ length: builders }, (_, i) => ({
          builderid: i + 1,
          name: `Builder ${String(i + 1).padStart(4, '0')} 3.x`,
          masterids: [1],
          tags: ['3.x', i % 2 ? 'stable' : 'unstable'],
        })),
        meta: { total: builders },
      });
    }
    if (path === '/api/v2/builds') {
      // Start-up history (newest first) or back-fill by completion time: history only.
      const since = Number(url.searchParams.get('complete_at__ge') ?? 0);
      const list = since ? history.filter((b) => b.complete_at >= since) : [...history].reverse();
      const offset = Number(url.searchParams.get('offset') ?? 0);
      return json({
        builds: list.slice(offset, offset + Number(url.searchParams.get('limit') ?? 1000)),
        meta: {},
      });
    }
    if (/^\/api\/v2\/builders\/\d+\/builds$/.test(path)) return json({ builds: [], meta: {} });
    const log = fake.testLog;
    if (log) {
      // A red build's test step (stepid = buildid) and its stdio log (logid = stepid), as 3.x serves them.
      const steps = /^\/api\/v2\/builds\/(\d+)\/steps(?:\/test)?$/.exec(path);
      if (steps) {
        const buildid = Number(steps[1]);
        const b = history.find((h) => h.buildid === buildid);
        if (!b || b.results !== 2) return json({ steps: [], meta: {} });
        return json({
          steps: [
            {
              stepid: buildid,
              number: 1,
              name: 'test',
              buildid,
              results: 2,
              state_string: 'test (failure)',
              complete: true,
            },
          ],
          meta: {},
        });
      }
      const logs = /^\/api\/v2\/steps\/(\d+)\/logs(?:\/stdio)?$/.exec(path);
      if (logs) {
        const stepid = Number(logs[1]);
        return json({
          logs: [
            {
              logid: stepid,
              name: 'stdio',
              slug: 'stdio',
              stepid,
              type: 't',
              num_lines: log.length,
              complete: true,
            },
          ],
          meta: {},
        });
      }
      const contents = /^\/api\/v2\/logs\/(\d+)\/contents$/.exec(path);
      if (contents) {
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? log.length);
        const lines = log.slice(offset, offset + limit);
        return json({
          logchunks:
            lines.length > 0
              ? [{ logid: Number(contents[1]), firstline: offset, content: `${lines.join('\n')}\n` }]
              : [],
          meta: {},
        });
      }
    }
    if (/^\/api\/v2\/builds\/\d+\/changes$/.test(path)) return json({ changes: [], meta: {} });
    // Without a test log, a build's steps are an empty list, as a real master answers for a build
    // that ran none: a 404 here would read as a master in trouble, and the analysis would retry.
    if (/^\/api\/v2\/builds\/\d+\/steps$/.test(path)) return json({ steps: [], meta: {} });
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const fake: FakeMaster = {
    url: `http://127.0.0.1:${port}/`,
    sentAt,
    restDelayMs: 0,
    testLog: undefined,
    finishUnstreamed(builderid, results) {
      finish(builderid, results);
    },
    finishOnNextConnect(builderid, results) {
      onConnect.push(frameOf(finish(builderid, results)));
    },
    cutStreams() {
      for (const s of streams) s.end();
      streams.clear();
    },
    async replay(count, perSecond) {
      const gap = 1000 / perSecond;
      const t0 = Date.now();
      let reds = 0;
      for (let i = 0; i < count; i++) {
        const wait = t0 + i * gap - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const builderid = (i % builders) + 1;
        // The history ends green; so each builder goes red, green, red...
        const results = (numbers.get(builderid) ?? 2) % 2 === 0 ? 2 : 0;
        if (results === 2) reds++;
        const b = finish(builderid, results);
        const frame = frameOf(b);
        sentAt.set(`${builderid}:${b.number}`, Date.now());
        for (const s of streams) s.write(frame);
      }
      return reds;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of streams) s.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}

function build(buildid: number, builderid: number, number: number, results: number, at: number) {
  return {
    buildid,
    builderid,
    number,
    results,
    complete: true,
    started_at: at - 60,
    complete_at: at,
    state_string: results === 2 ? 'failed test (failure)' : 'build successful',
    buildrequestid: buildid,
    masterid: 1,
    workerid: 1,
    properties: {},
  };
}
