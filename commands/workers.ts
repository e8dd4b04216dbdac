import { defineCommand } from '../src/chat/command.js';
import { formatDuration } from '../src/duration.js';
import { UsageError, UserError } from '../src/errors.js';
import { reply } from '../src/messages/message.js';

export const workers = defineCommand({
  name: 'workers',
  summary: 'the workers and whether they are connected (or only the offline ones)',
  usage: '[offline]',
  args: [
    {
      name: 'filter',
      description: 'offline: only the workers not connected',
      kind: 'text',
      choices: ['offline'],
    },
  ],
  help: [
    'From the master (asked at most every 30 s). Offline workers first, with how long they have been away when the bot saw them go.',
    'To hear when a worker disappears and comes back: !notify on worker.',
  ],
  permission: 'read',
  async run(ctx) {
    if (!ctx.workers) throw new UserError('Workers are not available here.');
    const [filter, ...extra] = ctx.args;
    if (extra.length > 0 || (filter !== undefined && filter.toLowerCase() !== 'offline'))
      throw new UsageError('Only "offline" may follow');
    const offlineOnly = filter !== undefined;
    const { workers: all, unreachable } = await ctx.workers.list();
    if (all.length === 0 && unreachable.length > 0)
      throw new UserError(
        `Cannot ask ${unreachable.map((u) => u.master).join(', ')} for its workers: ${unreachable[0]?.error ?? ''}`,
      );
    const showMaster = new Set(all.map((w) => w.master)).size > 1;
    const list = all
      .filter((w) => !offlineOnly || !w.connected)
      .sort((a, b) => Number(a.connected) - Number(b.connected) || a.name.localeCompare(b.name));
    const offline = all.filter((w) => !w.connected).length;
    const title = `${all.length} worker${all.length === 1 ? '' : 's'}: ${all.length - offline} connected, ${offline} offline`;
    if (offlineOnly && list.length === 0) return reply([`${title}.`]);
    const room = Math.max(1, ctx.lineLimit - 1);
    const now = ctx.workers.now();
    const lines = list.slice(0, room).map((w) => {
      const name = `${showMaster ? `${w.master}:` : ''}${w.name}`;
      if (w.connected) return `${name} connected (${w.builders} builder${w.builders === 1 ? '' : 's'})`;
      const away = w.offlineSince !== undefined ? ` for ${formatDuration(now - w.offlineSince)}` : '';
      return `${name} OFFLINE${away} (${w.builders} builder${w.builders === 1 ? '' : 's'})`;
    });
    if (list.length > room) lines.push(`… and ${list.length - room} more`);
    for (const u of unreachable) lines.push(`${u.master}: not answering (${u.error.slice(0, 120)})`);
    return reply(lines, { title: [title] });
  },
});
