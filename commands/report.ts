import { defineCommand } from '../src/chat/command.js';
import { UsageError, UserError } from '../src/errors.js';

export const report = defineCommand({
  name: 'report',
  aliases: ['digest'],
  summary: "the digest of the last days: failure rates, red streaks, flakiest tests, what's new",
  usage: '[days]',
  args: [{ name: 'days', description: 'how far back (default 7)', kind: 'integer' }],
  help: [
    'Examples: !report · !report 30',
    'Builders with red builds and their failure rate, the longest red streaks, the flakiest tests with',
    'their trend against the period before, and the tests and builders that failed since the last',
    'scheduled digest (or in the period). Answered from the bot’s history: no request to the master.',
  ],
  permission: 'read',
  run(ctx) {
    if (ctx.args.length > 1) throw new UsageError('At most one argument');
    const [arg] = ctx.args;
    if (arg !== undefined && !/^\d+$/.test(arg))
      throw new UsageError(`'${arg.slice(0, 20)}' is not a number of days`);
    const days = arg === undefined ? 7 : Number(arg);
    if (days < 1 || days > 365) throw new UsageError('Days must be between 1 and 365');
    if (!ctx.reports) throw new UserError('Reports are not available here.');
    return ctx.reports.report(days);
  },
});
