import {
  cleanText,
  type Line,
  type Message,
  type Span,
  sanitizeText,
  spanText,
  type Tone,
} from '../../src/chat/render-kit.js';

const ANSI: Partial<Record<Tone, string>> = {
  success: '\x1b[32m',
  warnings: '\x1b[33m',
  failure: '\x1b[31m',
  exception: '\x1b[35m',
  retry: '\x1b[36m',
  cancelled: '\x1b[36m',
  skipped: '\x1b[34m',
  building: '\x1b[93m',
};
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

export interface ConsoleRenderOptions {
  colour: boolean;
  /** A clock prefix for announcements (`12:34:56 `). */
  stamp?: string;
}

/** A message as terminal lines: plain text, or ANSI colours when writing to a terminal. */
export function renderConsole(message: Message, opts: ConsoleRenderOptions): string[] {
  const lines: string[] = [];
  const indent = message.title ? '  ' : '';
  if (message.title) lines.push(`${opts.stamp ?? ''}${renderLine(message.title, opts.colour)}`);
  for (const line of message.lines) lines.push(indent + renderLine(line, opts.colour));
  if (message.link) lines.push(indent + cleanText(message.link.url));
  return lines;
}

function renderLine(line: Line, colour: boolean): string {
  return line.map((span) => renderSpan(span, colour)).join('');
}

function renderSpan(span: Span, colour: boolean): string {
  const raw = spanText(span);
  // Untrusted text: no control characters (and so no escape sequences) reach the terminal.
  const text = sanitizeText(raw);
  if (!colour || typeof span === 'string') return text;
  const codes = `${span.bold ? BOLD : ''}${span.tone ? (ANSI[span.tone] ?? '') : ''}`;
  return codes ? `${codes}${text}${RESET}` : text;
}
