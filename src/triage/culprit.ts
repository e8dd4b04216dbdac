import { isGood } from '../buildbot/results.js';
import { authorName, type ChangeSummary } from '../messages/announcement.js';
import { cleanText, shorten } from '../messages/message.js';

/** What one red builder may blame: the changes in its builds since its last green one. */
export interface Blamelist {
  builder: string;
  /** Newest first; undefined when they could not be read (the builder then says nothing). */
  changes: readonly ChangeSummary[] | undefined;
}

/** A short list is still a hint; a longer one is no better than the blamelists themselves. */
export const MAX_CULPRITS = 3;

/**
 * The likely culprit of a failure that turned two or more builders red for the same reason: the
 * changes every one of their blamelists holds (by revision). Undefined when fewer than two
 * builders have a known blamelist, or when nothing, or more than {@link MAX_CULPRITS}, remains.
 */
export function likelyCulprits(lists: readonly Blamelist[]): ChangeSummary[] | undefined {
  const known = lists.filter(
    (l): l is Blamelist & { changes: readonly ChangeSummary[] } => l.changes !== undefined,
  );
  if (new Set(known.map((l) => l.builder)).size < 2) return undefined;
  const [first, ...rest] = known;
  if (!first) return undefined;
  const others = rest.map((l) => new Set(l.changes.map((c) => c.revision).filter((r) => r !== null)));
  const seen = new Set<string>();
  const common = first.changes.filter((c) => {
    if (c.revision === null || seen.has(c.revision)) return false;
    seen.add(c.revision);
    return others.every((s) => s.has(c.revision as string));
  });
  return common.length > 0 && common.length <= MAX_CULPRITS ? common : undefined;
}

/**
 * `likely culprit: 3f2a9c1e0b Jane Doe: gh-12345: Fix the frobnicator`, one line per commit
 * (`likely culprits:` and the others indented below when there are several).
 */
export function culpritLines(culprits: readonly ChangeSummary[]): string[] {
  const head = culprits.length === 1 ? 'likely culprit: ' : 'likely culprits: ';
  return culprits.map((c, i) => {
    const subject = cleanText(c.comments.split('\n')[0] ?? '');
    const said = `${(c.revision ?? '').slice(0, 10)} ${shorten(cleanText(authorName(c.author)), 30)}${subject ? `: ${shorten(subject, 72)}` : ''}`;
    return `${i === 0 ? head : '  '}${said}`;
  });
}

/** A build as the blamelist needs it. */
export interface BlameBuild {
  buildid: number;
  number: number;
  results: number | null;
}

/**
 * The builds whose changes a failing build may blame: it and the builds before it back to (not
 * including) the last green or orange one, from a builder's recent builds (newest first).
 * Undefined when no good build is among them (the blamelist would be incomplete).
 */
export function blamelistBuilds<B extends BlameBuild>(recent: readonly B[], number: number): B[] | undefined {
  const from = recent.findIndex((b) => b.number === number);
  if (from < 0) return undefined;
  const out: B[] = [];
  for (const b of recent.slice(from)) {
    if (b.number !== number && isGood(b.results)) return out;
    out.push(b);
  }
  return undefined;
}
