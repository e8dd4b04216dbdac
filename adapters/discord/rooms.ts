/**
 * Where a Discord message goes, as the core's destination string: `discord:<channel id>` for a
 * channel (announcements), with `#reply:<message id>` to answer a `!command` as a reply to it, or
 * `#interaction:<id>` to answer a slash command through its interaction (deferred, ephemeral).
 */

export interface DiscordTarget {
  channelId: string;
  replyTo?: string;
  interactionId?: string;
}

const ROOM = /^discord:(\d{1,20})(?:#(reply|interaction):(\d{1,20}))?$/;

export function parseRoom(room: string): DiscordTarget {
  const match = ROOM.exec(room);
  if (!match)
    throw new Error(`'${room.slice(0, 80)}' is not a Discord destination (write discord:<channel id>)`);
  const [, channelId = '', kind, id] = match;
  if (kind === 'reply') return { channelId, replyTo: id as string };
  if (kind === 'interaction') return { channelId, interactionId: id as string };
  return { channelId };
}

export function channelRoom(channelId: string): string {
  return `discord:${channelId}`;
}

export function replyRoom(channelId: string, messageId: string): string {
  return `discord:${channelId}#reply:${messageId}`;
}

export function interactionRoom(channelId: string, interactionId: string): string {
  return `discord:${channelId}#interaction:${interactionId}`;
}
