import { dashboardLine, defineCommand } from '../src/chat/command.js';
import { UserError } from '../src/errors.js';
import { type Line, reply, toneOf } from '../src/messages/message.js';
import { BUILD_ARGS, pickBuild } from '../src/state/lookup.js';

/** Traceback lines shown per test: the innermost frames and the exception. */
const TRACE_LINES = 3;

export const why = defineCommand({
  name: 'why',
  summary: 'why a build failed: its failing tests with the end of each traceback',
  usage: '<builder> [build]',
  args: BUILD_ARGS,
  help: ['Example: !why AMD64 Debian root 3.x · !why AMD64 Debian root 3.x 1234'],
  permission: 'read',
  async run(ctx) {
    const { builder, build } = pickBuild(ctx.fleet.builders(), ctx.args);
    const stored = await ctx.tests.analysis(builder.master, build, true);
    const name = `${builder.name} #${build.number}`;
    if (!stored?.analysis) {
      throw new UserError(`${name}: no test summary found${stored?.error ? ` (${stored.error})` : ''}.`);
    }
    const a = stored.analysis;
    const failing = a.failed.length > 0 ? a.failed : a.flaky;
    const lines: Line[] = [];
    const dashboard = ctx.dashboard
      ? dashboardLine(ctx.dashboard.builder(builder.master, builder.name))
      : undefined;
    const room = Math.max(2, ctx.lineLimit - 2 - (dashboard ? 1 : 0));
    for (const test of failing) {
      if (lines.length >= room) break;
      const cases = a.cases[test] ?? [];
      lines.push([
        { text: test, code: true, bold: true },
        a.flaky.includes(test) ? ' (passed on re-run)' : '',
        cases.length > 0 ? `: ${cases.slice(0, 4).join(', ')}${cases.length > 4 ? ', …' : ''}` : '',
      ]);
      const trace = (a.tracebacks[test] ?? []).filter((l) => l.trim() !== '' && l.trim() !== '…');
      for (const l of trace.slice(-TRACE_LINES)) {
        if (lines.length >= room) break;
        lines.push(['  ', { text: l.trim(), code: true }]);
      }
    }
    if (failing.length === 0)
      lines.push([a.summaryFound ? 'No failing test in the summary.' : 'No test summary found in the log.']);
    const omitted = failing.filter(
      (t) => !lines.some((l) => l.some((s) => typeof s !== 'string' && s.text === t)),
    ).length;
    if (omitted > 0) lines.push([`… and ${omitted} more failing tests; see the log.`]);
    if (a.partial) lines.push(['The log ends early (killed or timed out?): this may not be all.']);
    if (dashboard) lines.push(dashboard);
    const what =
      a.failed.length > 0
        ? `${a.failed.length} failing test${a.failed.length === 1 ? '' : 's'}`
        : a.flaky.length > 0
          ? 'flaky only'
          : 'no failing test';
    return reply(lines, {
      title: [{ text: name, bold: true }, ` (${a.result ?? 'unfinished'}): ${what}`],
      tone: toneOf(build.results),
      ...(stored.logUrl ? { link: { label: 'log', url: stored.logUrl } } : {}),
    });
  },
});
