import { defineCommand } from '../src/chat/command.js';
import { formatDuration } from '../src/duration.js';
import { UsageError } from '../src/errors.js';
import { type Line, reply, type Span, type Tone, TONE_COLOUR, toneOf } from '../src/messages/message.js';
import { findBuilder } from '../src/state/lookup.js';

/** Short result words, readable without colour (bbreport's capsule, in words). */
const WORD: Partial<Record<Tone, string>> = {
  success: 'ok',
  warnings: 'warn',
  failure: 'FAIL',
  skipped: 'skip',
  exception: 'EXC',
  retry: 'retry',
  cancelled: 'cancel',
};

export const last = defineCommand({
  name: 'last',
  summary: "a builder's last builds as a row of results, newest first",
  usage: '<builder> [count]',
  args: [
    {
      name: 'builder',
      description: 'the builder (or text only its name contains)',
      kind: 'builder',
      required: true,
    },
    { name: 'count', description: 'how many builds (default 10)', kind: 'integer' },
  ],
  help: [
    'Example: !last AMD64 Debian root 3.x — or any text only one builder name contains.',
    'A trailing number picks how many builds to show (default 10).',
  ],
  permission: 'read',
  run(ctx) {
    const args = [...ctx.args];
    let count = 10;
    const tail = args.at(-1);
    if (args.length > 1 && tail && /^\d+$/.test(tail)) {
      count = Math.min(30, Math.max(1, Number(tail)));
      args.pop();
    }
    if (args.length === 0) throw new UsageError('Which builder?');
    const builder = findBuilder(ctx.fleet.builders(), args.join(' '));
    const builds = builder.recent.slice(0, count);
    const master = ctx.fleet.masters().length > 1 ? ` [${builder.master}]` : '';
    if (builds.length === 0) {
      return reply([`${builder.name}${master}: no finished builds known yet.`], {
        link: { label: 'builder', url: ctx.fleet.builderUrl(builder.master, builder.builderid) },
      });
    }
    const row: Span[] = [];
    for (const b of builds) {
      if (row.length > 0) row.push(' ');
      row.push({ text: `#${b.number} ${WORD[toneOf(b.results)] ?? '?'}`, tone: toneOf(b.results) });
    }
    const lines: Line[] = [row];
    if (builder.last) {
      const colour = TONE_COLOUR[builder.colour];
      const streak = builder.redStreak;
      if (streak?.first.completeAt) {
        const span = formatDuration(Date.now() - streak.first.completeAt * 1000);
        lines.push([`Red for ${streak.complete ? '' : 'at least '}${span}, since #${streak.first.number}.`]);
      } else if (colour) {
        lines.push([`Now ${colour} (#${builder.last.number}: ${builder.last.stateString || 'finished'}).`]);
      }
    }
    return reply(lines, {
      title: [{ text: builder.name, bold: true }, `${master}: last ${builds.length} builds`],
      tone: builder.colour,
      link: { label: 'builder', url: ctx.fleet.builderUrl(builder.master, builder.builderid) },
    });
  },
});
