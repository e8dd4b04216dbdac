/**
 * A Buildbot master on loopback that answers from builds recorded on the lab master
 * (test/fixtures/failures/*.json, written by record.mjs there): the build, its steps, their logs
 * and every line of those logs. It serves what the bot asks about a finished build — steps, logs,
 * `contents` with offset and limit, `raw` — so the code under test makes its real requests.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BuildbotBuild, BuildbotLog, BuildbotStep } from '../../src/buildbot/types.js';

export const FAILURES_DIR = new URL('../fixtures/failures/', import.meta.url);

export interface RecordedBuild {
  recorded: { master: string; buildbot: string; date: string };
  build: BuildbotBuild;
  steps: BuildbotStep[];
  /** Per stepid. */
  logs: Record<string, BuildbotLog[]>;
  /** Per logid: the lines as `/contents` gives them (stdio lines tagged o, e or h). */
  contents: Record<string, string[]>;
}

export function recordedBuild(name: string): RecordedBuild {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FAILURES_DIR), 'utf8')) as RecordedBuild;
}

export interface RecordedMaster {
  url: string;
  /** Paths asked for, without `/api/v2/`. */
  requests: string[];
  close(): Promise<void>;
}

export async function serveRecorded(builds: readonly RecordedBuild[]): Promise<RecordedMaster> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/api\/v2\//, '');
    requests.push(`${path}${url.search}`);
    const answer = route(builds, path, url.searchParams);
    if (answer === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not recorded"}');
    } else if (typeof answer === 'string') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function route(builds: readonly RecordedBuild[], path: string, query: URLSearchParams): unknown {
  const parts = path.split('/').map(decodeURIComponent);
  const allLogs = builds.flatMap((b) => Object.values(b.logs).flat());
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  if (parts[0] === 'builds' && parts[2] === 'steps') {
    const build = builds.find((b) => b.build.buildid === num(parts[1]));
    if (!build) return undefined;
    const steps = [...build.steps].sort((a, b) => a.number - b.number);
    if (parts.length === 3) return { steps, meta: { total: steps.length } };
    const which = parts[3] ?? '';
    const step = steps.filter((s) => (num(which) !== undefined ? s.number === num(which) : s.name === which));
    if (parts.length === 4) return { steps: step, meta: {} };
    return undefined;
  }
  if (parts[0] === 'steps' && parts[2] === 'logs') {
    const stepid = String(num(parts[1]));
    const logs = builds.find((b) => b.logs[stepid])?.logs[stepid];
    if (!logs) return undefined;
    if (parts.length === 3) return { logs, meta: { total: logs.length } };
    if (parts.length === 4) return { logs: logs.filter((l) => l.slug === parts[3]), meta: {} };
    return undefined;
  }
  if (parts[0] === 'logs' && parts.length === 3) {
    const log = allLogs.find((l) => l.logid === num(parts[1]));
    const lines = builds.find((b) => b.contents[String(log?.logid)])?.contents[String(log?.logid)];
    if (!log || !lines) return undefined;
    if (parts[2] === 'raw') {
      // Buildbot strips the stream tags of a stdio log for /raw.
      const text = log.type === 's' ? lines.map((l) => l.slice(1)) : lines;
      return text.length > 0 ? `${text.join('\n')}\n` : '';
    }
    if (parts[2] !== 'contents') return undefined;
    const offset = num(query.get('offset') ?? '0') ?? 0;
    const limit = num(query.get('limit') ?? undefined) ?? lines.length;
    const slice = lines.slice(offset, offset + limit);
    return {
      logchunks: [{ logid: log.logid, firstline: offset, content: slice.map((l) => `${l}\n`).join('') }],
      meta: {},
    };
  }
  return undefined;
}
