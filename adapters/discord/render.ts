/**
 * The platform-neutral Message as one Discord embed: coloured by tone, the headline as the title
 * (linked to the build), indented groups (`Changes since #12:` and its lines) as fields, the rest
 * as the description — always within Discord's limits, with every piece of text escaped.
 */
import {
  cleanText,
  type Line,
  type Message,
  shorten,
  type Span,
  spanText,
  type Tone,
} from '../../src/chat/render-kit.js';
import { cutMarkdown, escapeLineStart, escapeText, inlineCode, maskedLink, safeUrl } from './markdown.js';

/** Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const LIMITS = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  /** Title, description, field names and values, footer and author name together. */
  total: 6000,
} as const;

/** Embed colours, by the colour words people use for results: green, orange, red, purple. */
export const TONE_COLOURS: Record<Tone, number> = {
  success: 0x2ea043,
  warnings: 0xf0883e,
  failure: 0xda3633,
  exception: 0x8957e5,
  skipped: 0x6cb6ff,
  retry: 0x39c5cf,
  cancelled: 0x768390,
  building: 0xd4a72c,
  neutral: 0x99aab5,
};

/** A coloured square before result words, since embed text itself cannot be coloured. */
const MARKERS: Partial<Record<Tone, string>> = {
  success: '🟩',
  warnings: '🟧',
  failure: '🟥',
  exception: '🟪',
};

/** One span of untrusted text is never longer than this before it is escaped. */
const MAX_SPAN = 300;

export interface EmbedField {
  name: string;
  value: string;
  inline?: boolean;
}

/** The subset of Discord's embed object bbwatch sends (APIEmbed-compatible). */
export interface Embed {
  title?: string;
  url?: string;
  description?: string;
  color: number;
  fields?: EmbedField[];
  /** The message's picture, sent as an attachment of the same message (`attachment://<name>`). */
  image?: { url: string };
}

/** A file sent with a message (multipart `files[0]`); Discord shows `description` as alt text. */
export interface Attachment {
  name: string;
  data: Buffer;
  contentType: string;
  description: string;
}

/** Discord's limit on an attachment's description (alt text). */
const MAX_ALT = 1024;

/** The message's image as an attachment, under a name `attachment://` can refer to. */
export function attachmentOf(message: Message): Attachment | undefined {
  const image = message.image;
  if (!image) return undefined;
  const name = image.name.replace(/[^A-Za-z0-9._-]/g, '_') || 'image.png';
  return {
    name,
    data: Buffer.from(image.data, 'base64'),
    contentType: image.mime,
    description: shorten(cleanText(image.alt), MAX_ALT),
  };
}

export function renderEmbed(message: Message): Embed {
  const embed: Embed = { color: TONE_COLOURS[message.tone ?? 'neutral'] };
  const link = message.link ? safeUrl(message.link.url) : undefined;
  const titleText = message.title ? cleanText(message.title.map(spanText).join('')) : '';
  if (titleText) embed.title = fitEscaped(titleText, LIMITS.title);
  if (link && embed.title) embed.url = link;

  const fields: EmbedField[] = [];
  if (message.kind === 'announcement') {
    // The builder is the headline's first bold span (the announcement builder puts it there).
    const builder = message.title?.find((s): s is Exclude<Span, string> => typeof s !== 'string' && !!s.bold);
    const name = builder ? fitEscaped(cleanText(builder.text), 200) : '';
    if (name) fields.push({ name: 'Builder', value: name, inline: true });
    if (link && message.link)
      fields.push({ name: 'Build', value: maskedLink(message.link.label, link), inline: true });
  }

  const { loose, groups } = splitGroups(message.lines, message.kind === 'announcement');
  const description = loose.map(renderLine);
  // A reply without a headline still shows its link, at the end of the text.
  if (link && message.link && !embed.title) description.push(maskedLink(message.link.label, link));
  for (const group of groups) {
    fields.push({
      name: fitEscaped(group.name, LIMITS.fieldName) || '\u200b',
      value: fitLines(group.lines.map(renderLine), LIMITS.fieldValue) || '\u200b',
    });
  }
  if (fields.length > LIMITS.fields) {
    const dropped = fields.splice(LIMITS.fields - 1);
    fields.push({ name: '…', value: `and ${dropped.length} more` });
  }
  if (fields.length > 0) embed.fields = fields;
  const attachment = attachmentOf(message);
  if (attachment) embed.image = { url: `attachment://${attachment.name}` };
  const text = fitLines(description, LIMITS.description);
  if (text) embed.description = text;
  return withinTotal(embed);
}

