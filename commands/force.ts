import { defineCommand } from '../src/chat/command.js';
import { UsageError } from '../src/errors.js';
import { options, outcomeReply, requester } from './control-reply.js';

export const force = defineCommand({
  name: 'force',
  summary: 'force builds of a builder or group, optionally of a repository and branch',
  usage: '<builder-group|builder> [<repository path> <branch-or-revision>] [--reason "..."] [--yes]',
  args: [
    {
      name: 'target',
      description: 'a builder, or a group: a tag or a name suffix (custom)',
      kind: 'builder',
      required: true,
    },
    {
      name: 'repository',
      description: 'a repository path inside the project (sandbox/myfixes)',
      kind: 'text',
    },
    { name: 'branch', description: 'a branch name or commit id', kind: 'text' },
    { name: 'reason', description: 'why, for the master and its audit trail', kind: 'text', flag: true },
    {
      name: 'yes',
      description: 'go ahead without confirming, however many builders',
      kind: 'switch',
      flag: true,
    },
  ],
  help: [
    'Examples: !force AMD64 Debian root 3.x · !force custom sandbox/myfixes mybranch --reason "try the fix"',
    "Repositories resolve against the master's repository base and must match its allowed pattern.",
    'Many builders at once need --yes or a !confirm within a minute.',
  ],
  permission: 'force',
  audited: true,
  async run(ctx) {
    const { words, reason, yes } = options(ctx.args);
    if (words.length === 0) throw new UsageError('Which builder or group?');
    return outcomeReply(ctx, await ctx.control.force(requester(ctx), { words, reason, yes }));
  },
});
