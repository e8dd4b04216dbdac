/**
 * Keeps a guild's slash commands equal to bbwatch's: reads what Discord has, and only when it
 * differs overwrites the whole list in one request — which adds new commands, updates changed ones
 * and removes those bbwatch no longer has. Unchanged definitions cost no write (Discord limits
 * command creations per day).
 */
import { type REST, Routes } from 'discord.js';
import { canonical, type CommandJson } from './slash.js';

export type SyncResult = 'unchanged' | 'updated';

export async function syncGuildCommands(
  rest: REST,
  applicationId: string,
  guildId: string,
  wanted: readonly CommandJson[],
): Promise<SyncResult> {
  const route = Routes.applicationGuildCommands(applicationId, guildId);
  const existing = (await rest.get(route)) as Array<Parameters<typeof canonical>[0]>;
  if (sameSet(existing.map(canonical), wanted.map(canonical))) return 'unchanged';
  await rest.put(route, { body: wanted });
  return 'updated';
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = (x: string[]) => [...x].sort();
  const [sa, sb] = [sorted(a), sorted(b)];
  return sa.every((v, i) => v === sb[i]);
}
