/**
 * The platform-neutral message: what commands and announcements produce and what every adapter
 * renders in its own idiom (plain text on the console, colours on IRC, embeds on Discord, HTML on
 * Matrix). Text inside is untrusted (it comes from build data and chat) until an adapter renders it.
 */

import { Results } from '../buildbot/results.js';
import { stripControls } from './safe-text.js';

/** Colours a span or a whole message takes: Buildbot's results, plus states that are not results. */
export type Tone =
  | 'success'
  | 'warnings'
  | 'failure'
  | 'exception'
  | 'skipped'
  | 'retry'
  | 'cancelled'
  | 'building'
  | 'neutral';

export interface StyledSpan {
  text: string;
  tone?: Tone;
  bold?: boolean;
  /** Monospace: revisions, test names, commands. */
  code?: boolean;
  href?: string;
}

export type Span = string | StyledSpan;
export type Line = Span[];

export interface Link {
  label: string;
  url: string;
}

export interface Message {
  /** Announcements are pushed by the bot; replies answer a command. */
  kind: 'announcement' | 'reply';
  tone?: Tone;
  /** The headline: one short line that must make sense alone (IRC may show nothing else). */
  title?: Line;
  lines: Line[];
  /** The one link the message is about (a build, the master's own view). */
  link?: Link;
  /**
   * The one person the message is for (who forced a build): adapters that can may mention them
   * for real; the title already starts with their name for those that cannot.
   */
  mention?: { name: string; identity: string | undefined };
  /**
   * Meant for the sender alone (a refusal): platforms that can show a reply to one user only
   * (Discord's ephemeral replies) do; the others send it as usual.
   */
  private?: boolean;
  /**
   * A picture that goes with the text (the digest's chart), for platforms that show images
   * (Discord, Matrix). The text must stand without it: IRC and the console leave it out.
   */
  image?: MessageImage;
  /**
   * What a reader may do about the message, each as the command it stands for (`known test_posix
   * gh-12345`): platforms with buttons (Discord) show one per action and run its command for
   * whoever clicks, with that person's permissions, as if they had typed it; the others leave
   * them out (the message's lines name the commands).
   */
  actions?: MessageAction[];
}

export interface MessageAction {
  /** The button's words (`It's gh-12345`). */
  label: string;
  /** The command line without its prefix (`known test_posix gh-12345`). */
  command: string;
}

export interface MessageImage {
  /** The file name (letters, digits, `.`, `-`, `_`), as platforms name attachments. */
  name: string;
  mime: 'image/png';
  /** The bytes, base64: messages wait in the outbox as JSON. */
  data: string;
  /** What it shows, in words: alt text, or the body where no picture is shown. */
  alt: string;
  width: number;
  height: number;
}

export function reply(
  lines: Array<Line | string>,
  extra: Partial<Omit<Message, 'kind' | 'lines'>> = {},
): Message {
  return { kind: 'reply', lines: lines.map((l) => (typeof l === 'string' ? [l] : l)), ...extra };
}

export function spanText(span: Span): string {
  return typeof span === 'string' ? span : span.text;
}

export function lineText(line: Line): string {
  return line.map(spanText).join('');
}

/** Buildbot result code → tone. */
export function toneOf(results: number | null | undefined): Tone {
  switch (results) {
    case Results.SUCCESS:
      return 'success';
    case Results.WARNINGS:
      return 'warnings';
    case Results.FAILURE:
      return 'failure';
    case Results.SKIPPED:
      return 'skipped';
    case Results.EXCEPTION:
      return 'exception';
    case Results.RETRY:
      return 'retry';
    case Results.CANCELLED:
      return 'cancelled';
    default:
      return 'building';
  }
}

/** The colour words people use for Buildbot results. */
export const TONE_COLOUR: Record<Tone, string> = {
  success: 'green',
  warnings: 'orange',
  failure: 'red',
  exception: 'purple',
  skipped: 'skipped',
  retry: 'retry',
  cancelled: 'cancelled',
  building: 'building',
  neutral: '',
};

/**
 * Removes what must never reach a chat line from untrusted text: control characters (CR, LF,
 * IRC formatting codes, ANSI escapes), bidi overrides; runs of white space become one space.
 */
export function cleanText(text: string): string {
  return stripControls(text).replace(/\s+/g, ' ').trim();
}

/** Cuts text to at most `max` characters, marking the cut with an ellipsis. */
export function shorten(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}
