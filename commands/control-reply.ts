import type { ControlOutcome, Requester } from '../src/control/service.js';
import type { CommandContext } from '../src/chat/command.js';
import { type Line, reply, type Message } from '../src/messages/message.js';

/** The requester, as the control service records them. */
export function requester(ctx: CommandContext): Requester {
  return { identity: ctx.sender.identity, name: ctx.sender.name, platform: ctx.platform, room: ctx.room };
}

/** Splits `--reason "..."`, `--reason=...` and `--yes` from the other words. */
export function options(args: readonly string[]): {
  words: string[];
  reason: string | undefined;
  yes: boolean;
} {
  const words: string[] = [];
  let reason: string | undefined;
  let yes = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--yes' || a === '-y') yes = true;
    else if (a === '--reason') reason = args[++i];
    else if (a.startsWith('--reason=')) reason = a.slice(9);
    else words.push(a);
  }
  return { words, reason, yes };
}

/** The reply to a control command, from what the service did. */
export function outcomeReply(ctx: CommandContext, outcome: ControlOutcome): Message {
  if (outcome.kind === 'confirm') {
    return reply(
      [
        [
          `That starts ${outcome.builders.length} builders: ${outcome.builders.slice(0, 6).join(', ')}${outcome.builders.length > 6 ? ', …' : ''}.`,
        ],
        [
          `Say ${ctx.prefix}confirm within ${outcome.seconds} s to go ahead, or repeat the command with --yes.`,
        ],
      ],
      { tone: 'warnings' },
    );
  }
  if (outcome.kind === 'stopped') {
    return reply([`Stopping ${outcome.builds.map((b) => `${b.builder} #${b.number}`).join(', ')}.`]);
  }
  const lines: Line[] = outcome.requests.map((url) => [url]);
  const what = outcome.repository
    ? ` with ${outcome.repository} at ${outcome.branch}`
    : outcome.branch
      ? ` at ${outcome.branch}`
      : '';
  return reply(lines, {
    title: [
      `Requested ${outcome.builders.length === 1 ? outcome.builders[0] : `${outcome.builders.length} builders`}${what}; `,
      `you will hear when ${outcome.builders.length === 1 ? 'it starts and finishes' : 'they start and finish'}:`,
    ],
    tone: 'building',
  });
}
