/**
 * Room power levels, and the permissions a configured minimum level grants (`power_levels:` under
 * chat.matrix). Computed from the state events themselves, by the spec's rules.
 */
import type { Permission } from '../../src/chat/permissions.js';

export interface PowerThresholds {
  operate?: number;
  force?: number;
}

export interface CreateEvent {
  sender: string;
  content: Record<string, unknown>;
}

/**
 * A user's power level. Since room version 12 the creators (the create event's sender and its
 * `additional_creators`) outrank every level; without m.room.power_levels the creator has 100.
 */
export function powerLevelOf(userId: string, powerLevels: unknown, create?: CreateEvent): number {
  if (create && creatorsOutrankAll(create.content.room_version)) {
    const extra = create.content.additional_creators;
    if (create.sender === userId || (Array.isArray(extra) && extra.includes(userId))) {
      return Number.POSITIVE_INFINITY;
    }
  }
  if (powerLevels === null || typeof powerLevels !== 'object') {
    return create?.sender === userId ? 100 : 0;
  }
  const { users, users_default: usersDefault } = powerLevels as { users?: unknown; users_default?: unknown };
  const own =
    users !== null && typeof users === 'object' ? (users as Record<string, unknown>)[userId] : undefined;
  if (isLevel(own)) return Number(own);
  return isLevel(usersDefault) ? Number(usersDefault) : 0;
}

/** Levels are integers; older rooms may still hold them as strings of digits. */
function isLevel(value: unknown): boolean {
  return (
    (typeof value === 'number' && Number.isInteger(value)) ||
    (typeof value === 'string' && /^-?\d+$/.test(value))
  );
}

function creatorsOutrankAll(version: unknown): boolean {
  if (version === 'org.matrix.hydra.11') return true;
  return typeof version === 'string' && /^\d+$/.test(version) && Number(version) >= 12;
}

/** The permissions a power level reaches. */
export function grantsFor(level: number, thresholds: PowerThresholds | undefined): Permission[] {
  if (!thresholds) return [];
  const out: Permission[] = [];
  if (thresholds.operate !== undefined && level >= thresholds.operate) out.push('operate');
  if (thresholds.force !== undefined && level >= thresholds.force) out.push('force');
  return out;
}
