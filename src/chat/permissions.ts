import type { Sender } from './adapter.js';

/** What a command may need. Everyone may read; the other levels are granted in `permissions:`. */
export type Permission = 'read' | 'operate' | 'force';

export type PermissionGrants = Readonly<Record<Exclude<Permission, 'read'>, readonly string[]>>;

/**
 * The one permission check. Identities are exact (`irc:alice`, `discord:role:42`, `console`); `*`
 * grants everyone the platform vouches for. A sender with no identity (not logged in) only reads,
 * unless the platform itself grants the permission by a rule its adapter was configured with.
 */
export function isAllowed(grants: PermissionGrants, sender: Sender, permission: Permission): boolean {
  if (permission === 'read') return true;
  if (sender.platformGrants?.includes(permission)) return true;
  if (sender.identity === undefined) return false;
  const list = grants[permission];
  if (list.includes('*')) return true;
  return [sender.identity, ...(sender.roles ?? [])].some((id) => list.includes(id));
}
