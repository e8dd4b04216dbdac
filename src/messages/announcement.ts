import { formatDuration } from '../duration.js';
import { causeHeadline, type FailureCause } from '../logs/failure-kind.js';
import type { Transition } from '../state/fleet.js';
import { retriedBefore } from '../state/transitions.js';
import { cleanText, type Line, type Message, type MessageAction, shorten, toneOf } from './message.js';

/** A change that went into a build, reduced to what a chat line shows. */
export interface ChangeSummary {
  revision: string | null;
  author: string;
  comments: string;
}

/** A test named in an announcement, with what the history says of it. */
export interface TestMention {
  name: string;
  /** Times it was flaky in the last days (see `flakyDays`). */
  flakyRecently: number;
  /** Tracker issues attached with !known. */
  known: string[];
  /** How it ended when it did not just fail (`crashed: Exit code -6`, `timed out after 0:20:00`). */
  how?: string | undefined;
}

/** What the test log of the build says, when it could be read. */
export interface LogFacts {
  failed: TestMention[];
  flaky: TestMention[];
  envChanged: string[];
  /** The log ended before regrtest's summary. */
  partial: boolean;
  logUrl: string | undefined;
  flakyDays: number;
  /** Why the build failed, when it is red or purple and its steps could be read. */
  cause?: FailureCause | undefined;
  /** What the issue tracker suggests for tests without a known issue, when it answered in time. */
  tracker?: TrackerFacts | undefined;
  /** `likely culprit: ...` lines when other builders are red for the same reason (src/tracker/culprits.ts). */
  culprit?: string[] | undefined;
}

/** Tracker suggestions for an announcement (see src/tracker/): apart from the issues confirmed with !known. */
export interface TrackerFacts {
  /**
   * Per test: `maybe gh-N "title" (open, updated 3 d ago)` lines, best first; empty when no issue
   * matches; `issues`: the issue of each suggestion (`gh-N`), in the same order.
   */
  tests: Array<{ test: string; suggestions: string[]; firstIssue: string | undefined; issues?: string[] }>;
  /** A new-issue link for a failure no issue matches, and the command that gives the full report. */
  file?: { url: string; command: string } | undefined;
}

/** The words for a failure that is not a test failure ("failed compile: ..."); undefined otherwise. */
function causeWords(facts: LogFacts | undefined): string | undefined {
  return facts?.cause ? causeHeadline(facts.cause) : undefined;
}

/** Causes that cut the test log short themselves: the log ending early is no news then. */
const CUTS_THE_LOG: ReadonlySet<FailureCause['kind']> = new Set(['timeout', 'worker-lost', 'disk-full']);

export interface AnnouncementInput {
  transition: Transition;
  /** The test log's findings; undefined when there is no log or it could not be read. */
  tests?: LogFacts | undefined;
  /** Changes in the builds since the last good one, newest first. */
  changes: readonly ChangeSummary[];
  /** Whether the changes could be read from the master. */
  changesKnown: boolean;
  buildUrl: string;
  /** Name the master when more than one is watched. */
  showMaster: boolean;
  /**
   * `head`: only what is known the moment the build finished (who, what, since when, link); the
   * test log and the changes follow in a details message (`buildDetails`).
   */
  part?: 'whole' | 'head';
}

const MAX_CHANGES = 4;
const MAX_TESTS = 8;
/** A cause in a title: long enough for a compiler's error line, short enough for one IRC line. */
const MAX_CAUSE = 160;

const HEADLINE: Record<Transition['event'], (tone: string) => string> = {
  failure: () => 'turned red',
  exception: () => 'stopped with an exception',
  recovery: (tone) => (tone === 'warnings' ? 'recovered (orange)' : 'recovered (green)'),
  newfailure: () => 'is still red, with a new failure',
  flaky: () => 'is orange: a test passed only on re-run',
  // Worker alerts are composed by the worker monitor, never from a build transition.
  worker: () => 'worker',
  // A route, never a transition's event (Transition.route): an infra red is a `failure`.
  infra: () => 'turned red',
};

