import { defineCommand } from '../src/chat/command.js';
import { formatDuration } from '../src/duration.js';
import { UserError } from '../src/errors.js';
import { type Line, reply, toneOf } from '../src/messages/message.js';
import { BUILD_ARGS, pickBuild } from '../src/state/lookup.js';
import { failureReasons } from '../src/triage/targets.js';

/** How far back `!similar` looks. */
export const SIMILAR_DAYS = 30;
/** Builds listed per reason, newest first. */
const PER_REASON = 8;
/** Reasons of one build compared (its first failed tests). */
const MAX_REASONS = 3;

/** `test_x.test_y: AssertionError: <n> != <n>` from a reason key (`test id \n normalised error`). */
function reasonText(key: string): string {
  const [test = '', error = ''] = key.split('\n');
  return error ? `${test}: ${error}` : `${test} (no error line in the log)`;
}

export const similar = defineCommand({
  name: 'similar',
  summary: `the builds that failed the same way in the last ${SIMILAR_DAYS} days`,
  usage: '<builder> [build]',
  args: [
    BUILD_ARGS[0] as (typeof BUILD_ARGS)[number],
    { name: 'build', description: 'the build number (default: the latest red one)', kind: 'integer' },
  ],
  help: [
    "Same way: the same failing test and the same error line, numbers, addresses, temporary paths and worker names masked (a failure's reason, as LUCI Analysis clusters them).",
    'Example: !similar AMD64 Debian root 3.x · !similar AMD64 Debian root 3.x 1234',
  ],
  permission: 'read',
  async run(ctx) {
    const { builder, build } = pickBuild(ctx.fleet.builders(), ctx.args, ['failure']);
    const name = `${builder.name} #${build.number}`;
    // Stored with the build's analysis; read (or waited for) when the build was not analysed yet.
    let reasons = await ctx.tests.reasonsOf(builder.master, build.buildid);
    if (reasons.length === 0) {
      const stored = await ctx.tests.analysis(builder.master, build, false);
      reasons = await ctx.tests.reasonsOf(builder.master, build.buildid);
      // Analysed before reasons were kept: the same reasons, from the stored analysis.
      if (reasons.length === 0 && stored?.analysis) reasons = failureReasons(stored.analysis);
    }
    if (reasons.length === 0)
      throw new UserError(`${name}: no failing test to compare (${ctx.prefix}why ${builder.name} says why).`);
    const compared = reasons.slice(0, MAX_REASONS);
    const found = await ctx.tests.sameReason(
      compared.map((r) => r.key),
      SIMILAR_DAYS,
      { master: builder.master, buildid: build.buildid },
      PER_REASON,
    );
    const now = Date.now();
    const lines: Line[] = [];
    let total = 0;
    for (const reason of compared) {
      const builds = found.filter((b) => b.key === reason.key);
      total += builds.length;
      // The reason once, then its builds.
      lines.push([{ text: reasonText(reason.key), code: true }]);
      if (builds.length === 0) lines.push(['  no other build']);
      for (const b of builds) {
        let url: string | undefined;
        try {
          url = ctx.fleet.buildUrl(b.master, b.builderid, b.number);
        } catch {
          url = undefined; // a master no longer watched
        }
        lines.push([
          `  ${b.builder} #${b.number}, ${formatDuration(Math.max(0, now - b.completedAt * 1000))} ago`,
          ...(url ? [' ', { text: url, href: url }] : []),
        ]);
      }
    }
    if (reasons.length > MAX_REASONS)
      lines.push([`… and ${reasons.length - MAX_REASONS} more failing tests, not compared.`]);
    const count = total === 0 ? 'no other build' : `${total} other build${total === 1 ? '' : 's'}`;
    return reply(lines, {
      title: [
        { text: name, bold: true },
        `: ${count} failed the same way in the last ${SIMILAR_DAYS} days`,
        total >= PER_REASON * compared.length ? ' (the newest shown)' : '',
      ],
      tone: toneOf(build.results),
    });
  },
});
