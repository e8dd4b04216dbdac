import { NOTIFY_EVENTS, type NotifyEvent } from './schema.js';
import { patternProblem } from './pattern.js';

/** Notify rules as typed in chat (`!notify on failure,recovery 3.x tag:stable Debian`). */

/** Reads `failure,recovery` (or `all`) into events; throws a readable message for unknown ones. */
export function parseEvents(text: string): NotifyEvent[] {
  const words = text
    .toLowerCase()
    .split(/[,\s]+/)
    .filter((w) => w !== '');
  if (words.includes('all')) return [...NOTIFY_EVENTS];
  const events: NotifyEvent[] = [];
  for (const w of words) {
    const event = NOTIFY_EVENTS.find((e) => e === w);
    if (!event) throw new Error(`'${w.slice(0, 30)}' is not an event (${NOTIFY_EVENTS.join(', ')})`);
    if (!events.includes(event)) events.push(event);
  }
  if (events.length === 0) throw new Error('no event given');
  return events;
}

/** Filters for `!notify on`, from its words after the events. */
export interface SubscriptionFilters {
  branches?: string[];
  tags?: string[];
  builders?: string;
}

/**
 * `3.x 3.14 tag:stable Debian|Fedora` → branches, tags and a builder regex: `branch:X` and `tag:X`
 * are explicit; a bare word shaped like a branch (`3.x`, `3.14`, `main`) is a branch; the remaining
 * words, joined by spaces, are the builder regular expression.
 */
export function parseFilters(words: readonly string[]): SubscriptionFilters {
  const branches: string[] = [];
  const tags: string[] = [];
  const rest: string[] = [];
  for (const w of words) {
    const lower = w.toLowerCase();
    if (lower.startsWith('branch:') && w.length > 7) branches.push(w.slice(7));
    else if (lower.startsWith('tag:') && w.length > 4) tags.push(w.slice(4));
    else if (/^(\d+\.(\d+|x)|main|master)$/i.test(w)) branches.push(w);
    else rest.push(w);
  }
  const builders = rest.length > 0 ? rest.join(' ') : undefined;
  const problem = builders !== undefined ? patternProblem(builders) : undefined;
  if (builders !== undefined && problem !== undefined) {
    throw new Error(`'${builders.slice(0, 40)}' is not a valid regular expression: ${problem}`);
  }
  return {
    ...(branches.length ? { branches } : {}),
    ...(tags.length ? { tags } : {}),
    ...(builders !== undefined ? { builders } : {}),
  };
}
