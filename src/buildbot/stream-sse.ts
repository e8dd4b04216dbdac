import { EventSource } from 'eventsource';
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

/**
 * Buildbot's server-sent events (`<url>sse/listen/<path>`). The master sends no ids and no
 * heartbeats and keeps nothing for a client that reconnects, so bbwatch never lets `eventsource`
 * reconnect on its own: any error ends the stream, and the watcher reconnects and back-fills.
 */
export function openSseStream(opts: StreamOptions): Promise<StreamHandle> {
  // No query string: Buildbot's SSE resource breaks on one.
  const url = new URL(`sse/listen/${FINISHED_PATH}`, opts.baseUrl).toString();
  return new Promise((resolve, reject) => {
    let open = false;
    let endReason: ((reason: string) => void) | undefined;
    const ended = new Promise<string>((r) => {
      endReason = r;
    });
    // The session goes along too (Buildbot's SSE checks none today; a proxy in front may).
    const headers = { 'User-Agent': USER_AGENT, ...(opts.cookie ? { Cookie: opts.cookie } : {}) };
    const listen = (to: string) =>
      new EventSource(to, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
      });
    const source = listen(url);
    // SSE takes one path per connection: worker events and build starts come on their own, ended
    // with the first.
    const workers = opts.onWorker
      ? listen(new URL(`sse/listen/${WORKERS_PATH}`, opts.baseUrl).toString())
      : undefined;
    const starts = opts.onBuildStarted
      ? listen(new URL(`sse/listen/${STARTED_PATH}`, opts.baseUrl).toString())
      : undefined;
    const connectTimer = setTimeout(
      () => fail(`no handshake within ${opts.connectTimeoutMs} ms`),
      opts.connectTimeoutMs,
    );

    function fail(reason: string, status?: number): void {
      clearTimeout(connectTimer);
      source.close();
      workers?.close();
      starts?.close();
      if (!open) {
        const message = `SSE ${url}: ${reason}`;
        reject(
          status === 401 || status === 403
            ? new StreamRefusedError(status, message)
            : new MasterError(message),
        );
      }
      endReason?.(reason);
    }

    source.addEventListener('handshake', () => {
      if (open) return;
      open = true;
      clearTimeout(connectTimer);
      resolve({ transport: 'sse', ended, close: () => fail('closed by bbwatch') });
    });
    source.addEventListener('event', (ev) => {
      let payload: { key?: unknown; message?: unknown };
      try {
        payload = JSON.parse(ev.data) as typeof payload;
      } catch {
        opts.log.warn({ transport: 'sse' }, 'ignored an event that is not JSON');
        return;
      }
      const key = Array.isArray(payload.key) ? payload.key.join('/') : '';
      if (!key.endsWith('/finished')) return;
      const build = asFinishedBuild(payload.message);
      if (build) opts.onBuild(build);
      else opts.log.warn({ transport: 'sse', key }, 'ignored a finished event without a usable build');
    });
    workers?.addEventListener('event', (ev) => {
      let payload: { key?: unknown; message?: unknown };
      try {
        payload = JSON.parse(ev.data) as typeof payload;
      } catch {
        return;
      }
      const key = Array.isArray(payload.key) ? payload.key.join('/') : '';
      const event = asWorkerEvent(key, payload.message);
      if (event) opts.onWorker?.(event);
    });
    workers?.addEventListener('error', (ev) => {
      const status = (ev as { code?: number }).code;
      fail(
        `worker events: ${status ? `HTTP ${status}` : (ev as { message?: string }).message || 'connection lost'}`,
        status,
      );
    });
    starts?.addEventListener('event', (ev) => {
      let payload: { key?: unknown; message?: unknown };
      try {
        payload = JSON.parse(ev.data) as typeof payload;
      } catch {
        return;
      }
      const build = asStartedBuild(payload.message);
      if (build) opts.onBuildStarted?.(build);
    });
    starts?.addEventListener('error', (ev) => {
      const status = (ev as { code?: number }).code;
      fail(
        `build starts: ${status ? `HTTP ${status}` : (ev as { message?: string }).message || 'connection lost'}`,
      );
    });
    source.addEventListener('error', (ev) => {
      const status = (ev as { code?: number }).code;
      fail(status ? `HTTP ${status}` : (ev as { message?: string }).message || 'connection lost', status);
    });
  });
}
