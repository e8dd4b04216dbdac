import { defineCommand, withCommandPrefix } from '../src/chat/command.js';
import { PermissionError, UsageError } from '../src/errors.js';
import { patternProblem } from '../src/config/pattern.js';
import { normalizeIssue, normalizeTestName } from '../src/logs/known.js';
import { reply } from '../src/messages/message.js';

export const known = defineCommand({
  name: 'known',
  summary: 'attach a tracker issue to a test (or list those attached)',
  usage: '[<test> <issue-url-or-id> [builder regex]]',
  args: [
    { name: 'test', description: 'the test (test_ssl or test.test_ssl)', kind: 'test' },
    { name: 'issue', description: 'gh-1234, #1234, or the issue URL', kind: 'text' },
    { name: 'builders', description: 'only on builders matching this regular expression', kind: 'text' },
  ],
  help: [
    'Examples: !known test_ssl gh-12345 · !known test_os https://github.com/python/cpython/issues/1 FreeBSD · !known',
    'Announcements and !flaky then say "known: gh-12345"; failures without a known issue are listed first.',
    'Adding needs the operate permission; !unknown removes.',
  ],
  permission: 'read',
  async run(ctx) {
    if (ctx.args.length === 0) {
      const all = await ctx.tests.knownIssues();
      if (all.length === 0)
        return reply([
          withCommandPrefix('No known issues recorded. Add one with !known <test> <issue>.', ctx.prefix),
        ]);
      const room = Math.max(1, ctx.lineLimit - 1);
      const lines = all
        .slice(0, room)
        .map((k) => [
          { text: k.test, code: true },
          ` ${k.issue}`,
          k.builders ? ` (builders /${k.builders}/)` : '',
          k.addedBy ? ` — ${k.addedBy}` : '',
        ]);
      if (all.length > room) lines.push([`… and ${all.length - room} more`]);
      return reply(lines, { title: [`Known issues (${all.length}):`] });
    }
    if (!ctx.can('operate'))
      throw new PermissionError(`Changing known issues needs the 'operate' permission.`);
    const [testArg, issueArg, ...rest] = ctx.args;
    if (!testArg || !issueArg) throw new UsageError('Which test, and which issue?');
    const test = normalizeTestName(testArg);
    const issue = normalizeIssue(issueArg);
    const builders = rest.length > 0 ? rest.join(' ') : null;
    const problem = builders !== null ? patternProblem(builders) : undefined;
    if (builders !== null && problem !== undefined) {
      throw new UsageError(`'${builders.slice(0, 40)}' is not a valid regular expression: ${problem}`);
    }
    const added = await ctx.tests.addKnown(test, issue, builders, ctx.sender.identity ?? null);
    return reply([
      added
        ? `${test} is now known as ${issue}${builders ? ` on builders matching /${builders}/` : ''}.`
        : `${test} was already known as ${issue}${builders ? ` on /${builders}/` : ''}.`,
    ]);
  },
});
