import { defineCommand } from '../src/chat/command.js';
import { UsageError } from '../src/errors.js';
import { outcomeReply, requester } from './control-reply.js';

export const rebuild = defineCommand({
  name: 'rebuild',
  summary: 'build a finished build again, with the same sources and properties',
  usage: '<builder> <build>',
  args: [
    { name: 'builder', description: 'the builder (its exact name)', kind: 'builder', required: true },
    { name: 'build', description: 'the build number', kind: 'integer', required: true },
  ],
  help: ['Example: !rebuild AMD64 Debian root 3.x 1234'],
  permission: 'force',
  audited: true,
  async run(ctx) {
    if (ctx.args.length < 2) throw new UsageError('Which builder, and which build?');
    return outcomeReply(ctx, await ctx.control.rebuild(requester(ctx), ctx.args));
  },
});
