import { defineCommand } from '../src/chat/command.js';
import { UserError } from '../src/errors.js';
import { qualifiedCases } from '../src/logs/regrtest.js';
import { reproCommands } from '../src/logs/repro.js';
import { type Line, reply, toneOf } from '../src/messages/message.js';
import { builderBranch } from '../src/state/branches.js';
import { BUILD_ARGS, pickBuild } from '../src/state/lookup.js';
import { issueTitle } from '../src/triage/report.js';

/**
 * The longest link each platform carries whole: an IRC line holds about 400 bytes (the short form
 * is given there), Discord refuses an embed link over 2,048 characters; the others take 8 KB.
 */
const LINK_BYTES: Readonly<Record<string, number>> = { irc: 0, discord: 2000 };

export const file = defineCommand({
  name: 'file',
  summary:
    'a pre-filled tracker issue for a failed build (title, build link, tests, traceback, seed, labels)',
  usage: '<builder> [build]',
  args: BUILD_ARGS,
  help: [
    'Example: !file PPC64LE Fedora Stable 3.x · !file PPC64LE Fedora Stable 3.x 1234',
    'Gives a GitHub new-issue link titled like "test_posix: TestPosixSpawn.test_x fails on PPC64LE Fedora Stable 3.x", with the build link,',
    'builder, worker, branch, revision, failing tests, the first traceback (cut to fit), the seed and the !repro commands.',
    'Nothing is filed until you open the link and submit it. Confirm an existing issue instead with !known <test> gh-N.',
  ],
  permission: 'read',
  async run(ctx) {
    if (!ctx.triage) throw new UserError('No issue tracker is set up for this bot.');
    const { builder, build } = pickBuild(ctx.fleet.builders(), ctx.args);
    const name = `${builder.name} #${build.number}`;
    const stored = await ctx.tests.analysis(builder.master, build, true);
    const a = stored?.analysis;
    const failing = a ? (a.failed.length > 0 ? a.failed : a.flaky) : [];
    if (!a || failing.length === 0) {
      throw new UserError(`${name}: no failing test in its log, so no test issue to file (see !why).`);
    }
    const facts = await ctx.triage.buildFacts(builder.master, build.buildid);
    // The builder's branch tag (3.x, 3.14) says the version; the build's branch property may say "main".
    const branch = builderBranch(builder.name, builder.tags) ?? facts?.branch;
    const tests = failing.map((test) => ({ test, cases: qualifiedCases(a, test) }));
    const flaky = a.failed.length === 0;
    const room = LINK_BYTES[ctx.platform];
    const urls = ctx.triage.report(
      {
        builder: builder.name,
        buildNumber: build.number,
        buildUrl: ctx.fleet.buildUrl(builder.master, builder.builderid, build.number),
        logUrl: stored?.logUrl,
        worker: facts?.worker,
        branch: facts?.branch ?? branch,
        revision: facts?.revision,
        tests,
        flaky,
        traceback: a.tracebacks[failing[0] as string],
        seed: a.seed,
        repro: reproCommands(a, failing),
        reproCommand: `!repro ${builder.name} ${build.number}`,
      },
      branch,
      room || undefined,
    );
    const lines: Line[] = [];
    // The watchers' rule: an issue that exists gets the build's link, not a duplicate.
    const known = (
      await Promise.all(
        failing.map(async (t) => (await ctx.tests.knownFor(t, builder.name)).map((k) => `${t} ${k.issue}`)),
      )
    ).flat();
    if (known.length > 0) {
      lines.push([
        `Already known: ${known.slice(0, 3).join(', ')}. Add the build's link there rather than file a new one.`,
      ]);
    }
    const short = room === 0;
    if (short) lines.push(['Short form (title, build link, labels): paste the traceback from !why into it.']);
    lines.push(['Nothing is filed until you open the link and submit it.']);
    return reply(lines, {
      title: [{ text: name, bold: true }, `: file "${issueTitle({ tests, builder: builder.name, flaky })}"`],
      tone: toneOf(build.results),
      link: { label: 'new issue', url: short ? urls.short : urls.full },
    });
  },
});
