/**
 * The one home of what makes untrusted text (build data, chat, the master's answers) safe to show:
 * control characters out, HTML escaped, link targets checked. The message model's `cleanText`,
 * every adapter's renderer and the dashboard use these.
 */

/**
 * What must never reach a chat line or a terminal: C0 and C1 control characters (CR and LF end
 * an IRC line, ESC starts a terminal sequence, \x02-\x1f are IRC formatting codes), DEL, the
 * Unicode line and paragraph separators, bidi marks, overrides and isolates, and the BOM.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/**
 * Untrusted text with every unsafe character a space (same length, spacing kept) and unpaired
 * surrogates, which cannot be encoded as UTF-8, as U+FFFD.
 */
export function sanitizeText(text: string): string {
  return text.replace(UNSAFE, ' ').replace(LONE_SURROGATE, '\ufffd');
}

/** As sanitizeText, with terminal escape sequences (colours in a build log) removed first. */
export function stripControls(text: string): string {
  return sanitizeText(text.replace(ANSI_ESCAPE, ''));
}

const HTML_SPECIAL = /[&<>"'`]/;
const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for HTML element content and for quoted attribute values. */
export function escapeHtml(text: string): string {
  return HTML_SPECIAL.test(text) ? text.replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c] ?? c) : text;
}

/**
 * The URL when it is an absolute http(s) URL a link may point to (normalised, with quotes and
 * angle brackets percent-encoded), else undefined: no `javascript:`, `data:` or `//host`.
 */
export function safeHttpUrl(url: string | undefined | null): string | undefined {
  if (!url) return undefined;
  // The common case (a build link on the master) without parsing: a plain http(s) URL.
  if (/^https?:\/\/[^\s<>"'`\\/]+\/[^\s<>"'`\\]*$/i.test(url)) return url;
  const trimmed = url.trim();
  if (!/^https?:\/\//i.test(trimmed)) return undefined;
  try {
    const parsed = new URL(trimmed);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}
