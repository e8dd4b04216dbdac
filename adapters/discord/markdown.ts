/**
 * Untrusted text (builder names, state strings, commit subjects, what users typed) as Discord
 * markdown that shows exactly that text: no formatting, no links or headings it did not ask for,
 * no mentions, no line breaks. Embeds never ping, and every send also says `allowed_mentions:
 * {parse: []}`; neutralising the syntax as well keeps `@everyone` from even looking like a mention.
 */

import { safeHttpUrl, stripControls } from '../../src/chat/render-kit.js';

const ZERO_WIDTH_SPACE = '\u200b';

/** `@everyone`/`@here` with a zero-width space after the `@`: reads the same, mentions nobody. */
export function neutraliseMentions(text: string): string {
  return text.replace(/@(everyone|here)/gi, `@${ZERO_WIDTH_SPACE}$1`);
}

const URL_PATTERN = /https?:\/\/[^\s<>"`]+/g;

/**
 * Escapes inline markdown (`\ * _ ~ \` | [ ] <`) so that the text shows as written; `<` covers
 * user, role and channel mentions, custom emoji and timestamps. URLs are kept as they are so
 * Discord still links them.
 */
export function escapeText(text: string): string {
  const clean = neutraliseMentions(stripControls(text));
  let out = '';
  let last = 0;
  for (const match of clean.matchAll(URL_PATTERN)) {
    out += escapeInline(clean.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return out + escapeInline(clean.slice(last));
}

function escapeInline(text: string): string {
  return text.replace(/[\\*_~`|[\]<>]/g, '\\$&');
}

/**
 * Escapes what would make a line a heading, quote or list item (`# `, `> `, `- `, `+ `, `1. `),
 * whatever text the line starts with.
 */
export function escapeLineStart(line: string): string {
  return line.replace(/^(\s*)([#>+-])/, '$1\\$2').replace(/^(\s*\d+)\.(\s)/, '$1\\.$2');
}

/** Inline code: backticks inside become look-alikes (a code span cannot escape them). */
export function inlineCode(text: string): string {
  const inner = neutraliseMentions(stripControls(text)).replace(/`/g, 'ˋ').trim();
  return inner ? `\`${inner}\`` : '';
}

/** A URL safe to put in `[text](url)` or an embed's `url`: http(s) only, no spaces or parentheses. */
export function safeUrl(url: string): string | undefined {
  const trimmed = stripControls(url).trim();
  const href = /\s/.test(trimmed) ? undefined : safeHttpUrl(trimmed);
  if (!href || href.length > 2000) return undefined;
  return href.replace(/[()<>"`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `[text](url)` with the text escaped; only the text when the URL is not usable. */
export function maskedLink(text: string, url: string): string {
  const href = safeUrl(url);
  const label = escapeText(text) || href || '';
  return href ? `[${label}](${href})` : label;
}

/**
 * Cuts rendered markdown to at most `max` characters (UTF-16 units, the stricter count), marking the
 * cut with an ellipsis and never leaving a lone escaping backslash at the end.
 */
export function cutMarkdown(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1); // half a surrogate pair
  const backslashes = /\\*$/.exec(cut)?.[0].length ?? 0;
  if (backslashes % 2 === 1) cut = cut.slice(0, -1);
  return `${cut}…`;
}
