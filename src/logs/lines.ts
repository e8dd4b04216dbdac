/**
 * Turns a stream of byte chunks into lines, with bounded memory: invalid UTF-8 becomes U+FFFD,
 * `\r\n` and `\r`-only progress redraws are handled, and a line longer than `maxLine` characters
 * keeps only its first `maxLine` characters (the rest is skipped, however many MiB it has).
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private partial = '';
  /** The current line was cut: skip everything up to its newline. */
  private skipping = false;
  /** Lines seen, including cut ones. */
  lines = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 4096,
  ) {}

  push(chunk: Uint8Array): void {
    this.text(this.decoder.decode(chunk, { stream: true }));
  }

  /** Feeds already decoded text. */
  text(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      if (this.skipping) {
        this.skipping = false;
      } else {
        const piece = this.partial === '' ? text.slice(start, nl) : this.partial + text.slice(start, nl);
        this.partial = '';
        this.emit(piece.length > this.maxLine ? piece.slice(0, this.maxLine) : piece);
      }
      start = nl + 1;
    }
    if (start < text.length && !this.skipping) {
      this.partial += text.slice(start);
      if (this.partial.length > this.maxLine) {
        this.emit(this.partial.slice(0, this.maxLine));
        this.partial = '';
        this.skipping = true;
      }
    }
  }

  /** Flushes the last line (a log need not end with a newline). */
  end(): void {
    this.text(this.decoder.decode());
    if (this.partial !== '' && !this.skipping) this.emit(this.partial);
    this.partial = '';
    this.skipping = false;
  }

  private emit(line: string): void {
    this.lines++;
    // A trailing \r (CRLF logs); a bare \r inside is a terminal redraw: keep what was drawn last.
    let text = line.endsWith('\r') ? line.slice(0, -1) : line;
    const cr = text.lastIndexOf('\r');
    if (cr !== -1) text = text.slice(cr + 1);
    this.onLine(text);
  }
}
