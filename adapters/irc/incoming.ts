import type { Fold } from './casemap.js';
import { plainIncoming } from './sanitize.js';

/** The dispatcher's command prefix (its default); lines starting with it are commands. */
export const COMMAND_PREFIX = '!';

export interface CommandLine {
  /** The command as the dispatcher reads it (`!status 3.x`, or `status 3.x` when addressed). */
  text: string;
  /** Addressed to the bot (`bbwatch: status`, `bbwatch, status`, or a private message). */
  addressed: boolean;
}

/**
 * Whether a PRIVMSG is a command for the bot, and its text. In a channel: `!cmd`, or the bot's
 * nick followed by `:` or `,`; in a private message, every line. Formatting codes are removed.
 * Anything else is channel chatter and is not for the bot.
 */
export function commandLine(
  raw: string,
  opts: { nicks: readonly string[]; direct: boolean; fold: Fold },
): CommandLine | undefined {
  const text = plainIncoming(raw).trim();
  if (text === '') return undefined;
  const address = /^([^\s:,]+)\s*[:,]\s*(.*)$/.exec(text);
  if (address) {
    const folded = opts.fold(address[1] as string);
    if (opts.nicks.some((n) => opts.fold(n) === folded)) {
      const rest = (address[2] as string).trim();
      return rest === '' ? undefined : { text: rest, addressed: true };
    }
  }
  if (opts.direct) return { text, addressed: true };
  if (text.startsWith(COMMAND_PREFIX) && text.length > COMMAND_PREFIX.length)
    return { text, addressed: false };
  return undefined;
}
