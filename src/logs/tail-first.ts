import { LineSplitter } from './lines.js';
import { type RegrtestAnalysis, RegrtestParser } from './regrtest.js';

/**
 * What a source feeds the lines it read to: the regrtest parser, whose byte-level `canSkip` lets
 * a source that has the bytes pass over uninteresting lines without decoding them.
 */
export interface LineSink {
  /** One line without its newline (and without Buildbot's stream tag). */
  line(line: string): void;
  /** One line as Buildbot's `contents` API gives a stdio log's: its stream tag (`o`, `e`, `h`) first. */
  taggedLine(line: string): void;
  readonly canSkip?: (bytes: Uint8Array, start: number, end: number) => boolean;
}

/**
 * A log that can be read from its end: the master's log API (src/logs/reader.ts) or a local file
 * (src/logs/file-log.ts). Both serve the one tail-first algorithm below; each feeds its lines in
 * its own form (tagged lines from the master, bytes from a file).
 */
export interface TailSource {
  /** The lines read from the end reach the log's first line. */
  readonly atStart: boolean;
  /** Reads further back until `count` lines from the end are held (fewer when the log is shorter). */
  extend(count: number): Promise<void>;
  /** Feeds the lines read from the end, in order, each cut to MAX_LINE; returns how many there are. */
  parseTail(sink: LineSink): Promise<number>;
  /** Feeds up to `count` lines from the log's start, none of those read from the end; returns how many. */
  parseHead(sink: LineSink, count: number): Promise<number>;
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
  let window = FIRST_TAIL;
  let analysis: RegrtestAnalysis | undefined;
  let linesRead = 0;
  for (;;) {
    await src.extend(window);
    const parser = new RegrtestParser();
    linesRead = await src.parseTail(parser);
    analysis = parser.finish();
    if (
      src.atStart ||
      (complete(analysis) &&
        resultsSeen(parser, analysis) &&
        (!opts.wantTracebacks || withTracebacks(analysis)))
    )
      break;
    if (window * 4 > MAX_TAIL) {
      // Tracebacks further back are not worth the whole log; a missing summary is.
      if (!complete(analysis)) analysis = undefined;
      break;
    }
    window *= 4;
  }

  if (!analysis) {
    // The summary is far from the end (or missing): stream the whole log once.
    return { ...(await analyzeStream((onChunk) => src.stream(onChunk))), streamed: true };
  }

  if (!src.atStart) {
    // The seed, the command, the Python version and the worker count are printed at the start;
    // the start says them for the whole run (a re-run near the end announces its own smaller pool).
    const head = new RegrtestParser();
    linesRead += await src.parseHead(head, HEAD);
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

/**
 * The result line of every failed test is in the tail: whether it crashed or timed out (and with
 * which signal or after how long) is said there, not in the summary. (Up to the first MAX_EXPLAINED
 * of them: a run with hundreds of failures is not worth its whole log for that.)
 */
function resultsSeen(parser: RegrtestParser, a: RegrtestAnalysis): boolean {
  return a.failed.slice(0, MAX_EXPLAINED).every((t) => parser.sawResultOf(t));
}
const MAX_EXPLAINED = 20;

/** Every failed or flaky test has a traceback. */
function withTracebacks(a: RegrtestAnalysis): boolean {
  return [...a.failed, ...a.flaky].every((t) => a.tracebacks[t] !== undefined);
}
