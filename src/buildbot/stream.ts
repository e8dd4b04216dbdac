import type { Logger } from 'pino';
import type { BuildbotBuild } from './types.js';

/** The live events bbwatch consumes: every finished build, with its builder id and number. */
export const FINISHED_PATH = 'builders/*/builds/*/finished';

export interface StreamOptions {
  /** The master's base URL, ending in `/`. */
  baseUrl: string;
  connectTimeoutMs: number;
  onBuild(build: BuildbotBuild): void;
  log: Logger;
}

/** An open event stream; `ended` resolves (never rejects) with the reason it stopped. */
export interface StreamHandle {
  transport: 'ws' | 'sse';
  ended: Promise<string>;
  close(): void;
}

/** A finished-build payload worth trusting, or undefined for anything a master should not send. */
export function asFinishedBuild(value: unknown): BuildbotBuild | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const b = value as Record<string, unknown>;
  const ints = ['buildid', 'builderid', 'number'].every((k) => Number.isInteger(b[k]));
  if (!ints || b.complete !== true || !Number.isInteger(b.results)) return undefined;
  return value as BuildbotBuild;
}
