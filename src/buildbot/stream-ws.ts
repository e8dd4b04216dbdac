import WebSocket from 'ws';
import { MasterError } from '../errors.js';
import { USER_AGENT } from '../version.js';
import {
  asFinishedBuild,
  asStartedBuild,
  asWorkerEvent,
  FINISHED_PATH,
  STARTED_PATH,
  type StreamHandle,
  type StreamOptions,
  StreamRefusedError,
  WORKERS_PATH,
} from './stream.js';

/** How long silence may last before the stream counts as dead, unless configured. */
const SILENCE_LIMIT_MS = 70_000;

/**
 * Buildbot's WebSocket (`<url>ws`): `startConsuming` for finished builds, JSON pings to notice a
 * connection that died without a close (a half-open TCP link never errors by itself).
 */
export function openWebSocketStream(opts: StreamOptions): Promise<StreamHandle> {
  const url = new URL('ws', opts.baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      // Buildbot 4.3 checks the session on the upgrade (403 when it may not read); 3.x does not.
      headers: { 'User-Agent': USER_AGENT, ...(opts.cookie ? { Cookie: opts.cookie } : {}) },
      handshakeTimeout: opts.connectTimeoutMs,
    });
    let nextId = 1;
    const subscribeId = nextId++;
    let subscribed = false;
    let lastHeard = Date.now();
    let pinger: NodeJS.Timeout | undefined;
    let endReason: ((reason: string) => void) | undefined;
    const ended = new Promise<string>((r) => {
      endReason = r;
    });
    const connectTimer = setTimeout(
      () => fail(`no subscription reply within ${opts.connectTimeoutMs} ms`),
      opts.connectTimeoutMs,
    );

    function fail(reason: string, status?: number): void {
      clearTimeout(connectTimer);
      clearInterval(pinger);
      ws.removeAllListeners('message');
      ws.terminate();
      if (!subscribed) {
        const message = `WebSocket ${url}: ${reason}`;
        reject(
          status === 401 || status === 403
            ? new StreamRefusedError(status, message)
            : new MasterError(message),
        );
      }
      endReason?.(reason);
    }

    ws.on('open', () => {
      ws.send(JSON.stringify({ _id: subscribeId, cmd: 'startConsuming', path: FINISHED_PATH }));
      if (opts.onWorker)
        ws.send(JSON.stringify({ _id: nextId++, cmd: 'startConsuming', path: WORKERS_PATH }));
      if (opts.onBuildStarted)
        ws.send(JSON.stringify({ _id: nextId++, cmd: 'startConsuming', path: STARTED_PATH }));
    });
    ws.on('message', (data) => {
      lastHeard = Date.now();
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        opts.log.warn({ transport: 'ws' }, 'ignored a WebSocket frame that is not JSON');
        return;
      }
      const f = frame as { _id?: unknown; code?: unknown; k?: unknown; m?: unknown; error?: unknown };
      if (f.code !== undefined) {
        if (f._id === subscribeId && !subscribed) {
          if (f.code !== 200) return fail(`subscription refused: ${String(f.error ?? f.code)}`);
          subscribed = true;
          clearTimeout(connectTimer);
          const silenceLimitMs = opts.silenceLimitMs ?? SILENCE_LIMIT_MS;
          // Three pings within the limit: one lost answer is not yet a dead stream.
          pinger = setInterval(
            () => {
              if (Date.now() - lastHeard > silenceLimitMs) return fail('no answer to pings');
              ws.send(JSON.stringify({ _id: nextId++, cmd: 'ping' }));
            },
            Math.floor(silenceLimitMs / 3),
          );
          resolve({ transport: 'ws', ended, close: () => fail('closed by bbwatch') });
        }
        return;
      }
      if (typeof f.k === 'string' && f.k.startsWith('workers/')) {
        const event = asWorkerEvent(f.k, f.m);
        if (event) opts.onWorker?.(event);
        return;
      }
      if (typeof f.k === 'string' && f.k.startsWith('builders/') && f.k.endsWith('/new')) {
        const build = asStartedBuild(f.m);
        if (build) opts.onBuildStarted?.(build);
        return;
      }
      if (typeof f.k === 'string' && f.k.endsWith('/finished')) {
        const build = asFinishedBuild(f.m);
        if (build) opts.onBuild(build);
        else opts.log.warn({ transport: 'ws', key: f.k }, 'ignored a finished event without a usable build');
      }
    });
    ws.on('pong', () => {
      lastHeard = Date.now();
    });
    ws.on('unexpected-response', (_req, res) =>
      fail(`the master answered HTTP ${res.statusCode} instead of upgrading`, res.statusCode),
    );
    ws.on('error', (err) => fail(err.message));
    ws.on('close', (code) => fail(`connection closed (${code})`));
  });
}
