import { LineSplitter } from './lines.js';
import { type RegrtestAnalysis, RegrtestParser } from './regrtest.js';

/**
 * A log that can be read from its end: the master's log API (src/logs/reader.ts) or a local file
 * (src/logs/file-log.ts). Both feed the one tail-first algorithm below.
 */
export interface TailSource {
  /** Lines carry Buildbot's stream tag (`o`, `e`, `h`) first. */
  readonly tagged: boolean;
  /** The lines read so far from the end reach the log's first line. */
  readonly atStart: boolean;
  /**
   * The `count` lines just before those already read from the end (fewer when the log starts
   * sooner), in order, each cut to MAX_LINE.
   */
  before(count: number): Promise<string[]>;
  /** Up to `count` lines from the log's start, none of them among those read from the end. */
  head(count: number): Promise<string[]>;
  /** The whole log as untagged bytes; a chunk is valid only during the call. */
  stream(onChunk: (chunk: Uint8Array) => void): Promise<void>;
}

export interface TailFirstOptions {
  /**
   * Read further back until every failed or flaky test has a traceback (`!why`, and
   * `bbwatch analyze`, whose report shows them), though not past MAX_TAIL lines: the whole log is
   * streamed for a missing summary only.
   */
  wantTracebacks?: boolean;
}

export interface TailFirstResult {
  analysis: RegrtestAnalysis;
  /** Lines parsed: the tail and head, or every line of the log when it was streamed. */
  linesRead: number;
  /** The summary was not in the tail: the whole log went through the parser. */
  streamed: boolean;
}

/** The first window from the end; it grows fourfold until the summary is inside it. */
export const FIRST_TAIL = 16;
/** Beyond this many lines from the end, the log is streamed whole instead (never held). */
export const MAX_TAIL = 20_000;
/** Lines read from the start for the seed, the command, the Python version and the worker count. */
export const HEAD = 120;
/** Lines longer than this are cut before matching (a 64 MiB line costs 4 KiB). */
export const MAX_LINE = 4096;

/**
 * Analyses a log cheaply: regrtest's summary is at the end, so this reads the tail first and grows
 * the window backwards only until the summary (and, when asked, a traceback per failing test) is
 * inside it, plus the head for the seed and the command line. When the summary is not within the
 * last MAX_TAIL lines, it streams the whole log through the parser instead, without holding it.
 */
export async function analyzeTailFirst(
  src: TailSource,
  opts: TailFirstOptions = {},
): Promise<TailFirstResult> {
  const feed = (parser: RegrtestParser, line: string) => {
    if (src.tagged) parser.taggedLine(line);
    else parser.line(line);
  };

  let tail: string[] = [];
  let window = FIRST_TAIL;
  let analysis: RegrtestAnalysis | undefined;
  for (;;) {
    const more = await src.before(window - tail.length);
    tail = [...more, ...tail];
    const parser = new RegrtestParser();
    // Buildbot's header lines at the end ("program finished with exit code 2") are not the command.
    const skipHeader = src.tagged && !src.atStart;
    for (const line of tail) {
      if (skipHeader && line.startsWith('h')) continue;
      feed(parser, line);
    }
    analysis = parser.finish();
    if (src.atStart || (complete(analysis) && (!opts.wantTracebacks || withTracebacks(analysis)))) break;
    if (window * 4 > MAX_TAIL) {
      // Tracebacks further back are not worth the whole log; a missing summary is.
      if (!complete(analysis)) analysis = undefined;
      break;
    }
    window *= 4;
  }

  if (!analysis) {
    // The summary is far from the end (or missing): stream the whole log once.
    tail = [];
    return { ...(await analyzeStream((onChunk) => src.stream(onChunk))), streamed: true };
  }

  let linesRead = tail.length;
  if (!src.atStart) {
    // The seed, the command, the Python version and the worker count are printed at the start;
    // the start says them for the whole run (a re-run near the end announces its own smaller pool).
    const headLines = await src.head(HEAD);
    linesRead += headLines.length;
    const head = new RegrtestParser();
    for (const line of headLines) feed(head, line);
    const h = head.finish();
    analysis = {
      ...analysis,
      seed: h.seed ?? analysis.seed,
      command: h.command ?? analysis.command,
      python: h.python ?? analysis.python,
      workers: h.workers ?? analysis.workers,
    };
  }
  return { analysis, linesRead, streamed: false };
}

/** Streams a whole log (untagged bytes) through the parser without holding it. */
export async function analyzeStream(
  stream: (onChunk: (chunk: Uint8Array) => void) => Promise<void>,
): Promise<{ analysis: RegrtestAnalysis; linesRead: number }> {
  const parser = new RegrtestParser();
  const split = new LineSplitter((line) => parser.line(line), MAX_LINE, parser.canSkip);
  await stream((chunk) => split.push(chunk));
  split.end();
  return { analysis: parser.finish(), linesRead: split.lines };
}

/** The tail holds regrtest's final result and summary. */
function complete(a: RegrtestAnalysis): boolean {
  return a.result !== undefined && a.summaryFound;
}

/** Every failed or flaky test has a traceback. */
function withTracebacks(a: RegrtestAnalysis): boolean {
  return [...a.failed, ...a.flaky].every((t) => a.tracebacks[t] !== undefined);
}
