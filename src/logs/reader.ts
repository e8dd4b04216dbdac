import type { BuildbotRest } from '../buildbot/rest.js';
import { logPageUrl } from '../buildbot/urls.js';
import { HttpError } from '../errors.js';
import type { RegrtestAnalysis } from './regrtest.js';
import {
  analyzeTailFirst,
  type LineSink,
  MAX_LINE,
  type TailFirstOptions,
  type TailSource,
} from './tail-first.js';

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

export interface ReadOptions extends TailFirstOptions {
  signal?: AbortSignal;
}

/** The log does not exist (no such step or log in this build): the analysis cannot start. */
export class NoTestLogError extends Error {}

/**
 * Analyses a build's test log cheaply, tail first (src/logs/tail-first.ts): lines from the end
 * through the master's `contents` API until regrtest's summary (and, for `!why`, the tracebacks)
 * is inside them, plus the head; the `raw` log streamed only when the summary is far from the end.
 */
export async function analyzeBuildLog(
  rest: BuildbotRest,
  build: BuildRef,
  source: LogSource,
  opts: ReadOptions = {},
): Promise<BuildLogAnalysis> {
  const { signal } = opts;
  const step = await first(
    rest.buildStep(build.buildid, source.step, signal),
    `this build has no step '${source.step}'`,
  );
  const log = await first(
    rest.stepLog(step.stepid, source.log, signal),
    `step '${source.step}' has no log '${source.log}'`,
  );
  const logUrl = logPageUrl(rest.baseUrl, build, step.number, log.slug);
  const rawUrl = rest.rawLogUrl(log.logid);
  const master = new MasterLog(rest, log.logid, log.num_lines, log.type === 's', signal);
  const result = await analyzeTailFirst(master, opts);
  return {
    analysis: result.analysis,
    logUrl,
    rawUrl,
    totalLines: log.num_lines,
    linesRead: result.streamed ? log.num_lines : result.linesRead,
  };
}

/**
 * A log on the master, read through its `contents` API (lines, from the end) and `raw` (bytes).
 * Lines of a stdio log (type `s`) carry Buildbot's stream tag.
 */
class MasterLog implements TailSource {
  /** The lines read from the end, in order. */
  private tail: string[] = [];
  /** Lines asked for from the end so far. */
  private have = 0;

  constructor(
    private readonly rest: BuildbotRest,
    private readonly logid: number,
    private readonly total: number,
    private readonly tagged: boolean,
    private readonly signal: AbortSignal | undefined,
  ) {}

  get atStart(): boolean {
    return this.have >= this.total;
  }

  async extend(count: number): Promise<void> {
    const start = Math.max(0, this.total - count);
    const n = this.total - this.have - start;
    if (n <= 0) return;
    const lines = await this.rest.logLines(this.logid, start, n, this.signal);
    this.have += n;
    this.tail = [...lines.map(cap), ...this.tail];
  }

  async parseTail(sink: LineSink): Promise<number> {
    // A window that starts inside Buildbot's opening header lines (` watching logfiles {}`) skips
    // them: only the log's first line is the command. Its closing ones are read, as in a whole log
    // (`program finished with exit code 2`, `command timed out: ...`).
    let opening = this.tagged && !this.atStart;
    for (const line of this.tail) {
      if (opening && line.charCodeAt(0) === 104 /* h */) continue;
      opening = false;
      this.feed(sink, line);
    }
    return this.tail.length;
  }

  async parseHead(sink: LineSink, count: number): Promise<number> {
    const n = Math.min(count, this.total - this.have);
    if (n <= 0) return 0;
    const lines = await this.rest.logLines(this.logid, 0, n, this.signal);
    for (const line of lines) this.feed(sink, cap(line));
    return lines.length;
  }

  stream(onChunk: (chunk: Uint8Array) => void): Promise<void> {
    return this.rest.streamRaw(this.logid, onChunk, this.signal);
  }

  private feed(sink: LineSink, line: string): void {
    if (this.tagged) sink.taggedLine(line);
    else sink.line(line);
  }
}

const cap = (line: string) => (line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line);

async function first<T>(request: Promise<T | undefined>, missing: string): Promise<T> {
  try {
    const item = await request;
    if (item) return item;
  } catch (err) {
    if (!(err instanceof HttpError && (err.status === 404 || err.status === 400))) throw err;
  }
  throw new NoTestLogError(missing);
}
