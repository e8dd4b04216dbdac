/**
 * Who wrote a message or ran a command, as Discord vouches for it: the user's id as identity
 * (`discord:user:<id>`) and the member's role ids (`discord:role:<id>`, the guild's own id being
 * @everyone). Names — display names, nicknames, role names — never grant anything.
 */
import type { Sender } from '../../src/chat/adapter.js';
import { cleanText, shorten } from '../../src/chat/render-kit.js';

/** What discord.js gives for a member: a cached GuildMember, or the raw API member (role ids). */
export interface MemberLike {
  roles: readonly string[] | { cache: { keys(): Iterable<string> } };
  displayName?: string;
  nick?: string | null;
}

export interface UserLike {
  id: string;
  username: string;
  globalName?: string | null;
}

export function senderOf(
  user: UserLike,
  member: MemberLike | null | undefined,
  guildId: string | null,
): Sender {
  const roleIds = new Set<string>(
    member ? (isRoleIdList(member.roles) ? member.roles : [...member.roles.cache.keys()]) : [],
  );
  // Every member has @everyone, whose id is the guild's; the raw API member does not list it.
  if (member && guildId) roleIds.add(guildId);
  const display = member?.displayName ?? member?.nick ?? user.globalName ?? user.username;
  return {
    identity: `discord:user:${user.id}`,
    name: shorten(cleanText(display), 64) || user.id,
    roles: [...roleIds].map((id) => `discord:role:${id}`),
  };
}

function isRoleIdList(roles: MemberLike['roles']): roles is readonly string[] {
  return Array.isArray(roles);
}
