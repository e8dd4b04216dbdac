/**
 * Who may invite the bot into a room: `invites_from` lists user ids (`@alice:example.org`) and
 * servers (`example.org`, everyone on it). Anyone else's invite is declined.
 */

/** The server part of a user id: everything after the first `:` (it may carry a port). */
export function serverOf(userId: string): string {
  const at = userId.indexOf(':');
  return at < 0 ? '' : userId.slice(at + 1).toLowerCase();
}

export function inviteAllowed(inviter: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) =>
    entry.startsWith('@')
      ? entry === inviter
      : entry.replace(/^[*]?:/, '').toLowerCase() === serverOf(inviter),
  );
}
