import { defineCommand } from '../src/chat/command.js';
import { PermissionError, UsageError, UserError } from '../src/errors.js';
import { reply } from '../src/messages/message.js';
import { NOTIFY_EVENTS } from '../src/config/schema.js';
import { parseEvents, parseFilters } from '../src/config/rule-args.js';

export const notify = defineCommand({
  name: 'notify',
  summary: 'what this channel is notified of: list, or turn events on and off',
  usage: '[list | on <events> [branch ...] [tag:<tag> ...] [builder regex] | off <events>]',
  args: [
    { name: 'action', description: 'list, on or off', kind: 'text', choices: ['list', 'on', 'off'] },
    { name: 'events', description: `comma-separated: ${NOTIFY_EVENTS.join(', ')} or all`, kind: 'text' },
    {
      name: 'filters',
      description: 'branches (3.x), tag:<tag>, then a builder regular expression',
      kind: 'text',
      rest: true,
    },
  ],
  help: [
    `Events: ${NOTIFY_EVENTS.join(', ')} (or all). Examples: !notify on failure,recovery 3.x tag:stable · !notify on worker · !notify off flaky`,
    "failure is a red build whose tests failed; infra is a red build that is not a test's (compile, checkout, lost worker, killed for silence or time, full disk) and its recovery. worker brings infra unless infra is turned off.",
    'The config gives each channel its defaults; on adds to them (one runtime rule per event: on again replaces its filters), off silences an event here even when the config gives it.',
    'Changing needs the operate permission (or being a channel operator where the platform says so).',
  ],
  permission: 'read',
  async run(ctx) {
    const subs = ctx.subscriptions;
    if (!subs) throw new UserError('Subscriptions are not available here.');
    const [action = 'list', eventsArg, ...rest] = ctx.args;
    const verb = action.toLowerCase();
    if (verb === 'list') {
      const lines = subs.list(ctx.room);
      const muted = ctx.mutes?.status(ctx.room).room;
      const mutedLine = muted
        ? [`Muted until ${new Date(muted.until).toISOString().slice(0, 16).replace('T', ' ')} UTC.`]
        : [];
      if (lines.length === 0)
        return reply([
          `${ctx.room} is notified of nothing. Try ${ctx.prefix}notify on failure,recovery [3.x] [tag:stable] [builder regex].`,
          ...mutedLine,
        ]);
      return reply(
        [
          ...lines.map((l) => {
            const where = l.filters ? `: ${l.filters}` : ': every builder';
            const event = l.via ? `${l.event} (with ${l.via})` : l.event;
            if (l.source === 'config' && !l.active)
              return `${event} — config${where} — turned off here${l.setBy ? ` by ${l.setBy}` : ''}`;
            return `${event} — ${l.source}${where}${l.source === 'runtime' && l.setBy ? ` (set by ${l.setBy})` : ''}`;
          }),
          ...mutedLine,
        ],
        { title: [`${ctx.room} is notified of:`] },
      );
    }
    if (verb !== 'on' && verb !== 'off')
      throw new UsageError(`'${action.slice(0, 20)}' is not list, on or off`);
    if (!ctx.can('operate'))
      throw new PermissionError(`Changing what ${ctx.room} is notified of needs the 'operate' permission.`);
    if (!eventsArg) throw new UsageError('Which events?');
    let events;
    try {
      events = parseEvents(eventsArg);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (verb === 'off') {
      if (rest.length > 0) throw new UsageError('off takes only events');
      await subs.off(ctx.room, events, ctx.sender.identity);
      return reply([`${ctx.room} will no longer be notified of ${events.join(', ')}.`]);
    }
    let filters;
    try {
      filters = parseFilters(rest);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    await subs.on(ctx.room, events, filters, ctx.sender.identity);
    const what = [
      filters.branches ? `branches ${filters.branches.join(', ')}` : '',
      filters.tags ? `tags ${filters.tags.join(', ')}` : '',
      filters.builders ? `builders /${filters.builders}/` : '',
    ]
      .filter((x) => x)
      .join('; ');
    return reply([`${ctx.room} will be notified of ${events.join(', ')}${what ? ` (${what})` : ''}.`]);
  },
});
