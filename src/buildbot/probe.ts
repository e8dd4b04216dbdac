/**
 * What `bbwatch doctor` asks a master, in Buildbot's terms: the API versions it serves
 * (`<url>api`), the Buildbot version its web config reports (`<url>config`), whether a live event
 * stream opens (WebSocket, SSE), and, when a request fails, what kind of failure it was.
 */
import type { Logger } from 'pino';
import { USER_AGENT } from '../version.js';
import type { StreamOptions } from './stream.js';
import { openSseStream } from './stream-sse.js';
import { openWebSocketStream } from './stream-ws.js';

export interface MasterIdentity {
  /** `v2`, `v3` ...: what `<url>api` lists. Empty when it did not answer. */
  apiVersions: string[];
  /** `4.3.0`, or undefined when the web config does not say. */
  buildbotVersion: string | undefined;
}

/** The master's API versions and Buildbot version; parts it does not answer are left empty. */
export async function masterIdentity(baseUrl: string, signal: AbortSignal): Promise<MasterIdentity> {
  const [api, config] = await Promise.all([
    getJson(new URL('api', baseUrl), signal),
    getJson(new URL('config', baseUrl), signal),
  ]);
  const versions = (api as { api_versions?: unknown } | undefined)?.api_versions;
  const apiVersions =
    versions && typeof versions === 'object' ? Object.keys(versions).filter((v) => /^v\d+$/.test(v)) : [];
  const listed = (config as { versions?: unknown } | undefined)?.versions;
  const buildbot = Array.isArray(listed)
    ? listed.find(
        (v): v is [string, string] => Array.isArray(v) && v[0] === 'Buildbot' && typeof v[1] === 'string',
      )
    : undefined;
  return { apiVersions, buildbotVersion: buildbot?.[1] };
}

async function getJson(url: URL, signal: AbortSignal): Promise<unknown> {
  try {
    const res = await fetch(url, {
      headers: { 'User-Agent': USER_AGENT, Accept: 'application/json' },
      signal,
    });
    if (!res.ok) {
      await res.arrayBuffer();
      return undefined;
    }
    return (await res.json()) as unknown;
  } catch {
    return undefined;
  }
}

/** Opens the live stream over one transport, subscribed to finished builds, and closes it again. */
export async function tryStream(
  transport: 'ws' | 'sse',
  baseUrl: string,
  timeoutMs: number,
  log: Logger,
): Promise<void> {
  const opts: StreamOptions = { baseUrl, connectTimeoutMs: timeoutMs, onBuild: () => undefined, log };
  const handle = await (transport === 'ws' ? openWebSocketStream(opts) : openSseStream(opts));
  handle.close();
}
