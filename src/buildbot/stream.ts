import type { Logger } from 'pino';
import { MasterError } from '../errors.js';
import type { BuildbotBuild } from './types.js';

/** The live events bbwatch consumes: every finished build, with its builder id and number. */
export const FINISHED_PATH = 'builders/*/builds/*/finished';
/** Builds starting (`new`): how the requester of a forced build hears that it started. */
export const STARTED_PATH = 'builders/*/builds/*/new';
/** Workers coming and going: `workers/<id>/connected|disconnected|missing`. */
export const WORKERS_PATH = 'workers/*/*';

/** A worker event from the stream. */
export interface WorkerEvent {
  workerid: number;
  name: string;
  signal: 'connected' | 'disconnected' | 'missing';
}

export interface StreamOptions {
  /** The master's base URL, ending in `/`. */
  baseUrl: string;
  connectTimeoutMs: number;
  /** The bot's session (a `Cookie` header value), when it has one: sent with the upgrade or request. */
  cookie?: string;
  /** WebSocket: silence after which the stream counts as dead (see `stream_silence`). */
  silenceLimitMs?: number;
  onBuild(build: BuildbotBuild): void;
  /** When given, builds starting are followed too. */
  onBuildStarted?(build: BuildbotBuild): void;
  /** When given, worker events are followed too. */
  onWorker?(event: WorkerEvent): void;
  log: Logger;
}

/** An open event stream; `ended` resolves (never rejects) with the reason it stopped. */
export interface StreamHandle {
  transport: 'ws' | 'sse';
  ended: Promise<string>;
  close(): void;
}

/** The master refused to open the stream (HTTP 401 or 403), e.g. Buildbot 4.3's WebSocket without a session. */
export class StreamRefusedError extends MasterError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A finished-build payload worth trusting, or undefined for anything a master should not send. */
export function asFinishedBuild(value: unknown): BuildbotBuild | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const b = value as Record<string, unknown>;
  const ints = ['buildid', 'builderid', 'number'].every((k) => Number.isInteger(b[k]));
  if (!ints || b.complete !== true || !Number.isInteger(b.results)) return undefined;
  return value as BuildbotBuild;
}

/** A started-build payload worth trusting (it names its build request), or undefined. */
export function asStartedBuild(value: unknown): BuildbotBuild | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const b = value as Record<string, unknown>;
  const ints = ['buildid', 'builderid', 'number', 'buildrequestid'].every((k) => Number.isInteger(b[k]));
  return ints ? (value as BuildbotBuild) : undefined;
}

/** A worker event worth trusting (`workers/<id>/<signal>` with the worker), or undefined. */
export function asWorkerEvent(key: string, value: unknown): WorkerEvent | undefined {
  const match = /^workers\/(\d+)\/(connected|disconnected|missing)$/.exec(key);
  if (!match || value === null || typeof value !== 'object') return undefined;
  const w = value as Record<string, unknown>;
  const name = typeof w.name === 'string' ? w.name : `worker ${match[1]}`;
  return { workerid: Number(match[1]), name, signal: match[2] as WorkerEvent['signal'] };
}
