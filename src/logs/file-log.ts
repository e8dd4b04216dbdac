import { readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { LineSplitter } from './lines.js';
import {
  analyzeStream,
  analyzeTailFirst,
  type LineSink,
  MAX_LINE,
  type TailFirstOptions,
  type TailFirstResult,
  type TailSource,
} from './tail-first.js';

/** How a file is read from the end (tests make them small to cross every boundary). */
export interface FileWindows {
  /** The first byte window read from the end; each further one is four times larger, up to `max`. */
  first: number;
  max: number;
  /** Bytes read from the end are kept up to this much, so a span is not read twice (see `read`). */
  kept: number;
}
const WINDOWS: FileWindows = { first: 16 * 1024, max: 1024 * 1024, kept: 4 * 1024 * 1024 };
/**
 * Reads of the full stream: small enough to stay in the CPU cache while they are split (1 MiB
 * reads ran at a third of the speed).
 */
const STREAM_CHUNK = 128 * 1024;

export interface FileLogAnalysis extends TailFirstResult {
  /** The file's size when the analysis began; what is appended later is not read. */
  size: number;
  /** Bytes read from the file, all reads counted. */
  bytesRead: number;
}

/** The file changed under the reader in a way it cannot make sense of (it shrank). */
export class FileChangedError extends Error {}

/**
 * Analyses a local log file the way a log on the master is read: tail first, in byte windows that
 * grow from the end, plus the head; the whole file streamed only when the summary is not in the
 * last MAX_TAIL lines. Only regular files can be read from the end: anything else (a pipe, a
 * device) is streamed.
 */
export async function analyzeLogFile(path: string, opts: TailFirstOptions = {}): Promise<FileLogAnalysis> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${path}: cannot read the file (${REASONS[err.code ?? ''] ?? err.code ?? err.message})`);
  });
  try {
    const stat = await fh.stat();
    if (stat.isDirectory()) throw new Error(`${path}: cannot read the file (a directory)`);
    const file = new FileLog(fh, stat.isFile() ? stat.size : undefined);
    // A pipe or a device cannot be read from the end.
    const result = stat.isFile()
      ? await analyzeTailFirst(file, opts)
      : { ...(await analyzeStream((onChunk) => file.stream(onChunk))), streamed: true };
    return { ...result, size: stat.isFile() ? stat.size : file.bytesRead, bytesRead: file.bytesRead };
  } catch (err) {
    if (err instanceof FileChangedError) throw new FileChangedError(`${path}: ${err.message}`);
    throw err;
  } finally {
    await fh.close();
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'a directory',
};

/**
 * A local file as a TailSource, read with positioned reads up to its size at open: a file still
 * being appended to is read as it was then. Its lines go to the parser as bytes, through the same
 * LineSplitter as the full stream: the same lines, and the same skip of uninteresting ones.
 */
export class FileLog implements TailSource {
  bytesRead = 0;
  /** Where the lines read from the end begin (a line's first byte, or the size), and how many they are. */
  private pos: number;
  private held = 0;
  /** The bytes last read, from offset `keptAt`: the tail is found, then parsed, from one read. */
  private kept: Buffer = Buffer.alloc(0);
  private keptAt = 0;

  /** @param size the file's size, or undefined for a file that can only be read to its end once. */
  constructor(
    private readonly fh: FileHandle,
    private readonly size: number | undefined,
    private readonly windows: FileWindows = WINDOWS,
  ) {
    this.pos = size ?? 0;
  }

  get atStart(): boolean {
    return this.pos === 0;
  }

  async extend(count: number): Promise<void> {
    if (count <= this.held || this.pos === 0) return;
    const { start, lines } = await this.lineStartBefore(count - this.held);
    this.pos = start;
    this.held += lines;
  }

  async parseTail(sink: LineSink): Promise<number> {
    const split = new LineSplitter((line) => sink.line(line), MAX_LINE, sink.canSkip);
    await this.each(this.pos, this.size ?? 0, (buf) => split.push(buf));
    split.end();
    return split.lines;
  }

  async parseHead(sink: LineSink, count: number): Promise<number> {
    let n = 0;
    const split = new LineSplitter((line) => {
      if (n++ < count) sink.line(line);
    }, MAX_LINE);
    const whole = await this.each(0, this.pos, (buf) => {
      split.push(buf);
      return n < count;
    });
    if (whole) split.end();
    return Math.min(n, count);
  }

  async stream(onChunk: (chunk: Uint8Array) => void): Promise<void> {
    const buf = Buffer.allocUnsafe(STREAM_CHUNK);
    const { size } = this;
    if (size === undefined) {
      // A pipe or a device: read at its current position until it ends.
      for (;;) {
        const { bytesRead } = await this.fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) return;
        this.bytesRead += bytesRead;
        onChunk(buf.subarray(0, bytesRead));
      }
    }
    // Synchronous reads: the split is the work and the file is local (an asynchronous read costs
    // more in hand-over than it saves, measured with bench/parser.bench.ts).
    for (let at = 0; at < size;) {
      const got = readSync(this.fh.fd, buf, 0, Math.min(buf.length, size - at), at);
      if (got === 0) throw new FileChangedError('the file shrank while it was read');
      at += got;
      this.bytesRead += got;
      onChunk(buf.subarray(0, got));
    }
  }

  /**
   * The first byte of the `count`th line before `pos` (0 when the file starts sooner), and how many
   * lines start from there: scans back for newlines in windows that grow fourfold.
   */
  private async lineStartBefore(count: number): Promise<{ start: number; lines: number }> {
    let hi = this.pos;
    let window = this.windows.first;
    let need = count;
    let first = true;
    while (hi > 0) {
      const lo = Math.max(0, hi - window);
      const buf = await this.read(lo, hi - lo);
      let i = buf.length;
      // The newline that ends the last line wanted starts none of them.
      if (first && buf[i - 1] === 10) i--;
      first = false;
      while (i > 0) {
        const nl = buf.lastIndexOf(10, i - 1);
        if (nl === -1) break;
        if (--need === 0) return { start: lo + nl + 1, lines: count };
        i = nl;
      }
      hi = lo;
      window = Math.min(window * 4, this.windows.max);
    }
    // The file's first line, and those after it.
    return { start: 0, lines: count - need + 1 };
  }

  /**
   * Hands bytes [from, to) to `f` in order (what is kept at once, the rest in windows), until `f`
   * returns false; true when all of them were handed over.
   */
  private async each(from: number, to: number, f: (buf: Buffer) => boolean | void): Promise<boolean> {
    let at = from;
    let window = this.windows.first;
    while (at < to) {
      const inKept = at >= this.keptAt && to <= this.keptAt + this.kept.length;
      const buf = await this.read(at, inKept ? to - at : Math.min(window, to - at));
      at += buf.length;
      window = Math.min(window * 4, this.windows.max);
      if (f(buf) === false) return at >= to;
    }
    return true;
  }

  /** Bytes [at, at + length) of the file, from what is kept when they are there. */
  private async read(at: number, length: number): Promise<Buffer> {
    const keptEnd = this.keptAt + this.kept.length;
    if (at >= this.keptAt && at + length <= keptEnd) {
      return this.kept.subarray(at - this.keptAt, at - this.keptAt + length);
    }
    // Reading back: only the part before what is kept is new.
    const upTo =
      at < this.keptAt && at + length > this.keptAt && at + length <= keptEnd ? this.keptAt : at + length;
    const buf = Buffer.allocUnsafe(upTo - at);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await this.fh.read(buf, got, buf.length - got, at + got);
      if (bytesRead === 0) throw new FileChangedError('the file shrank while it was read');
      got += bytesRead;
    }
    this.bytesRead += buf.length;
    if (upTo === this.keptAt && buf.length + this.kept.length <= this.windows.kept) {
      this.kept = Buffer.concat([buf, this.kept]);
      this.keptAt = at;
      return this.kept.subarray(0, length);
    }
    const whole =
      upTo === at + length ? buf : Buffer.concat([buf, this.kept.subarray(0, at + length - upTo)]);
    this.kept = whole;
    this.keptAt = at;
    return whole;
  }
}
