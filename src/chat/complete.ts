import type { FleetView } from '../state/fleet.js';
import { builderBranch } from '../state/branches.js';
import type { ArgKind, CommandInfo } from './command.js';

/**
 * Completions for an argument being typed (Discord autocomplete and the like): names that start
 * with the prefix first, then names that contain it, each group sorted, at most `limit`.
 */
export function completions(
  fleet: FleetView,
  commands: readonly CommandInfo[],
  kind: ArgKind,
  prefix: string,
  limit = 25,
): string[] {
  let pool: string[];
  switch (kind) {
    case 'builder':
      pool = fleet.builders().map((b) => b.name);
      break;
    case 'branch':
      pool = fleet.builders().flatMap((b) => builderBranch(b.name, b.tags) ?? []);
      break;
    case 'tag':
      pool = fleet.builders().flatMap((b) => b.tags);
      break;
    case 'command':
      pool = commands.map((c) => c.name);
      break;
    default:
      return [];
  }
  const wanted = prefix.trim().toLowerCase();
  const unique = [...new Set(pool)].sort((a, b) => a.localeCompare(b));
  const starts = unique.filter((n) => n.toLowerCase().startsWith(wanted));
  const contains = unique.filter(
    (n) => !n.toLowerCase().startsWith(wanted) && n.toLowerCase().includes(wanted),
  );
  return [...starts, ...contains].slice(0, limit);
}
