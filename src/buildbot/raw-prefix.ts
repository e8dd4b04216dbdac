/**
 * Buildbot 4.x starts a stdio log's `/raw` with lines of its own, `Builder: <name>`,
 * `Build number: <n>` and `Worker name: <w>` (each when known), where 3.x sends the bare log. They
 * are not the log's lines: a reader that kept them would parse them and count three lines too many.
 * 4.x also names the download `<builder>_build_<n>_step_<step>_log_<slug>` (3.x: `<slug>`).
 */
const PREFIX = [/^Builder: /, /^Build number: \d+$/, /^Worker name: /] as const;
/** A prefix line longer than this is not one (a builder name is short); the stream passes as it is. */
const MAX_PREFIX_LINE = 4096;

/** Whether a `/raw` answer comes from Buildbot 4.x, by its Content-Disposition. */
export function isPrefixedRaw(contentDisposition: string | null): boolean {
  return contentDisposition !== null && /filename=.*_build_\d+_step_.*_log_/.test(contentDisposition);
}

/**
 * Passes a raw log's bytes on without Buildbot's leading metadata lines. Lines that match them in
 * order are dropped when the answer is known to be 4.x (`prefixed`), or when all three are there
 * (an answer whose headers a proxy rewrote); anything else is passed on untouched, at most 4 KiB
 * later than it came.
 */
export class RawPrefixStripper {
  private held: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(
    private readonly onChunk: (chunk: Uint8Array) => void,
    private readonly prefixed: boolean,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.done) {
      this.onChunk(chunk);
      return;
    }
    this.held = Buffer.concat([this.held, chunk]);
    const ends = this.lineEnds();
    const n = this.prefixLines(ends);
    if (n === ends.length && n < PREFIX.length) {
      // So far only prefix lines: wait for the next line, unless it is too long to be one.
      if (this.held.length - (ends.at(-1) ?? 0) > MAX_PREFIX_LINE) this.release(0);
      return;
    }
    this.release(this.prefixed || n === PREFIX.length ? (ends[n - 1] ?? 0) : 0);
  }

  /** The stream ended: whatever is held goes out (a log shorter than the prefix). */
  end(): void {
    if (this.done) return;
    const ends = this.lineEnds();
    this.release(this.prefixed ? (ends[this.prefixLines(ends) - 1] ?? 0) : 0);
  }

  /** Where the first complete lines of what is held end (the offset after each newline), at most three. */
  private lineEnds(): number[] {
    const ends: number[] = [];
    let at = 0;
    while (ends.length < PREFIX.length) {
      const nl = this.held.indexOf(10, at);
      if (nl === -1) break;
      at = nl + 1;
      ends.push(at);
    }
    return ends;
  }

  /** How many of those lines are Buildbot's prefix lines, in their order (each one optional). */
  private prefixLines(ends: readonly number[]): number {
    let k = 0;
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const line = this.held.toString('utf8', start, ends[i]! - 1).replace(/\r$/, '');
      while (k < PREFIX.length && !PREFIX[k]!.test(line)) k++;
      if (k === PREFIX.length) return i;
      k++;
      start = ends[i]!;
    }
    return ends.length;
  }

  private release(from: number): void {
    this.done = true;
    const rest = this.held.subarray(from);
    this.held = Buffer.alloc(0);
    if (rest.length > 0) this.onChunk(rest);
  }
}
