import { defineCommand, type CommandContext } from '../src/chat/command.js';
import { formatDuration, parseDuration } from '../src/duration.js';
import { PermissionError, UsageError, UserError } from '../src/errors.js';
import { reply } from '../src/messages/message.js';

import { findBuilder } from '../src/state/lookup.js';

type MuteView = NonNullable<CommandContext['mutes']>;

function mutesOf(ctx: CommandContext): MuteView {
  if (!ctx.mutes) throw new UserError('Muting is not available here.');
  return ctx.mutes;
}

function needOperate(ctx: CommandContext, what: string): void {
  if (!ctx.can('operate')) throw new PermissionError(`${what} needs the 'operate' permission.`);
}

function durationArg(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`'${text.slice(0, 20)}' is not a duration (2h, 30m, 1d)`);
  return ms;
}

function until(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** ` (capped at 7 d)` when the duration asked for is longer than the maximum. */
function capped(mutes: MuteView, asked: number | undefined): string {
  return asked !== undefined && asked > mutes.maxMs ? ` (capped at ${formatDuration(mutes.maxMs)})` : '';
}

export const mute = defineCommand({
  name: 'mute',
  summary: 'silence announcements in this channel for a while (they are held back and summarised)',
  usage: '[duration]',
  args: [{ name: 'duration', description: 'how long: 30m, 2h, 1d (default 1 h)', kind: 'duration' }],
  help: [
    'Example: !mute 2h. Announcements meant for this channel are recorded, not sent; when the mute ends (!unmute, or its time is up) the channel hears how many were held back, and which.',
    '!mute again moves the end. Needs the operate permission.',
  ],
  permission: 'read',
  async run(ctx) {
    const mutes = mutesOf(ctx);
    needOperate(ctx, 'Muting');
    if (ctx.args.length > 1) throw new UsageError('Only a duration, please');
    const asked = ctx.args[0] === undefined ? undefined : durationArg(ctx.args[0]);
    const { until: end, extended } = await mutes.mute(ctx.room, asked, ctx.sender.identity);
    return reply([
      `${ctx.room} ${extended ? 'stays' : 'is'} muted for ${formatDuration(end - mutes.now())}${capped(mutes, asked)}, until ${until(end)}. ${ctx.prefix}unmute ends it.`,
    ]);
  },
});

export const unmute = defineCommand({
  name: 'unmute',
  summary: 'end the mute in this channel, with a summary of what was held back',
  usage: '',
  permission: 'read',
  async run(ctx) {
    const mutes = mutesOf(ctx);
    needOperate(ctx, 'Unmuting');
    const summary = await mutes.unmute(ctx.room);
    if (!summary) return reply([`${ctx.room} is not muted.`]);
    return reply(summary, { title: [`${ctx.room} is unmuted.`] });
  },
});

export const snooze = defineCommand({
  name: 'snooze',
  summary: "silence one builder's announcements everywhere for a while (or list snoozes)",
  usage: '[<builder> [duration|off]]',
  args: [
    { name: 'builder', description: 'the builder (alone: list the snoozes)', kind: 'builder' },
    { name: 'duration', description: 'how long (default 1 h), or off', kind: 'duration' },
  ],
  help: [
    'Example: !snooze AMD64 Debian root 3.x 4h while someone works on it; !snooze AMD64 Debian root 3.x off ends it.',
    'Its announcements are held back in every channel; when the snooze ends, each channel that missed some hears which. Alone: the snoozes in force.',
    'Needs the operate permission.',
  ],
  permission: 'read',
  async run(ctx) {
    const mutes = mutesOf(ctx);
    if (ctx.args.length === 0) {
      const snoozes = mutes.status(ctx.room).snoozes;
      if (snoozes.length === 0) return reply(['No builder is snoozed.']);
      return reply(
        snoozes.map((s) => `${s.target} until ${until(s.until)}${s.setBy ? ` (by ${s.setBy})` : ''}`),
        { title: [`Snoozed (${snoozes.length}):`] },
      );
    }
    needOperate(ctx, 'Snoozing');
    const args = [...ctx.args];
    const tail = args.at(-1) ?? '';
    let asked: number | undefined;
    let off = false;
    if (args.length > 1 && tail.toLowerCase() === 'off') {
      off = true;
      args.pop();
    } else if (args.length > 1 && parseDuration(tail) !== undefined) {
      asked = durationArg(tail);
      args.pop();
    }
    const builder = findBuilder(ctx.fleet.builders(), args.join(' ')).name;
    if (off) {
      const held = await mutes.unsnooze(builder);
      if (held === undefined) return reply([`${builder} is not snoozed.`]);
      return reply([
        `${builder} is no longer snoozed (${held} announcement${held === 1 ? '' : 's'} had been held back).`,
      ]);
    }
    const { until: end, extended } = await mutes.snooze(builder, asked, ctx.sender.identity);
    return reply([
      `${builder} ${extended ? 'stays' : 'is'} snoozed everywhere for ${formatDuration(end - mutes.now())}${capped(mutes, asked)}, until ${until(end)}.`,
    ]);
  },
});
