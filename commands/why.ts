import { dashboardLine, defineCommand } from '../src/chat/command.js';
import { UserError } from '../src/errors.js';
import { causeHeadline } from '../src/logs/failure-kind.js';
import { type Line, reply, toneOf } from '../src/messages/message.js';
import { BUILD_ARGS, pickBuild } from '../src/state/lookup.js';

/** Traceback lines shown per test: the innermost frames and the exception. */
const TRACE_LINES = 3;

export const why = defineCommand({
  name: 'why',
  summary: 'why a build failed: its failing tests with the end of each traceback, or what broke instead',
  usage: '<builder> [build]',
  args: [
    BUILD_ARGS[0] as (typeof BUILD_ARGS)[number],
    {
      name: 'build',
      description: 'the build number (default: the latest red, purple or orange one)',
      kind: 'integer',
    },
  ],
  help: [
    'A build that failed outside its tests says what broke: a failed compile or checkout with its error line, a lost worker, a step killed for silence or time (and the test it was running), a full disk.',
    'Example: !why AMD64 Debian root 3.x · !why AMD64 Debian root 3.x 1234',
  ],
  permission: 'read',
  async run(ctx) {
    const { builder, build } = pickBuild(ctx.fleet.builders(), ctx.args, [
      'failure',
      'exception',
      'warnings',
    ]);
    const stored = await ctx.tests.analysis(builder.master, build, true);
    const name = `${builder.name} #${build.number}`;
    // A failure that is not a test failure ("failed compile: ...") leads; the tests follow if any ran.
    const cause = stored?.cause;
    const said = cause ? causeHeadline(cause) : undefined;
    const a = stored?.analysis;
    if (!a && !said) {
      throw new UserError(`${name}: no test summary found${stored?.error ? ` (${stored.error})` : ''}.`);
    }
    const dashboard = ctx.dashboard
      ? dashboardLine(ctx.dashboard.builder(builder.master, builder.name))
      : undefined;
    const room = Math.max(2, ctx.lineLimit - 2 - (dashboard ? 1 : 0));
    const lines: Line[] = [];
    for (const l of said ? (cause?.excerpt ?? []) : []) {
      if (lines.length >= room) break;
      lines.push(['  ', { text: l, code: true }]);
    }
    const failing = a ? (a.failed.length > 0 ? a.failed : a.flaky) : [];
    for (const test of failing) {
      if (lines.length >= room) break;
      const cases = a?.cases[test] ?? [];
      lines.push([
        { text: test, code: true, bold: true },
        a?.flaky.includes(test) ? ' (passed on re-run)' : '',
        cases.length > 0 ? `: ${cases.slice(0, 4).join(', ')}${cases.length > 4 ? ', …' : ''}` : '',
      ]);
      const trace = (a?.tracebacks[test] ?? []).filter((l) => l.trim() !== '' && l.trim() !== '…');
      for (const l of trace.slice(-TRACE_LINES)) {
        if (lines.length >= room) break;
        lines.push(['  ', { text: l.trim(), code: true }]);
      }
    }
    if (a && !said && failing.length === 0)
      lines.push([a.summaryFound ? 'No failing test in the summary.' : 'No test summary found in the log.']);
    const omitted = failing.filter(
      (t) => !lines.some((l) => l.some((s) => typeof s !== 'string' && s.text === t)),
    ).length;
    if (omitted > 0) lines.push([`… and ${omitted} more failing tests; see the log.`]);
    // A step killed or a worker lost explains a short log itself.
    if (a?.partial && !said) lines.push(['The log ends early (killed or timed out?): this may not be all.']);
    if (dashboard) lines.push(dashboard);
    const what =
      said ??
      (a && a.failed.length > 0
        ? `${a.failed.length} failing test${a.failed.length === 1 ? '' : 's'}`
        : a && a.flaky.length > 0
          ? 'flaky only'
          : 'no failing test');
    const logUrl = said ? (cause?.logUrl ?? stored?.logUrl) : stored?.logUrl;
    return reply(lines, {
      title: [{ text: name, bold: true }, said ? `: ${what}` : ` (${a?.result ?? 'unfinished'}): ${what}`],
      tone: toneOf(build.results),
      ...(logUrl ? { link: { label: 'log', url: logUrl } } : {}),
    });
  },
});
