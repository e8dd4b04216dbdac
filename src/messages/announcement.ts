import { formatDuration } from '../duration.js';
import type { Transition } from '../state/fleet.js';
import { cleanText, type Line, type Message, shorten, toneOf } from './message.js';

/** A change that went into a build, reduced to what a chat line shows. */
export interface ChangeSummary {
  revision: string | null;
  author: string;
  comments: string;
}

export interface AnnouncementInput {
  transition: Transition;
  /** Changes in the builds since the last good one, newest first. */
  changes: readonly ChangeSummary[];
  /** Whether the changes could be read from the master. */
  changesKnown: boolean;
  buildUrl: string;
  /** Name the master when more than one is watched. */
  showMaster: boolean;
}

const MAX_CHANGES = 4;

/** The message for a builder changing colour: who, what, since when, which changes, and a link. */
export function buildAnnouncement(input: AnnouncementInput): Message {
  const { transition: t } = input;
  const tone = toneOf(t.build.results);
  const what =
    t.event === 'failure'
      ? { text: 'turned red', tone }
      : t.event === 'exception'
        ? { text: 'stopped with an exception', tone }
        : { text: tone === 'warnings' ? 'recovered (orange)' : 'recovered (green)', tone };
  const title: Line = [
    ...(input.showMaster ? [`[${t.master}] `] : []),
    { text: t.builder.name, bold: true },
    ` #${t.build.number} `,
    { ...what, bold: true },
  ];
  const state = cleanText(t.build.stateString);
  if (state) title.push(`: ${shorten(state, 80)}`);

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
  if (t.event !== 'recovery') lines.push(...changeLines(input));
  return {
    kind: 'announcement',
    tone,
    title,
    lines,
    link: { label: `build #${t.build.number}`, url: input.buildUrl },
  };
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
function authorName(author: string): string {
  const name = author.replace(/<[^>]*>/g, '').trim();
  return name || author.replace(/@.*/, '');
}
