/**
 * Which room messages are for the bot: `!commands` anywhere, text addressed to it
 * (`bbwatch: status`, a mention pill, an intentional mention), and everything in a direct chat.
 * Pure functions over the event's content, so the rules are tested without a homeserver.
 */

export interface BotNames {
  userId: string;
  /** The bot's display name in the room, if it has one. */
  displayName?: string;
}

export interface Command {
  text: string;
  addressed: boolean;
}

/** What a content object says, as far as commands go. */
export function readCommand(
  content: Record<string, unknown>,
  bot: BotNames,
  isDirect: boolean,
): Command | undefined {
  // Notices are what bots send: answering them would let two bots talk forever. Emotes are not commands.
  if (content.msgtype !== 'm.text') return undefined;
  if (typeof content.body !== 'string') return undefined;
  const relates = content['m.relates_to'] as { rel_type?: unknown } | undefined;
  if (relates?.rel_type === 'm.replace') return undefined; // an edit of an earlier message
  const body = stripReplyFallback(content.body).trim();
  const mentioned = mentionsBot(content, bot.userId);

  const rest = afterLeadingMention(body, bot, mentioned);
  if (rest !== undefined) return { text: rest, addressed: true };
  if (isDirect) return { text: body, addressed: true };
  if (body.startsWith('!')) return { text: body, addressed: false };
  return undefined;
}

/** Replies from older clients quote the original: `> <@a:b> text` lines, then a blank line. */
export function stripReplyFallback(body: string): string {
  if (!body.startsWith('> ')) return body;
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && (lines[i] ?? '').startsWith('>')) i++;
  if (i < lines.length && lines[i] === '') i++;
  return lines.slice(i).join('\n');
}

function mentionsBot(content: Record<string, unknown>, userId: string): boolean {
  const mentions = content['m.mentions'] as { user_ids?: unknown } | undefined;
  return Array.isArray(mentions?.user_ids) && mentions.user_ids.includes(userId);
}

/**
 * The text after a leading mention of the bot, or undefined. Clients write a mention as the
 * display name (Element's pill: `bbwatch: status`), the localpart, or the full user id; a `:` or
 * `,` must follow, unless the message also carries an intentional mention of the bot.
 */
function afterLeadingMention(body: string, bot: BotNames, mentioned: boolean): string | undefined {
  const localpart = bot.userId.slice(1).split(':')[0] ?? '';
  const names = [bot.userId, bot.displayName, localpart]
    .filter((n): n is string => Boolean(n))
    .sort((a, b) => b.length - a.length);
  const lower = body.toLowerCase();
  for (const name of names) {
    for (const candidate of [name, `@${name}`]) {
      if (!lower.startsWith(candidate.toLowerCase())) continue;
      const after = body.slice(candidate.length);
      const separated = /^\s*[:,]/.exec(after);
      if (separated) return after.slice(separated[0].length).trim();
      if (mentioned && /^\s/.test(after)) return after.trim();
    }
  }
  return undefined;
}
