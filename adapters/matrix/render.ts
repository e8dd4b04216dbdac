/**
 * A message as Matrix content: a plain `body` for every client, and an HTML `formatted_body`
 * (org.matrix.custom.html) with coloured results, bold, code, links and lists. Every piece of text
 * comes from build data or chat, so every piece is escaped; links are kept only for http(s) URLs.
 */
import {
  escapeHtml,
  type Line,
  type Message,
  safeHttpUrl,
  sanitizeText,
  type Span,
  spanText,
  type Tone,
} from '../../src/chat/render-kit.js';

/** Result colours, as Element and other clients show `data-mx-color`. */
const COLOUR: Partial<Record<Tone, string>> = {
  success: '#2e7d32',
  warnings: '#ef6c00',
  failure: '#c62828',
  exception: '#8e24aa',
  retry: '#00838f',
  cancelled: '#00838f',
  skipped: '#1565c0',
  building: '#f9a825',
};

export interface RenderedMatrix {
  body: string;
  html: string;
}

/** Escapes text for HTML element content and (double-quoted) attribute values. */
export { escapeHtml };

/** The URL when it is an absolute http(s) URL a link may point to, else undefined. */
export const safeUrl = safeHttpUrl;

/** Control characters (and so terminal escapes and line breaks) become spaces; nothing else changes. */
const clean = sanitizeText;

export function renderMatrix(message: Message): RenderedMatrix {
  const body: string[] = [];
  const html: string[] = [];
  if (message.title) {
    body.push(plainLine(message.title));
    html.push(`${htmlLine(message.title)}`);
  }
  const groups = groupLines(message.lines);
  for (const group of groups) {
    if (group.kind === 'line') {
      body.push(plainLine(group.line));
      const list = enumeration(group.line);
      html.push(
        list
          ? `${htmlLine(list.label)}<ul>${list.items.map((item) => `<li>${htmlLine(item)}</li>`).join('')}</ul>`
          : htmlLine(group.line),
      );
    } else {
      for (const item of group.items) body.push(`  • ${plainLine(item)}`);
      html.push(`<ul>${group.items.map((item) => `<li>${htmlLine(item)}</li>`).join('')}</ul>`);
    }
  }
  if (message.link) {
    const url = safeUrl(message.link.url);
    body.push(clean(url ?? message.link.url));
    if (url) html.push(`<a href="${escapeHtml(url)}">${escapeHtml(clean(message.link.label))}</a>`);
  }
  return { body: body.join('\n'), html: joinHtml(html) };
}

/** `<br>` between lines, but not next to a list (a block of its own). */
function joinHtml(parts: string[]): string {
  let out = '';
  parts.forEach((part, i) => {
    const previous = parts[i - 1];
    if (i > 0 && !part.startsWith('<ul>') && !previous?.endsWith('</ul>')) out += '<br>';
    out += part;
  });
  return out;
}

/**
 * `Failed: test_a (flaky 2×), test_b, … and 3 more` — a label, then code spans separated by
 * `, ` — is a list in HTML (the plain body keeps the one line). Two items at least.
 */
function enumeration(line: Line): { label: Line; items: Line[] } | undefined {
  const [label, ...rest] = line;
  if (typeof label !== 'string' || !/:\s*$/.test(label)) return undefined;
  const items: Line[] = [];
  let current: Line = [];
  for (const span of rest) {
    if (typeof span === 'string' && span.startsWith(', ')) {
      items.push(current);
      const remainder = span.slice(2);
      current = remainder ? [remainder] : [];
    } else {
      current.push(span);
    }
  }
  items.push(current);
  const led = items.filter((item) => typeof item[0] === 'object' && item[0].code === true);
  // Every item starts with a code span, except perhaps a closing "… and N more".
  if (led.length < 2 || led.length < items.length - 1 || items.some((item) => item.length === 0))
    return undefined;
  return { label: [label.replace(/\s+$/, '')], items };
}

type Group = { kind: 'line'; line: Line } | { kind: 'list'; items: Line[] };

