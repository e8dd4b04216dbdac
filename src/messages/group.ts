import type { GroupMember } from '../store/groups.js';
import type { GroupReason } from '../triage/grouping.js';
import { cleanText, type Line, type Message, shorten } from './message.js';

/** Builders listed one per line in a group's message; the rest are counted. */
const MAX_LINES = 10;
/** Builders named in an also-on line; the rest are counted. */
const MAX_NAMES = 8;

/** What a group's message shows: the failure, where it happened, and since when. */
export interface GroupView {
  reason: GroupReason;
  /** The lead first. */
  members: readonly GroupMember[];
  revision: string | undefined;
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
  const lines: Line[] = g.members
    .slice(0, MAX_LINES)
    .map((m) => [{ text: cleanText(m.builder), bold: true }, ` #${m.number} `, m.url]);
  if (g.members.length > MAX_LINES) lines.push([`… and ${g.members.length - MAX_LINES} more`]);
  return { kind: 'announcement', tone: 'failure', title, lines };
}

/**
 * "also on: X, Y (test_ssl.test_foo)": the one short line that tells a platform without edits
 * that more builders joined a failure already announced.
 */
export function buildAlsoOn(builders: readonly string[], reason: GroupReason): Message {
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
    lines: [],
  };
}
