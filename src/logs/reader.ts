import type { BuildbotRest } from '../buildbot/rest.js';
import { HttpError } from '../errors.js';
import { LineSplitter } from './lines.js';
import { type RegrtestAnalysis, RegrtestParser } from './regrtest.js';

/** Which step's which log holds the test output (per master; CPython: step `test`, log `stdio`). */
export interface LogSource {
  step: string;
  log: string;
}

export interface BuildRef {
  buildid: number;
  builderid: number;
  number: number;
}

export interface BuildLogAnalysis {
  analysis: RegrtestAnalysis;
  /** The log in the master's UI, and its raw text. */
  logUrl: string;
  rawUrl: string;
  /** Lines in the log, and how many of them were read. */
  totalLines: number;
  linesRead: number;
}

export interface ReadOptions {
  /** Read further back until every failing test has a traceback (for `!why`). */
  wantTracebacks?: boolean;
  signal?: AbortSignal;
}

/** The first window from the end; it grows fourfold until the summary is inside it. */
const FIRST_TAIL = 16;
/** Beyond this many lines from the end, the log is streamed whole instead (never held). */
const MAX_TAIL = 20_000;
const HEAD = 120;
/** Lines longer than this are cut before matching (a 64 MiB line costs 4 KiB). */
const MAX_LINE = 4096;

/** The log does not exist (no such step or log in this build): the analysis cannot start. */
export class NoTestLogError extends Error {}

/**
 * Analyses a build's test log cheaply: the summary is at the end, so it reads the tail first and
 * grows the window backwards only until regrtest's summary (and, for `!why`, the tracebacks) is
 * inside it, plus the head for the seed and the command line. When the tail would have to grow
 * past MAX_TAIL lines, it streams the raw log through the parser instead, without holding it.
 */
export async function analyzeBuildLog(
  rest: BuildbotRest,
  build: BuildRef,
  source: LogSource,
  opts: ReadOptions = {},
): Promise<BuildLogAnalysis> {
  const { signal } = opts;
  const step = await first<{ stepid: number; number: number }>(
    rest.list(`builds/${build.buildid}/steps/${encodeURIComponent(source.step)}`, 'steps', {}, signal),
    `this build has no step '${source.step}'`,
  );
  const log = await first<{ logid: number; num_lines: number; slug: string; type: string }>(
    rest.list(`steps/${step.stepid}/logs/${encodeURIComponent(source.log)}`, 'logs', {}, signal),
    `step '${source.step}' has no log '${source.log}'`,
  );
  const logUrl = `${rest.baseUrl}#/builders/${build.builderid}/builds/${build.number}/steps/${step.number}/logs/${log.slug}`;
  const rawUrl = rest.url(`logs/${log.logid}/raw`);
  const total = log.num_lines;
  const tagged = log.type === 's';
  const feed = (parser: RegrtestParser, line: string) => {
    const capped = line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line;
    if (tagged) parser.taggedLine(capped);
    else parser.line(capped);
  };

  // Tail first, growing until the summary is complete.
  let tail: string[] = [];
  let window = Math.min(FIRST_TAIL, total);
  let analysis: RegrtestAnalysis | undefined;
  for (;;) {
    const start = total - window;
    const missing = total - tail.length - start;
    if (missing > 0) {
      const lines = await rest.logLines(log.logid, start, missing, signal);
      tail = [...lines.map((l) => (l.length > MAX_LINE ? l.slice(0, MAX_LINE) : l)), ...tail];
    }
    const parser = new RegrtestParser();
    for (const line of tail) {
      // Buildbot's header lines at the end ("program finished with exit code 2") are not the command.
      if (start > 0 && tagged && line.startsWith('h')) continue;
      feed(parser, line);
    }
    analysis = parser.finish();
    if (window >= total || enough(analysis, opts)) break;
    if (window * 4 > MAX_TAIL) {
      analysis = undefined;
      break;
    }
    window = Math.min(total, window * 4);
  }

  if (!analysis) {
    // The summary is far from the end (or missing): stream the whole log once.
    tail = [];
    const parser = new RegrtestParser();
    const split = new LineSplitter((line) => parser.line(line), MAX_LINE, parser.canSkip);
    await rest.streamRaw(log.logid, (chunk) => split.push(chunk), signal);
    split.end();
    return { analysis: parser.finish(), logUrl, rawUrl, totalLines: total, linesRead: total };
  }

  let linesRead = Math.min(window, total);
  if (window < total && (analysis.seed === undefined || analysis.command === undefined)) {
    // The seed, the command and the Python version are printed at the start.
    const headLines = await rest.logLines(log.logid, 0, Math.min(HEAD, total - window), signal);
    linesRead += headLines.length;
    const head = new RegrtestParser();
    for (const line of headLines) feed(head, line);
    const h = head.finish();
    analysis = {
      ...analysis,
      seed: analysis.seed ?? h.seed,
      command: analysis.command ?? h.command,
      python: analysis.python ?? h.python,
      workers: analysis.workers ?? h.workers,
    };
  }
  return { analysis, logUrl, rawUrl, totalLines: total, linesRead };
}

/** The tail holds what is needed: the final result and, when asked, a traceback per failing test. */
function enough(a: RegrtestAnalysis, opts: ReadOptions): boolean {
  if (a.result === undefined || !a.summaryFound) return false;
  if (opts.wantTracebacks) return a.failed.every((t) => a.tracebacks[t] !== undefined);
  return true;
}

async function first<T>(request: Promise<T[]>, missing: string): Promise<T> {
  try {
    const [item] = await request;
    if (item) return item;
  } catch (err) {
    if (!(err instanceof HttpError && (err.status === 404 || err.status === 400))) throw err;
  }
  throw new NoTestLogError(missing);
}