/**
 * The one deliberate ping a message may carry: its `mention`, when that is a Discord user (who
 * forced a build). Everything else in a message pings no one.
 */
export function deliberateMention(message: Message): { content: string; userId: string } | undefined {
  const id = /^discord:user:(\d{1,20})$/.exec(message.mention?.identity ?? '')?.[1];
  return id ? { content: `<@${id}>`, userId: id } : undefined;
}

/** How many characters of an embed count towards Discord's 6000 (UTF-16 units: at least as many). */
export function embedSize(embed: Embed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0)
  );
}

/**
 * Lines that end in `:` followed by lines indented two spaces are a group (a field). In an
 * announcement, a line that starts with a label span (`Failed: `, `Log: `) is a field too. The
 * other lines stay loose (the description).
 */
function splitGroups(
  lines: readonly Line[],
  labelled: boolean,
): { loose: Line[]; groups: Array<{ name: string; lines: Line[] }> } {
  const loose: Line[] = [];
  const groups: Array<{ name: string; lines: Line[] }> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Line;
    const text = line.map(spanText).join('');
    const body: Line[] = [];
    while (i + 1 < lines.length && /^ {2}\S/.test((lines[i + 1] as Line).map(spanText).join(''))) {
      body.push(lines[++i] as Line);
    }
    const [first, ...rest] = line;
    const label = typeof first === 'string' ? /^([A-Z][^:]{0,40}): $/.exec(first) : null;
    if (/:\s*$/.test(text) && !/^\s/.test(text) && body.length > 0) {
      groups.push({ name: cleanText(text).replace(/:$/, ''), lines: body.map(dedent) });
    } else if (labelled && label?.[1] && rest.length > 0 && body.length === 0) {
      groups.push({ name: label[1], lines: [rest] });
    } else {
      loose.push(line, ...body);
    }
  }
  return { loose, groups };
}

/** The line without its two leading spaces (a field shows its own structure). */
function dedent(line: Line): Line {
  const [first, ...rest] = line;
  if (typeof first === 'string') return [first.replace(/^ {2}/, ''), ...rest];
  if (first) return [{ ...first, text: first.text.replace(/^ {2}/, '') }, ...rest];
  return line;
}

function renderLine(line: Line): string {
  return escapeLineStart(line.map(renderSpan).join('').trimEnd());
}

function renderSpan(span: Span): string {
  const raw = shorten(spanText(span), MAX_SPAN);
  if (typeof span === 'string') return escapeText(raw);
  let text = span.code ? inlineCode(raw) : escapeText(raw);
  if (!text.trim()) return text;
  if (span.href && !span.code) text = maskedLink(raw, span.href);
  if (span.bold) text = `**${text}**`;
  const marker = span.tone ? MARKERS[span.tone] : undefined;
  return marker ? `${marker} ${text}` : text;
}

/** Escaped text of at most `max` characters, cut on the plain text so no escape is split. */
function fitEscaped(text: string, max: number): string {
  let escaped = escapeText(text);
  let keep = Array.from(text).length;
  while (escaped.length > max && keep > 0) {
    keep = Math.max(0, keep - Math.max(1, escaped.length - max));
    escaped = escapeText(shorten(text, keep));
  }
  return escaped.length > max ? cutMarkdown(escaped, max) : escaped;
}

/** Whole lines up to `max` characters in all; what does not fit becomes `… and N more lines`. */
function fitLines(lines: readonly string[], max: number): string {
  const cut = lines.map((l) => cutMarkdown(l, max));
  for (let n = cut.length; n >= 0; n--) {
    const more = cut.length - n;
    const note = more > 0 ? [`… and ${more} more line${more === 1 ? '' : 's'}`] : [];
    const text = [...cut.slice(0, n), ...note].join('\n');
    if (text.length <= max) return text;
  }
  return '';
}

/** Trims the description, then fields from the end, until the embed is within 6000 characters. */
function withinTotal(embed: Embed): Embed {
  while (embedSize(embed) > LIMITS.total) {
    const over = embedSize(embed) - LIMITS.total;
    if (embed.description && embed.description.length > over + 20) {
      const lines = embed.description.split('\n');
      embed.description = fitLines(lines, embed.description.length - over - 1);
    } else if (embed.fields && embed.fields.length > 0) {
      embed.fields.pop();
      if (embed.fields.length === 0) delete embed.fields;
    } else if (embed.description) {
      delete embed.description;
    } else {
      break; // the title alone is at most 256
    }
  }
  return embed;
}
