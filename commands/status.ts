import { dashboardLine, defineCommand, unreachableLines } from '../src/chat/command.js';
import { formatDuration } from '../src/duration.js';
import { UserError } from '../src/errors.js';
import { type Line, reply, type Span, type Tone } from '../src/messages/message.js';
import { onBranch } from '../src/state/branches.js';
import type { BuilderStatus } from '../src/state/fleet.js';

const TAG_WORD = /^(stable|unstable|tier-\d)$/i;

/** The order colours are counted in, and their names in the summary. */
const COUNTED: Array<[Tone, string]> = [
  ['success', 'green'],
  ['warnings', 'orange'],
  ['failure', 'red'],
  ['exception', 'purple'],
  ['neutral', 'no builds yet'],
];

export const status = defineCommand({
  name: 'status',
  aliases: ['st'],
  summary: 'how the fleet (or a branch, or some builders) is doing, and which builders are red',
  usage: '[branch|builder text|all] [stable|unstable|tier-N]...',
  args: [
    { name: 'which', description: 'a branch (3.x), builder text, or all', kind: 'branch' },
    { name: 'tags', description: 'stable, unstable, tier-1 ... (all must match)', kind: 'tag', rest: true },
  ],
  help: [
    'Examples: !status 3.x · !status 3.14 stable · !status tier-1 · !status Windows · !status all',
    'A branch matches a builder tag or name suffix; other text matches builder names. Tags narrow it down.',
  ],
  permission: 'read',
  run(ctx) {
    const tags: string[] = [];
    const words: string[] = [];
    for (const arg of ctx.args) {
      if (TAG_WORD.test(arg)) tags.push(arg.toLowerCase());
      else if (arg.toLowerCase() !== 'all') words.push(arg);
    }
    let pool = ctx.fleet.builders();
    if (pool.length === 0) {
      const down = unreachableLines(ctx);
      if (down.length > 0) return reply([...down, ['No builders known yet: they load once it answers.']]);
      return reply(['No builders known yet: the bot is still loading them from the master.']);
    }
    let master: { name: string; url: string } | undefined;
    const masters = ctx.fleet.masters();
    let query = words.join(' ');
    const scope = /^([^:\s]+):(.*)$/.exec(query);
    if (scope && masters.some((m) => m.name === scope[1])) {
      master = masters.find((m) => m.name === scope[1]);
      pool = pool.filter((b) => b.master === master?.name);
      query = (scope[2] ?? '').trim();
    }
    let branch: string | undefined;
    if (query && pool.some((b) => onBranch(b.name, b.tags, query))) {
      branch = query;
      pool = pool.filter((b) => onBranch(b.name, b.tags, query));
    } else if (query) {
      const lower = query.toLowerCase();
      pool = pool.filter((b) => b.name.toLowerCase().includes(lower));
    }
    pool = pool.filter((b) => tags.every((t) => b.tags.some((bt) => bt.toLowerCase() === t)));
    const label = [query || 'all builders', ...tags].join(' ');
    if (pool.length === 0) throw new UserError(`No builder matches '${label.slice(0, 60)}'.`);

    const counts = new Map<Tone, number>();
    for (const b of pool) counts.set(summaryTone(b), (counts.get(summaryTone(b)) ?? 0) + 1);
    const title: Line = [
      { text: label, bold: true },
      `: ${pool.length} builder${pool.length === 1 ? '' : 's'} —`,
    ];
    let first = true;
    for (const [tone, name] of COUNTED) {
      const n = counts.get(tone) ?? 0;
      if (n === 0 && tone !== 'failure') continue;
      title.push(first ? ' ' : ', ', { text: `${n} ${name}`, tone });
      first = false;
    }

    const troubled = pool
      .filter((b) => b.colour === 'failure' || b.colour === 'exception')
      .sort((a, b) => redSince(a) - redSince(b));
    const dashboard = ctx.dashboard
      ? dashboardLine(
          ctx.dashboard.fleet({
            ...(branch ? { branch } : {}),
            tags,
            ...(master ? { master: master.name } : {}),
          }),
        )
      : undefined;
    const room = Math.max(1, ctx.lineLimit - 2 - (dashboard ? 1 : 0));
    const lines: Line[] = troubled
      .slice(0, room)
      .map((b) => troubleLine(b, ctx.fleet.buildUrl.bind(ctx.fleet)));
    const viewMaster = master ?? masters.find((m) => m.name === pool[0]?.master);
    const viewUrl = ctx.fleet.buildersViewUrl(viewMaster?.url ?? '', [...(branch ? [branch] : []), ...tags]);
    if (troubled.length > room) {
      lines.push([`… and ${troubled.length - room} more: ${viewUrl}`]);
    }
    if (dashboard) lines.push(dashboard);
    // Said last, and never cut: the counts above may be out of date.
    lines.push(...unreachableLines(ctx, [...new Set(pool.map((b) => b.master))]));
    return reply(lines, {
      title,
      tone: troubled.length > 0 ? 'failure' : 'success',
      ...(troubled.length > room ? {} : { link: { label: 'builders', url: viewUrl } }),
    });
  },
});

function summaryTone(b: BuilderStatus): Tone {
  return COUNTED.some(([tone]) => tone === b.colour) ? b.colour : 'neutral';
}

function redSince(b: BuilderStatus): number {
  return b.redStreak?.first.completeAt ?? b.last?.completeAt ?? Number.MAX_SAFE_INTEGER;
}

function troubleLine(b: BuilderStatus, buildUrl: (master: string, id: number, n: number) => string): Line {
  const spans: Span[] = [{ text: b.name, bold: true }, ' '];
  if (b.colour === 'exception' && b.last) {
    spans.push({ text: 'purple', tone: 'exception' }, ` (exception) at #${b.last.number} `);
    spans.push(buildUrl(b.master, b.builderid, b.last.number));
    return spans;
  }
  const streak = b.redStreak;
  if (!streak) return [...spans, { text: 'red', tone: 'failure' }];
  const since = streak.first.completeAt ? formatDuration(Date.now() - streak.first.completeAt * 1000) : '?';
  spans.push(
    { text: `red for ${streak.complete ? '' : 'at least '}${since}`, tone: 'failure' },
    `, since #${streak.first.number} `,
    buildUrl(b.master, b.builderid, streak.first.number),
  );
  return spans;
}
