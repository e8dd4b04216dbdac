/**
 * Turns a stream of byte chunks into lines, with bounded memory. It works on bytes and decodes only
 * the lines it hands out (a `skip` filter may pass over most lines of a big log without decoding
 * them); invalid UTF-8 becomes U+FFFD; `\r\n` and `\r`-only progress redraws are handled; a line
 * longer than `maxLine` bytes keeps only its first `maxLine` bytes (the rest is skipped, however
 * many MiB it has).
 */
export class LineSplitter {
  /** Bytes of a line that started in an earlier chunk. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** The current line was cut: skip everything up to its newline. */
  private skipping = false;
  /** Lines seen, including cut and skipped ones. */
  lines = 0;

  /**
   * @param skip optional fast filter over a line still inside its chunk (`bytes` from `start` to
   *   `end`, newline excluded): true passes over it without decoding it.
   */
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 4096,
    private readonly skip?: (bytes: Uint8Array, start: number, end: number) => boolean,
  ) {}

  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    if (this.skipping || this.partialBytes > 0) {
      // The end of a line that began in an earlier chunk.
      const nl = buf.indexOf(10);
      if (nl === -1) {
        if (!this.skipping) this.keepPartial(buf);
        return;
      }
      if (this.skipping) this.skipping = false;
      else {
        this.keep(buf.subarray(0, nl));
        this.emitPartial();
      }
      start = nl + 1;
    }
    // The hot loop of a big log: most lines are passed over without being decoded.
    const skip = this.skip;
    const maxLine = this.maxLine;
    let skipped = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) break;
      if (skip !== undefined && skip(buf, start, nl)) skipped++;
      else this.emit(buf, start, nl - start > maxLine ? start + maxLine : nl);
      start = nl + 1;
    }
    this.lines += skipped;
    if (start < buf.length) this.keepPartial(buf.subarray(start));
  }

  /** Feeds already decoded text. */
  text(text: string): void {
    this.push(Buffer.from(text, 'utf8'));
  }

  /** Flushes the last line (a log need not end with a newline). */
  end(): void {
    if (this.partialBytes > 0 && !this.skipping) this.emitPartial();
    this.partial = [];
    this.partialBytes = 0;
    this.skipping = false;
  }

  /** The start of a line that ends in a later chunk; past `maxLine` bytes it is cut and the rest skipped. */
  private keepPartial(piece: Buffer): void {
    this.keep(piece);
    if (this.partialBytes > this.maxLine) {
      this.emitPartial();
      this.skipping = true;
    }
  }

  private keep(piece: Buffer): void {
    const room = this.maxLine - this.partialBytes;
    if (room <= 0) return;
    // Copy: the chunk's memory is not ours to keep.
    const kept = Buffer.from(piece.subarray(0, Math.min(piece.length, room + 1)));
    this.partial.push(kept);
    this.partialBytes += kept.length;
  }

  private emitPartial(): void {
    const whole = Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    this.emit(whole, 0, Math.min(whole.length, this.maxLine));
  }

  private emit(buf: Buffer, start: number, end: number): void {
    this.lines++;
    let text = buf.toString('utf8', start, end);
    // A trailing \r (CRLF logs); a bare \r inside is a terminal redraw: keep what was drawn last.
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const cr = text.lastIndexOf('\r');
    if (cr !== -1) text = text.slice(cr + 1);
    this.onLine(text);
  }
}
