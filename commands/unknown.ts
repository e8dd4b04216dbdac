import { defineCommand } from '../src/chat/command.js';
import { UsageError, UserError } from '../src/errors.js';
import { normalizeIssue, normalizeTestName } from '../src/logs/known.js';
import { reply } from '../src/messages/message.js';

export const unknown = defineCommand({
  name: 'unknown',
  summary: 'detach tracker issues from a test',
  usage: '<test> [issue]',
  args: [
    { name: 'test', description: 'the test', kind: 'test', required: true },
    { name: 'issue', description: 'only this issue (default: all of the test)', kind: 'text' },
  ],
  help: ['Example: !unknown test_ssl gh-12345'],
  permission: 'operate',
  async run(ctx) {
    const [testArg, issueArg, ...extra] = ctx.args;
    if (!testArg || extra.length > 0) throw new UsageError('Which test (and optionally which issue)?');
    const test = normalizeTestName(testArg);
    const issue = issueArg ? normalizeIssue(issueArg) : undefined;
    const removed = await ctx.tests.removeKnown(test, issue);
    if (removed === 0) throw new UserError(`${test} has no known issue${issue ? ` ${issue}` : ''}.`);
    return reply([`Removed ${removed} known issue${removed === 1 ? '' : 's'} from ${test}.`]);
  },
});
