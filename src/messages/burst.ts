import { builderBranch } from '../state/branches.js';
import type { Transition } from '../state/fleet.js';
import { cleanText, type Line, type Message, shorten } from './message.js';

/** One builder of a burst, with what the bot knows of its red build. */
export interface BurstPart {
  transition: Transition;
  /** The newest change in the build, when known: the likely culprit. */
  newestRevision: string | undefined;
  failed: string[];
  /** Why it failed, when that is not a test failure ("failed compile: ..."). */
  cause?: string | undefined;
  buildUrl: string;
}

const MAX_LINES = 10;

/**
 * "9 builders turned red on 3.x after abc1234": one message for builders that turned red in one
 * burst (a bad commit), each on its own line with its build and failing tests.
 */
export function buildBurstAnnouncement(parts: readonly BurstPart[], showMaster: boolean): Message {
  const branches = new Set(
    parts.map((p) => builderBranch(p.transition.builder.name, p.transition.builder.tags) ?? '?'),
  );
  const revisions = new Set(parts.map((p) => p.newestRevision ?? '?'));
  const branch = branches.size === 1 && !branches.has('?') ? ` on ${[...branches][0]}` : '';
  const revision =
    revisions.size === 1 && !revisions.has('?') ? ` after ${String([...revisions][0]).slice(0, 10)}` : '';
  const masters = new Set(parts.map((p) => p.transition.master));
  const title: Line = [
    ...(showMaster && masters.size === 1 ? [`[${[...masters][0]}] `] : []),
    { text: `${parts.length} builders turned red`, tone: 'failure', bold: true },
    `${branch}${revision}`,
  ];
  const lines: Line[] = parts
    .slice(0, MAX_LINES)
    .map((p) => [
      { text: p.transition.builder.name, bold: true },
      ` #${p.transition.build.number}`,
      p.failed.length > 0
        ? `: ${shorten(p.failed.map(cleanText).join(', '), 80)}`
        : p.cause
          ? `: ${shorten(cleanText(p.cause), 80)}`
          : '',
      ' ',
      p.buildUrl,
    ]);
  if (parts.length > MAX_LINES) lines.push([`… and ${parts.length - MAX_LINES} more`]);
  return { kind: 'announcement', tone: 'failure', title, lines };
}
