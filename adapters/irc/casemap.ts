/**
 * IRC compares nicks and channel names case-insensitively by the server's CASEMAPPING:
 * `ascii` folds A-Z; `rfc1459` (the default) also folds []\~ to {}|^; `strict-rfc1459` folds []\.
 */
export type Fold = (text: string) => string;

export function foldFor(casemapping: string | undefined): Fold {
  const mapping = (casemapping ?? 'rfc1459').toLowerCase();
  const ascii = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (mapping === 'ascii') return ascii;
  const extra: Record<string, string> =
    mapping === 'strict-rfc1459'
      ? { '[': '{', ']': '}', '\\': '|' }
      : { '[': '{', ']': '}', '\\': '|', '~': '^' };
  return (text) => ascii(text).replace(/[[\]\\~]/g, (c) => extra[c] ?? c);
}

/** Whether a target is a channel (by the server's CHANTYPES; `#&` when it did not say). */
export function isChannel(target: string, chantypes: readonly string[] = ['#', '&']): boolean {
  return target.length > 1 && chantypes.includes(target[0] as string);
}
