import { defineCommand } from '../src/chat/command.js';
import { UsageError } from '../src/errors.js';
import { options, outcomeReply, requester } from './control-reply.js';

export const stop = defineCommand({
  name: 'stop',
  summary: "stop a builder's running build (or all of its running builds)",
  usage: '<builder> [build] [--reason "..."]',
  args: [
    { name: 'builder', description: 'the builder (its exact name)', kind: 'builder', required: true },
    { name: 'build', description: 'the build number (default: every running build)', kind: 'integer' },
    { name: 'reason', description: 'why, for the master and its audit trail', kind: 'text', flag: true },
  ],
  help: ['Example: !stop AMD64 Debian root 3.x 1234 --reason "wrong branch"'],
  permission: 'force',
  audited: true,
  async run(ctx) {
    const { words, reason } = options(ctx.args);
    if (words.length === 0) throw new UsageError('Which builder?');
    return outcomeReply(ctx, await ctx.control.stop(requester(ctx), words, reason));
  },
});