/**
 * Lines that start with an indent (`  3f2a9c1e Jane: fix …` under `Changes since #1233:`, failing
 * tests under their heading) are the items of a list; the indent is dropped.
 */
function groupLines(lines: readonly Line[]): Group[] {
  const groups: Group[] = [];
  for (const line of lines) {
    const item = listItem(line);
    const last = groups[groups.length - 1];
    if (item === undefined) groups.push({ kind: 'line', line });
    else if (last?.kind === 'list') last.items.push(item);
    else groups.push({ kind: 'list', items: [item] });
  }
  return groups;
}

function listItem(line: Line): Line | undefined {
  const [first, ...rest] = line;
  if (first === undefined) return undefined;
  const text = spanText(first);
  if (!/^ {2,}/.test(text)) return undefined;
  const stripped = text.replace(/^ +/, '');
  if (stripped === '' && rest.length === 0) return undefined;
  const head: Span[] =
    stripped === '' ? [] : [typeof first === 'string' ? stripped : { ...first, text: stripped }];
  return [...head, ...rest];
}

function plainLine(line: Line): string {
  return line.map((span) => clean(spanText(span))).join('');
}

function htmlLine(line: Line): string {
  return line.map(htmlSpan).join('');
}

function htmlSpan(span: Span): string {
  const text = escapeHtml(clean(spanText(span)));
  if (typeof span === 'string') {
    // A bare URL (`Log: https://…`) is a link.
    const url = /^https?:\/\/\S+$/i.test(span) ? safeUrl(span) : undefined;
    return url ? `<a href="${escapeHtml(url)}">${text}</a>` : text;
  }
  let out = span.code ? `<code>${text}</code>` : text;
  if (span.bold) out = `<b>${out}</b>`;
  const colour = span.tone ? COLOUR[span.tone] : undefined;
  if (colour) out = `<font color="${colour}" data-mx-color="${colour}">${out}</font>`;
  const href = span.href === undefined ? undefined : safeUrl(span.href);
  if (href) out = `<a href="${escapeHtml(href)}">${out}</a>`;
  return out;
}

/**
 * The message cut to fit a Matrix event (65 536 bytes in all, JSON included): whole lines are
 * dropped from the end and counted, so a huge answer still arrives, shortened.
 */
export function fitMessage(message: Message, maxBytes: number): Message {
  const size = (m: Message) => {
    const r = renderMatrix(m);
    return Buffer.byteLength(JSON.stringify(r.body)) + Buffer.byteLength(JSON.stringify(r.html));
  };
  if (size(message) <= maxBytes) return message;
  let keep = message.lines.length;
  let cut: Message = message;
  while (keep > 0) {
    keep = Math.max(0, keep - Math.max(1, Math.ceil(keep / 8)));
    cut = {
      ...message,
      lines: [...message.lines.slice(0, keep), [`… ${message.lines.length - keep} more lines`]],
    };
    if (size(cut) <= maxBytes) return cut;
  }
  // Even the title alone is too long: keep its first characters.
  const title = message.title ? shortenLine(message.title, 2000) : undefined;
  return { ...cut, ...(title ? { title } : {}) };
}

function shortenLine(line: Line, max: number): Line {
  const text = plainLine(line);
  return [text.length <= max ? text : `${text.slice(0, max - 1)}…`];
}

/**
 * An m.image event for a message's picture, uploaded as `uri`: the alt text as its body (what
 * clients show in its place), in the command's thread when there was one, pinging no one.
 */
export function imageContent(
  image: NonNullable<Message['image']>,
  uri: string,
  thread?: string,
): Record<string, unknown> {
  return {
    msgtype: 'm.image',
    body: clean(image.alt),
    url: uri,
    info: {
      mimetype: image.mime,
      size: Buffer.from(image.data, 'base64').length,
      w: image.width,
      h: image.height,
    },
    'm.mentions': {},
    ...(thread ? { 'm.relates_to': { rel_type: 'm.thread', event_id: thread } } : {}),
  };
}