/** `Failed: test_ssl (flaky 3× in 7 d; known: gh-1234), test_os` and friends. */
function testLines(t: Transition, facts: LogFacts): Line[] {
  const lines: Line[] = [];
  const fresh = new Set(t.newFailures ?? []);
  const list = (label: string, tests: TestMention[]) => {
    if (tests.length === 0) return;
    const line: Line = [`${label}: `];
    tests.slice(0, MAX_TESTS).forEach((test, i) => {
      if (i > 0) line.push(', ');
      line.push({ text: cleanText(test.name), code: true, ...(fresh.has(test.name) ? { bold: true } : {}) });
      const notes: string[] = [];
      if (test.how) notes.push(cleanText(test.how));
      if (fresh.has(test.name)) notes.push('new');
      if (test.flakyRecently > 0) notes.push(`flaky ${test.flakyRecently}× in ${facts.flakyDays} d`);
      if (test.known.length > 0) notes.push(`known: ${test.known.map((k) => cleanText(k)).join(', ')}`);
      if (notes.length > 0) line.push(` (${notes.join('; ')})`);
    });
    if (tests.length > MAX_TESTS) line.push(`, … and ${tests.length - MAX_TESTS} more`);
    lines.push(line);
  };
  list(t.event === 'flaky' ? 'Passed on re-run' : 'Failed', t.event === 'flaky' ? facts.flaky : facts.failed);
  if (t.event !== 'flaky') list('Flaky (passed on re-run)', facts.flaky);
  // A red build whose tests only changed the environment (--fail-env-changed): that is why.
  const envOnly = t.event === 'failure' && facts.failed.length === 0 ? facts.envChanged : [];
  if (envOnly.length > 0)
    list(
      'Env changed',
      envOnly.map((name) => ({ name, flakyRecently: 0, known: [] })),
    );
  const explained = causeWords(facts) !== undefined || envOnly.length > 0;
  if (facts.partial && !(facts.cause && CUTS_THE_LOG.has(facts.cause.kind)))
    lines.push(['The test log ends early (killed or timed out?): the list may be incomplete.']);
  else if (!facts.partial && !explained && facts.failed.length === 0 && t.event === 'failure')
    lines.push(['No failing test in the log summary.']);
  lines.push(...trackerLines(facts.tracker));
  for (const l of facts.culprit ?? []) lines.push([cleanText(l)]);
  if (facts.logUrl && t.event !== 'recovery') lines.push(['Log: ', facts.logUrl]);
  return lines;
}

/**
 * `test_posix: maybe gh-12345 "..." (open, updated 3 d ago) — confirm: !known test_posix gh-12345`,
 * or `test_posix: no existing issue — file one` with a new-issue link.
 */
function trackerLines(tracker: TrackerFacts | undefined): Line[] {
  if (!tracker) return [];
  const lines: Line[] = [];
  for (const { test, suggestions, firstIssue } of tracker.tests) {
    if (suggestions.length === 0) {
      if (!tracker.file) continue;
      lines.push([
        { text: cleanText(test), code: true },
        ': no existing issue — ',
        { text: 'file one', href: tracker.file.url },
        ' (full report: ',
        { text: cleanText(tracker.file.command), code: true },
        ')',
      ]);
      continue;
    }
    suggestions.forEach((s, i) => {
      const line: Line =
        i === 0 ? [{ text: cleanText(test), code: true }, `: ${cleanText(s)}`] : [`  ${cleanText(s)}`];
      if (i === 0 && firstIssue)
        line.push(' — confirm: ', { text: `!known ${cleanText(test)} ${firstIssue}`, code: true });
      lines.push(line);
    });
  }
  return lines;
}

/**
 * Buttons a platform may show under the tracker's suggestions: "It's gh-12345" runs `known <test>
 * gh-12345` (named by its test too when several tests have suggestions). `!why` offers the same.
 */
export function suggestionActions(
  tests: ReadonlyArray<{ test: string; issues?: readonly string[] | undefined }>,
): MessageAction[] {
  const suggested = tests.filter((t) => (t.issues ?? []).length > 0);
  return suggested.flatMap(({ test, issues = [] }) =>
    issues
      .filter((issue) => /^gh-\d{1,9}$/.test(issue))
      .map((issue) => ({
        label: suggested.length > 1 ? shorten(`${cleanText(test)}: it's ${issue}`, 80) : `It's ${issue}`,
        command: `known ${cleanText(test)} ${issue}`,
      })),
  );
}

/** `actions` when there are any: a message without them has no such key. */
function withActions(message: Message, tracker: TrackerFacts | undefined): Message {
  const actions = suggestionActions(tracker?.tests ?? []);
  return actions.length > 0 ? { ...message, actions } : message;
}

/** The message for a builder changing colour: who, what, since when, which changes, and a link. */
export function buildAnnouncement(input: AnnouncementInput): Message {
  const { transition: t } = input;
  const head = input.part === 'head';
  const tone = toneOf(t.build.results);
  const what = { text: HEADLINE[t.event](tone), tone };
  const title: Line = [
    ...masterPrefix(input),
    { text: t.builder.name, bold: true },
    ` #${t.build.number} `,
    { ...what, bold: true },
  ];
  // Buildbot's state string ("failed test (failure)"), unless the failure is known to be something
  // else ("failed compile: ...", "test killed after 1200 s without output while running test_x");
  // the head goes out before the steps are read, so it always has the state string.
  const said = head ? undefined : causeWords(input.tests);
  const state = cleanText(t.build.stateString);
  if (said) title.push(`: ${shorten(cleanText(said), MAX_CAUSE)}`);
  else if (state) title.push(`: ${shorten(state, 80)}`);

  if (head) {
    // One line, as fast and as short as a page: the rest follows in the details message.
    return {
      kind: 'announcement',
      tone,
      title,
      lines: [],
      link: { label: `build #${t.build.number}`, url: input.buildUrl },
    };
  }
  // What broke comes first; then since when it had been passing, and the suspects.
  const lines: Line[] = input.tests ? testLines(t, input.tests) : [];
  lines.push(...retryLines(t), ...streakLines(t));
  if (t.event === 'failure' || t.event === 'exception') lines.push(...changeLines(input));
  return withActions(
    {
      kind: 'announcement',
      tone,
      title,
      lines,
      link: { label: `build #${t.build.number}`, url: input.buildUrl },
    },
    input.tests?.tracker,
  );
}

