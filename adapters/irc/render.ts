import { type Line, type Message, type Span, type Tone } from '../../src/chat/render-kit.js';
import { sanitize } from './sanitize.js';
import { type Segment, splitLine } from './split.js';

/** mIRC colour numbers for the tones (green, orange, red, purple, teal, grey, blue). */
const MIRC: Partial<Record<Tone, string>> = {
  success: '03',
  warnings: '07',
  failure: '04',
  exception: '06',
  retry: '10',
  cancelled: '10',
  skipped: '14',
  building: '12',
};
const BOLD = '\x02';
const COLOUR = '\x03';

export interface IrcRenderOptions {
  /** mIRC colours and bold; false gives plain text. */
  colours: boolean;
  /** Bytes of text one line may carry (see lineBudget). */
  maxBytes: number;
  /** At most this many lines; the last one then says how many were left out. */
  maxLines?: number;
}

function styleOf(span: Span, colours: boolean): string {
  if (!colours || typeof span === 'string') return '';
  const colour = span.tone ? MIRC[span.tone] : undefined;
  return `${span.bold ? BOLD : ''}${colour ? COLOUR + colour : ''}`;
}

function segmentsOf(line: Line, colours: boolean): Segment[] {
  const out: Segment[] = [];
  for (const span of line) {
    const text = sanitize(typeof span === 'string' ? span : span.text);
    out.push({ text, style: styleOf(span, colours) });
    if (typeof span !== 'string' && span.href && span.href !== span.text) {
      out.push({ text: ` <${sanitize(span.href)}>`, style: '' });
    }
  }
  return out;
}

/**
 * The message as logical lines: the title with the message's link at its end (so that the first
 * line alone says what happened and where to look), then the body lines; the link gets a line of
 * its own only when there is no title.
 */
export function messageLines(message: Message, colours: boolean): Segment[][] {
  const lines: Segment[][] = [];
  const url = message.link ? sanitize(message.link.url) : undefined;
  if (message.title) {
    const title = segmentsOf(message.title, colours);
    if (url) title.push({ text: ` ${url}`, style: '' });
    lines.push(title);
  }
  for (const line of message.lines) lines.push(segmentsOf(line, colours));
  if (url && !message.title) lines.push([{ text: url, style: '' }]);
  return lines;
}

/** The message as IRC lines: rendered, split to the byte budget, cut to maxLines. */
export function renderIrc(message: Message, opts: IrcRenderOptions): string[] {
  const lines = messageLines(message, opts.colours).flatMap((line) => splitLine(line, opts.maxBytes));
  const max = opts.maxLines;
  if (max === undefined || lines.length <= max) return lines;
  if (max <= 1) return lines.slice(0, 1);
  const kept = lines.slice(0, max - 1);
  kept.push(`(… ${lines.length - kept.length} more lines)`);
  return kept;
}

/**
 * Bytes of message text a line may carry so that the line as the server relays it to others,
 * `:nick!user@host PRIVMSG target :text\r\n`, stays within IRC's 512 bytes. The user and host parts
 * are taken at the server's maximum lengths, since a cloak or a changed host may lengthen them.
 */
export function lineBudget(opts: {
  nick: string;
  target: string;
  command?: 'PRIVMSG' | 'NOTICE';
  userLen?: number;
  hostLen?: number;
  lineBytes?: number;
}): number {
  const userLen = (opts.userLen ?? 10) + 1; // a '~' when ident is not verified
  const hostLen = opts.hostLen ?? 63;
  const prefix = 1 + Buffer.byteLength(opts.nick) + 1 + userLen + 1 + hostLen + 1;
  const command = `${opts.command ?? 'PRIVMSG'} ${opts.target} :`;
  return (opts.lineBytes ?? 512) - 2 - prefix - Buffer.byteLength(command);
}
