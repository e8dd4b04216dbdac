import { defineCommand } from '../src/chat/command.js';
import { UserError } from '../src/errors.js';
import { reproCommands } from '../src/logs/repro.js';
import { reply } from '../src/messages/message.js';
import { BUILD_ARGS, pickBuild } from '../src/state/lookup.js';

export const repro = defineCommand({
  name: 'repro',
  summary: 'the command that reproduces a failed build locally (same flags and random seed)',
  usage: '<builder> [build]',
  args: BUILD_ARGS,
  help: [
    'Example: !repro AMD64 Debian root 3.x',
    'The first command runs the failing tests alone; if they pass alone, the second runs the whole suite in the',
    "build's order (same --randseed) to catch a failure that depends on which tests ran before.",
  ],
  permission: 'read',
  async run(ctx) {
    const { builder, build } = pickBuild(ctx.fleet.builders(), ctx.args);
    const stored = await ctx.tests.analysis(builder.master, build, false);
    const name = `${builder.name} #${build.number}`;
    if (!stored?.analysis) throw new UserError(`${name}: no test summary found, so nothing to reproduce.`);
    const a = stored.analysis;
    const tests = a.failed.length > 0 ? a.failed : a.flaky;
    if (tests.length === 0) throw new UserError(`${name}: no failing test in its log.`);
    const commands = reproCommands(a, tests);
    return reply(
      [
        [{ text: commands.alone, code: true }],
        [{ text: commands.inOrder, code: true }],
        ...(a.seed === undefined ? [['The random seed is not in the log: the order may differ.']] : []),
      ],
      {
        title: [`Reproduce ${name}`, a.seed !== undefined ? ` (seed ${a.seed})` : '', ':'],
        ...(stored.logUrl ? { link: { label: 'log', url: stored.logUrl } } : {}),
      },
    );
  },
});
