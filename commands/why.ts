import { type CommandContext, dashboardLine, defineCommand, withCommandPrefix } from '../src/chat/command.js';
import { UserError } from '../src/errors.js';
import { causeHeadline } from '../src/logs/failure-kind.js';
import { howItEnded } from '../src/logs/report.js';
import type { RegrtestAnalysis } from '../src/logs/regrtest.js';
import { suggestionText } from '../src/triage/search.js';
import { culpritHint } from '../src/tracker/culprits.js';
import { suggestionActions } from '../src/messages/announcement.js';
import { type Line, type MessageAction, reply, toneOf } from '../src/messages/message.js';
import { BUILD_ARGS, pickBuild } from '../src/state/lookup.js';

/** How long `!why` waits for the tracker's suggestions (a slow tracker leaves them out). */
const TRACKER_WAIT_MS = 10_000;

/**
 * Per failing test (the first three): its known issues, else the tracker's suggestions
 * (`maybe gh-N ...`, apart from the known ones), else "no existing issue" and the `!file` command.
 */
async function trackerLines(
  ctx: CommandContext,
  a: RegrtestAnalysis,
  builder: string,
  number: number,
  room: number,
): Promise<{ lines: Line[]; actions: MessageAction[] }> {
  if (room <= 0) return { lines: [], actions: [] };
  const failing = a.failed.length > 0 ? a.failed : a.flaky;
  const known = new Map(
    await Promise.all(
      failing.map(async (t) => [t, (await ctx.tests.knownFor(t, builder)).map((k) => k.issue)] as const),
    ),
  );
  const unknown = (t: string) => (known.get(t) ?? []).length === 0;
  const news = { ...a, failed: a.failed.filter(unknown), flaky: a.flaky.filter(unknown) };
  const found =
    ctx.triage?.searching && news.failed.length + news.flaky.length > 0
      ? await ctx.triage.suggest(news, builder, TRACKER_WAIT_MS)
      : [];
  const now = Date.now();
  const lines: Line[] = [];
  const suggested: Array<{ test: string; issues: string[] }> = [];
  for (const test of failing.slice(0, 3)) {
    const issues = known.get(test) ?? [];
    if (issues.length > 0) {
      lines.push([{ text: test, code: true }, `: known: ${issues.join(', ')}`]);
      continue;
    }
    const s = found.find((f) => f.test === test);
    if (s?.state === 'found') {
      suggested.push({ test, issues: s.candidates.map((c) => `gh-${c.number}`) });
      s.candidates.forEach((c, i) =>
        lines.push(
          i === 0
            ? [
                { text: test, code: true },
                `: ${suggestionText(c, now)} — confirm: `,
                { text: withCommandPrefix(`!known ${test} gh-${c.number}`, ctx.prefix), code: true },
              ]
            : [`  ${suggestionText(c, now)}`],
        ),
      );
    } else if (s?.state === 'none') {
      lines.push([
        { text: test, code: true },
        ': no existing issue — ',
        { text: withCommandPrefix(`!file ${builder} ${number}`, ctx.prefix), code: true },
        ' gives one ready to file',
      ]);
    } else if (s?.state === 'unavailable') {
      lines.push([
        { text: test, code: true },
        ': the issue tracker did not answer (down, slow or rate-limited)',
      ]);
    }
  }
  // Buttons where the platform has them (Discord): "It's gh-N" runs the same !known.
  return { lines: lines.slice(0, room), actions: suggestionActions(suggested) };
}

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
    // The tracker's word is kept room for: up to four lines, after the tests.
    const { lines: tracker, actions } =
      a && failing.length > 0
        ? await trackerLines(ctx, a, builder.name, build.number, Math.min(4, room - 2))
        : { lines: [], actions: [] };
    const culprit =
      a && ctx.triage
        ? await culpritHint({ ...ctx, triage: ctx.triage, workers: ctx.workers }, builder, build.number, a)
        : [];
    tracker.push(...culprit.slice(0, Math.max(0, room - 2 - tracker.length)).map((l) => [l]));
    const testRoom = room - tracker.length;
    for (const test of failing) {
      if (lines.length >= testRoom) break;
      const cases = a?.cases[test] ?? [];
      const how = a ? howItEnded(a, test) : undefined;
      lines.push([
        { text: test, code: true, bold: true },
        a?.flaky.includes(test) ? ' (passed on re-run)' : how ? ` (${how})` : '',
        cases.length > 0 ? `: ${cases.slice(0, 4).join(', ')}${cases.length > 4 ? ', …' : ''}` : '',
      ]);
      const trace = (a?.tracebacks[test] ?? []).filter((l) => l.trim() !== '' && l.trim() !== '…');
      for (const l of trace.slice(-TRACE_LINES)) {
        if (lines.length >= testRoom) break;
        lines.push(['  ', { text: l.trim(), code: true }]);
      }
    }
    // A red build whose tests only changed the environment (--fail-env-changed) says so.
    const envOnly = a && a.failed.length === 0 && toneOf(build.results) === 'failure' ? a.envChanged : [];
    if (envOnly.length > 0 && lines.length < room)
      lines.push([`Env changed: `, { text: envOnly.slice(0, 8).join(', '), code: true }]);
    if (a && !said && failing.length === 0 && envOnly.length === 0)
      lines.push([a.summaryFound ? 'No failing test in the summary.' : 'No test summary found in the log.']);
    const omitted = failing.filter(
      (t) => !lines.some((l) => l.some((s) => typeof s !== 'string' && s.text === t)),
    ).length;
    if (omitted > 0) lines.push([`… and ${omitted} more failing tests; see the log.`]);
    lines.push(...tracker);
    // A step killed or a worker lost explains a short log itself.
    if (a?.partial && !said) lines.push(['The log ends early (killed or timed out?): this may not be all.']);
    if (dashboard) lines.push(dashboard);
    const what =
      said ??
      (a && a.failed.length > 0
        ? `${a.failed.length} failing test${a.failed.length === 1 ? '' : 's'}`
        : envOnly.length > 0
          ? 'the environment changed'
          : a && a.flaky.length > 0
            ? 'flaky only'
            : 'no failing test');
    const logUrl = said ? (cause?.logUrl ?? stored?.logUrl) : stored?.logUrl;
    return reply(lines, {
      title: [{ text: name, bold: true }, said ? `: ${what}` : ` (${a?.result ?? 'unfinished'}): ${what}`],
      tone: toneOf(build.results),
      ...(logUrl ? { link: { label: 'log', url: logUrl } } : {}),
      ...(actions.length > 0 ? { actions } : {}),
    });
  },
});