/**
 * `Retried before this build: #7 (retry lost connection test (retry)).`: a red or purple build
 * after attempts Buildbot retried (a lost worker), which were not announced themselves.
 */
function retryLines(t: Transition): Line[] {
  if (t.event !== 'failure' && t.event !== 'exception') return [];
  const retried = retriedBefore(t.sinceLastGood.slice(1)).reverse();
  if (retried.length === 0) return [];
  const shown = retried
    .slice(-3)
    .map((b) => `#${b.number}${b.stateString ? ` (${shorten(cleanText(b.stateString), 60)})` : ''}`);
  const more = retried.length > 3 ? `${retried.length - 3} more and ` : '';
  return [[`Retried before this build: ${more}${shown.join(', ')}.`]];
}

/** `Had been passing for 3 d (since #120).` */
function streakLines(t: Transition): Line[] {
  const lines: Line[] = [];
  const end = t.build.completeAt ?? 0;
  if (t.streak && end) {
    const since = t.streak.first.completeAt ?? end;
    const span = formatDuration((end - since) * 1000);
    const atLeast = t.streak.complete ? '' : 'at least ';
    if (t.event === 'failure') {
      lines.push([`Had been passing for ${atLeast}${span} (since #${t.streak.first.number}).`]);
    } else if (t.event === 'recovery') {
      lines.push([`Had been red for ${atLeast}${span} (since #${t.streak.first.number}).`]);
    }
  }
  return lines;
}

/** Events whose announcement can be split into a head and a details message. */
export const SPLIT_EVENTS: ReadonlySet<Transition['event']> = new Set(['failure', 'exception']);

/**
 * The second message of a split announcement: what the test log says and the suspect changes,
 * under a title naming the build again (other messages may have come in between).
 */
export function buildDetails(input: AnnouncementInput): Message {
  const { transition: t, tests } = input;
  const tone = toneOf(t.build.results);
  let summary: string;
  const said = causeWords(tests);
  if (said) summary = shorten(cleanText(said), MAX_CAUSE);
  else if (t.event === 'exception') summary = 'changes';
  else if (!tests) summary = 'no test summary could be read';
  else if (tests.partial) summary = 'the test log ends early';
  else {
    const parts = [`${tests.failed.length} failed test${tests.failed.length === 1 ? '' : 's'}`];
    if (tests.flaky.length > 0) parts.push(`${tests.flaky.length} passed on re-run`);
    if (tests.failed.length === 0 && tests.envChanged.length > 0)
      parts.push(`${tests.envChanged.length} changed the environment`);
    summary = parts.join(', ');
  }
  return withActions(
    {
      kind: 'announcement',
      tone,
      title: [
        ...masterPrefix(input),
        { text: t.builder.name, bold: true },
        ` #${t.build.number}: ${summary}`,
      ],
      lines: [
        ...(tests ? testLines(t, tests) : []),
        ...retryLines(t),
        ...streakLines(t),
        ...changeLines(input),
      ],
      link: { label: `build #${t.build.number}`, url: input.buildUrl },
    },
    tests?.tracker,
  );
}

function masterPrefix(input: AnnouncementInput): string[] {
  return input.showMaster ? [`[${input.transition.master}] `] : [];
}

function changeLines(input: AnnouncementInput): Line[] {
  const { transition: t, changes } = input;
  const lastGood = t.previous && t.event === 'failure' ? ` since #${t.previous.number}` : '';
  if (!input.changesKnown) return [[`Changes${lastGood}: could not be read from the master.`]];
  if (changes.length === 0) return [[`No new changes${lastGood} (forced or rebuilt).`]];
  const lines: Line[] = [[`Changes${lastGood}:`]];
  for (const change of changes.slice(0, MAX_CHANGES)) {
    const subject = shorten(cleanText(change.comments.split('\n')[0] ?? ''), 72);
    lines.push([
      '  ',
      { text: change.revision ? change.revision.slice(0, 10) : '(no revision)', code: true },
      ` ${shorten(cleanText(authorName(change.author)), 30)}`,
      ...(subject ? [`: ${subject}`] : []),
    ]);
  }
  if (changes.length > MAX_CHANGES) lines.push([`  … and ${changes.length - MAX_CHANGES} more`]);
  return lines;
}

/** `Jane Doe <jane@example.org>` → `Jane Doe`: addresses stay out of chat. */
export function authorName(author: string): string {
  const name = author.replace(/<[^>]*>/g, '').trim();
  return name || author.replace(/@.*/, '');
}
