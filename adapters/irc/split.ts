/**
 * Lays styled text out as IRC lines of at most a given number of bytes (UTF-8, formatting codes
 * included). Breaks fall between characters (code points), never inside one; a space near the end
 * of a line is preferred. A style cut by a break is opened again on the next line, because IRC
 * clients reset formatting at the start of every line.
 */

/** A run of text in one style; `style` is the formatting codes that open it ('' for plain). */
export interface Segment {
  text: string;
  style: string;
}

export const RESET = '\x0f';

interface Char {
  ch: string;
  bytes: number;
  style: string;
}

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * A ',' right after a colour code would be read as the start of a background colour; an empty
 * bold toggle in between keeps it literal.
 */
function guard(style: string, first: string): string {
  return /\x03\d\d$/.test(style) && first === ',' ? '\x02\x02' : '';
}

/** One line's text with its formatting codes. */
export function encodeLine(segments: readonly Segment[]): string {
  let out = '';
  let open = '';
  for (const seg of segments) {
    if (seg.text === '') continue;
    if (seg.style !== open) {
      if (open) out += RESET;
      out += seg.style + guard(seg.style, seg.text[0] ?? '');
      open = seg.style;
    }
    out += seg.text;
  }
  return open ? out + RESET : out;
}

function toSegments(chars: readonly Char[]): Segment[] {
  const out: Segment[] = [];
  for (const c of chars) {
    const last = out[out.length - 1];
    if (last && last.style === c.style) last.text += c.ch;
    else out.push({ text: c.ch, style: c.style });
  }
  return out;
}

/** What a line of these characters costs in bytes, codes and the final reset included. */
function cost(chars: readonly Char[]): number {
  return byteLength(encodeLine(toSegments(chars)));
}

/** How much adding `c` after `prev` adds to a line's bytes (the final reset counted once, with the style). */
function step(prev: Char | undefined, c: Char): number {
  const prevStyle = prev?.style ?? '';
  if (c.style === prevStyle) return c.bytes;
  // Close the previous style (its reset was already counted) and open this one with its own reset.
  return c.bytes + (c.style ? byteLength(c.style + guard(c.style, c.ch)) + 1 : 0);
}

/**
 * Splits styled text into lines of at most `maxBytes` bytes each. Leading spaces of continuation
 * lines are dropped; lines with nothing visible are left out.
 */
export function splitLine(segments: readonly Segment[], maxBytes: number): string[] {
  if (maxBytes < 16) throw new RangeError(`a line of ${maxBytes} bytes is too short to split into`);
  const chars: Char[] = [];
  for (const seg of segments) {
    for (const ch of seg.text) chars.push({ ch, bytes: byteLength(ch), style: seg.style });
  }
  const lines: string[] = [];
  let line: Char[] = [];
  let used = 0;
  const emit = (part: Char[]) => {
    const text = encodeLine(toSegments(part));
    if (part.some((c) => c.ch.trim() !== '')) lines.push(text);
  };
  for (const c of chars) {
    if (line.length === 0 && c.ch === ' ' && lines.length > 0) continue;
    const add = step(line[line.length - 1], c);
    if (used + add <= maxBytes) {
      line.push(c);
      used += add;
      continue;
    }
    // Break at the last space in the final quarter of the line, else right here.
    let cut = line.length;
    for (let i = line.length - 1; i >= Math.floor(line.length * 0.75); i--) {
      if (line[i]?.ch === ' ') {
        cut = i;
        break;
      }
    }
    emit(line.slice(0, cut));
    const rest = line.slice(cut);
    while (rest[0]?.ch === ' ') rest.shift();
    line = c.ch === ' ' && rest.length === 0 ? [] : [...rest, c];
    used = cost(line);
    // A single character with its codes always fits (maxBytes >= 16), so this terminates.
    while (used > maxBytes && line.length > 1) {
      emit(line.slice(0, -1));
      line = line.slice(-1);
      used = cost(line);
    }
  }
  if (line.length > 0) emit(line);
  return lines;
}
