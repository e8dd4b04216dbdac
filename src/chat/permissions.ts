/** What a command may need. Everyone may read; the other levels are granted in `permissions:`. */
export type Permission = 'read' | 'operate' | 'force';

export type PermissionGrants = Readonly<Record<Exclude<Permission, 'read'>, readonly string[]>>;

/**
 * The one permission check. Identities are exact (`irc:alice`, `console`); `*` grants everyone
 * the platform vouches for. A sender with no identity (not logged in) only ever reads.
 */
export function isAllowed(
  grants: PermissionGrants,
  identity: string | undefined,
  permission: Permission,
): boolean {
  if (permission === 'read') return true;
  if (identity === undefined) return false;
  const list = grants[permission];
  return list.includes(identity) || list.includes('*');
}
