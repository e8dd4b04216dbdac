import { sanitizeText } from '../../src/chat/render-kit.js';

/**
 * What untrusted text (build data, chat) may put on an IRC line. IRC has no escaping: a CR or LF
 * ends the line and starts a new command, NUL truncates it, \x01 starts CTCP, \x02-\x1f are
 * formatting codes. So every C0 and C1 control character, DEL, the Unicode line and paragraph
 * separators, bidi overrides and BOMs become spaces; unpaired surrogates (which cannot be encoded
 * as UTF-8) become U+FFFD: the message model's sanitizeText, which says so for every platform.
 * Untrusted text made safe for one IRC line (same length in characters, spaces where it was unsafe).
 */
export function sanitize(text: string): string {
  return sanitizeText(text);
}

/** IRC formatting codes (bold, colour with its digits, reset, ...) as users type them. */
const FORMATTING =
  /\x03(\d{1,2}(,\d{1,2})?)?|\x04[0-9a-fA-F]{0,6}(,[0-9a-fA-F]{6})?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;

/** Incoming chat text as a command: formatting codes removed, other control characters as spaces. */
export function plainIncoming(text: string): string {
  return sanitize(text.replace(FORMATTING, ''));
}
