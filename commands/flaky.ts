import { formatDistanceStrict } from 'date-fns/formatDistanceStrict';
import { dashboardLine, defineCommand } from '../src/chat/command.js';
import { UsageError, UserError } from '../src/errors.js';
import { sameTest } from '../src/logs/regrtest.js';
import type { TestStats } from '../src/logs/history.js';
import { type Line, reply } from '../src/messages/message.js';

const OUTCOME_WORDS: Array<[keyof TestStats['counts'], string]> = [
  ['flaky', 'flaky'],
  ['failed', 'failed'],
  ['envChanged', 'env changed'],
  ['crashed', 'crashed'],
  ['timedOut', 'timed out'],
  ['leaked', 'leaked'],
];

export const flaky = defineCommand({
  name: 'flaky',
  summary: 'how flaky a test is (or the flakiest tests of the week)',
  usage: '[test] [days]',
  args: [
    { name: 'test', description: 'a test (test_ssl, test.test_os, or a unique prefix)', kind: 'test' },
    { name: 'days', description: 'how far back (default 30 for a test, 7 for the list)', kind: 'integer' },
  ],
  help: [
    'Examples: !flaky test_ssl · !flaky test_asyncio 90 · !flaky (the flakiest tests of the last 7 days)',
    'Counts come from the test logs of red and orange builds the bot has read.',
  ],
  permission: 'read',
  async run(ctx) {
    const args = [...ctx.args];
    let days: number | undefined;
    const last = args.at(-1);
    if (last !== undefined && /^\d+$/.test(last)) {
      days = Number(last);
      args.pop();
      if (days < 1 || days > 3650) throw new UsageError('Days must be between 1 and 3650');
    }
    if (args.length > 1) throw new UsageError('One test at a time');
    const now = Date.now();
    const ago = (epoch: number) => formatDistanceStrict(epoch * 1000, now, { addSuffix: true });
    const [query] = args;
    if (!query) {
      const period = days ?? 7;
      const dashboard = ctx.dashboard ? [dashboardLine(ctx.dashboard.flaky())] : [];
      const top = await ctx.tests.flakiest(period, Math.max(1, ctx.lineLimit - 1 - dashboard.length));
      if (top.length === 0) return reply([`No flaky test seen in the last ${period} days.`, ...dashboard]);
      return reply(
        [
          ...top.map((s): Line => [
            { text: s.test, code: true },
            ` ${summary(s)} on ${plural(s.builders.length, 'builder')}, last ${ago(s.lastAt)}`,
          ]),
          ...dashboard,
        ],
        { title: [`Flakiest tests, last ${period} days:`] },
      );
    }
    const period = days ?? 30;
    const matches = await ctx.tests.resolveTest(query);
    if (matches.length === 0) throw new UserError(`No history for a test named '${query.slice(0, 60)}'.`);
    if (matches.length > 1) {
      const shown = matches.slice(0, 5).join(', ');
      throw new UserError(
        `'${query.slice(0, 60)}' matches ${matches.length} tests: ${shown}${matches.length > 5 ? ', …' : ''}.`,
      );
    }
    const test = matches[0] as string;
    const stats = await ctx.tests.stats(test, period);
    if (!stats) return reply([`${test}: nothing notable in the last ${period} days.`]);
    const lines: Line[] = [
      [
        `Seen in ${plural(stats.builds, 'build')} on ${plural(stats.builders.length, 'builder')}`,
        stats.branches.length > 0 ? ` (${stats.branches.join(', ')})` : '',
        `; first ${ago(stats.firstAt)}, last ${ago(stats.lastAt)}: `,
        `${stats.latest.builder} #${stats.latest.number} (${OUTCOME_WORDS.find(([k]) => k === stats.latest.outcome)?.[1] ?? stats.latest.outcome}).`,
      ],
    ];
    const known = (await ctx.tests.knownIssues()).filter((k) => sameTest(k.test, test));
    if (known.length > 0)
      lines.push([`Known: ${known.map((k) => k.issue + (k.builders ? ` (${k.builders})` : '')).join(', ')}`]);
    if (ctx.dashboard) lines.push(dashboardLine(ctx.dashboard.test(test)));
    return reply(lines, {
      title: [{ text: test, code: true }, `: ${summary(stats)} in the last ${period} days`],
      tone: stats.counts.failed ? 'failure' : 'warnings',
      link: {
        label: 'latest',
        url: ctx.fleet.buildUrl(stats.latest.master, stats.latest.builderid, stats.latest.number),
      },
    });
  },
});

function summary(stats: TestStats): string {
  const parts = OUTCOME_WORDS.flatMap(([key, word]) =>
    stats.counts[key] ? [`${word} ${stats.counts[key]}×`] : [],
  );
  return parts.join(', ') || 'nothing notable';
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
