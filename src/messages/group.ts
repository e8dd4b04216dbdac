import type { GroupMember } from '../store/groups.js';
import type { GroupReason } from '../triage/grouping.js';
import { cleanText, type Line, type Message, shorten } from './message.js';

/** Builders listed one per line in a group's message; the rest are named on one line. */
const MAX_LINES = 10;
/** Builders named on that one line (every builder of a large failure, within reason). */
const MAX_MORE = 40;
/** Builders named in an also-on line; the rest are counted. */
const MAX_NAMES = 8;

/** What a group's message shows: the failure, where it happened, and since when. */
export interface GroupView {
  reason: GroupReason;
  /** The lead first. */
  members: readonly GroupMember[];
  revision: string | undefined;
  /** `likely culprit: ...` lines (src/tracker/culprits.ts), under the title. */
  culprit?: readonly string[] | undefined;
  /** The builds that brought its builders back to green (marked in the list). */
  recovered?: readonly GroupMember[];
  /** The master's name, when several are watched. */
  master?: string | undefined;
}

/**
 * "test_ssl.test_foo failed on 5 builders (3.x, 3.14): AssertionError: ... — since abc1234", then
 * each builder with its build's link: the one message a failure seen on several builders gets
 * (edited as builders join it, where the platform edits messages).
 */
export function buildGroupAnnouncement(g: GroupView): Message {
  const branches = [...new Set(g.members.flatMap((m) => (m.branch ? [m.branch] : [])))];
  const how = g.reason.how ? ` (${shorten(cleanText(g.reason.how), 60)})` : '';
  const error = g.reason.error ? `: ${shorten(cleanText(g.reason.error), 120)}` : '';
  const since = g.revision ? ` — since ${cleanText(g.revision).slice(0, 10)}` : '';
  const title: Line = [
    ...(g.master ? [`[${cleanText(g.master)}] `] : []),
    { text: shorten(cleanText(g.reason.test), 80), code: true },
    how,
    // Builders, not builds: a builder red again within the window is listed again, counted once.
    {
      text: ` failed on ${new Set(g.members.map((m) => m.builder)).size} builders`,
      tone: 'failure',
      bold: true,
    },
    branches.length > 0 ? ` (${shorten(branches.map(cleanText).join(', '), 40)})` : '',
    `${error}${since}`,
  ];
  const green = greenAgain(g.members, g.recovered ?? []);
  const lines: Line[] = culpritLines(g.culprit);
  for (const m of g.members.slice(0, MAX_LINES)) {
    const back = green.get(m.builder);
    lines.push([
      { text: cleanText(m.builder), bold: true },
      ` #${m.number} `,
      m.url,
      ...(back ? [{ text: ` — green again #${back.number}`, tone: 'success' as const }] : []),
    ]);
  }
  const rest = g.members.slice(MAX_LINES);
  if (rest.length > 0) {
    const named = rest.slice(0, MAX_MORE).map((m) => `${shorten(cleanText(m.builder), 60)} #${m.number}`);
    const beyond = rest.length > MAX_MORE ? `, … ${rest.length - MAX_MORE} more` : '';
    lines.push([`… and ${rest.length} more: ${named.join(', ')}${beyond}`]);
  }
  return { kind: 'announcement', tone: 'failure', title, lines };
}

/**
 * "also on: X, Y (test_ssl.test_foo)": the one short line that tells a platform without edits
 * that more builders joined a failure already announced.
 */
export function buildAlsoOn(
  builders: readonly string[],
  reason: GroupReason,
  culprit?: readonly string[],
): Message {
  const named = builders.slice(0, MAX_NAMES).map((b) => shorten(cleanText(b), 60));
  const more = builders.length > MAX_NAMES ? `, … ${builders.length - MAX_NAMES} more` : '';
  return {
    kind: 'announcement',
    tone: 'failure',
    title: [
      { text: 'also on: ', tone: 'failure' },
      `${named.join(', ')}${more} (`,
      { text: shorten(cleanText(reason.test), 80), code: true },
      ')',
    ],
    lines: culpritLines(culprit),
  };
}

/** The likely culprit's lines as a group's messages carry them (three commits at most). */
const culpritLines = (culprit: readonly string[] | undefined): Line[] =>
  (culprit ?? []).slice(0, 3).map((l) => [shorten(cleanText(l), 200)]);

/**
 * The group's builders that are green again, each with the build that brought it back: a recovery
 * newer than the builder's last red build in the group (a builder red again since is not green).
 */
export function greenAgain(
  members: readonly GroupMember[],
  recovered: readonly GroupMember[],
): Map<string, GroupMember> {
  const lastRed = new Map<string, number>();
  for (const m of members) lastRed.set(m.builder, Math.max(m.number, lastRed.get(m.builder) ?? 0));
  const out = new Map<string, GroupMember>();
  for (const r of recovered) {
    const red = lastRed.get(r.builder);
    if (red !== undefined && r.number > red && r.number > (out.get(r.builder)?.number ?? 0))
      out.set(r.builder, r);
  }
  return out;
}

/**
 * "recovered: X, Y (test_ssl.test_foo); all 5 builders green again", or "…; still red: Z": the
 * one line that tells the channel which builders of a failure announced as a group are green
 * again, instead of one recovery message each.
 */
export function buildGroupRecovered(
  builders: readonly string[],
  reason: GroupReason,
  stillRed: readonly string[],
  total: number,
): Message {
  const names = (list: readonly string[]) => {
    const named = list.slice(0, MAX_NAMES).map((b) => shorten(cleanText(b), 60));
    return `${named.join(', ')}${list.length > MAX_NAMES ? `, … ${list.length - MAX_NAMES} more` : ''}`;
  };
  const after =
    stillRed.length === 0 ? `; all ${total} builders green again` : `; still red: ${names(stillRed)}`;
  return {
    kind: 'announcement',
    tone: 'success',
    title: [
      { text: 'recovered: ', tone: 'success' },
      `${names(builders)} (`,
      { text: shorten(cleanText(reason.test), 80), code: true },
      `)${after}`,
    ],
    lines: [],
  };
}

/**
 * "likely culprit of test_ssl.test_foo: abc1234 Jane Doe: ...": the culprit of a group, found
 * after its update went out (a slow master), as a line of its own.
 */
export function buildGroupCulprit(reason: GroupReason, culprit: readonly string[]): Message {
  const [first = '', ...rest] = culprit.slice(0, 3).map((l) => shorten(cleanText(l), 200));
  const said = first.replace(/^likely culprits?: /, '');
  return {
    kind: 'announcement',
    tone: 'failure',
    title: [
      `${culprit.length > 1 ? 'likely culprits' : 'likely culprit'} of `,
      { text: shorten(cleanText(reason.test), 80), code: true },
      `: ${said}`,
    ],
    lines: rest.map((l) => [l]),
  };
}
