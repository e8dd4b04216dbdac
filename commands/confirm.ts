import { defineCommand } from '../src/chat/command.js';
import { outcomeReply, requester } from './control-reply.js';

export const confirm = defineCommand({
  name: 'confirm',
  aliases: ['yes'],
  summary: 'go ahead with the !force that asked for confirmation (within a minute)',
  usage: '',
  permission: 'force',
  audited: true,
  async run(ctx) {
    return outcomeReply(ctx, await ctx.control.confirm(requester(ctx)));
  },
});
