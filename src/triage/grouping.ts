/**
 * One message per failure, not per builder (issue 17, item 3): whether a red build that has just
 * finished opens a group of its own or joins one already announced. The decision only; what a
 * group's message looks like and how it is edited or followed up belongs to delivery.
 */
import { howItEnded } from '../logs/report.js';
import type { RegrtestAnalysis } from '../logs/regrtest.js';
import { failureReason } from './reason.js';

/** A failing test's reason as a group shows it (reason.ts: the key, and what it reads). */
export interface GroupReason {
  key: string;
  /** The test id: `test_ssl.test_foo`. */
  test: string;
  /** The error line as the log shows it (not masked); empty when none was found. */
  error: string;
  /** How it ended when that is news of its own (`crashed: ...`, `timed out after 15 min`). */
  how?: string | undefined;
}

/** The reasons of a build's failed tests, one per key, in the order regrtest gave the tests. */
export function groupReasons(a: RegrtestAnalysis, workers: readonly string[] = []): GroupReason[] {
  const out = new Map<string, GroupReason>();
  for (const test of a.failed) {
    const r = failureReason(test, a.cases[test] ?? [], a.tracebacks[test] ?? [], workers);
    if (!out.has(r.key))
      out.set(r.key, { key: r.key, test: r.test, error: r.error, how: howItEnded(a, test) });
  }
  return [...out.values()];
}

/** A group announced within the window: a failure seen on one or more builders. */
export interface OpenGroup {
  id: string;
  /** The reasons (src/triage/reason.ts) of the group's builds: the union of their keys. */
  keys: readonly string[];
  /** When its first build finished (epoch ms): the window runs from then. */
  openedAt: number;
  /** The builders already in it. */
  builders: readonly string[];
}

/** A red build, as the decision needs it. */
export interface RedBuild {
  builder: string;
  /** Its failed tests' reasons; empty when it failed outside its tests (a compile, a full disk). */
  keys: readonly string[];
  /** When it finished (epoch ms). */
  completedAt: number;
}

export type GroupDecision =
  /** Announce it on its own; it opens a group that later builds may join (when it has reasons). */
  | { kind: 'new' }
  /** Add it to `group`, for the reasons they share (in the build's order). */
  | { kind: 'join'; group: string; shared: string[] };

/**
 * Whether `build` joins one of `groups` or opens its own (pure): it joins the group, still open
 * (opened within `windowMs` of when the build finished, either side: a build the bot learns of
 * late, after a restart, still belongs with the failure it shares), with which it shares
 * the most reasons; between equals, the one opened first (then the smaller id), so the answer
 * does not depend on the order the groups are given in. A build without reasons, or sharing none,
 * opens its own. The window counts from the group's first build, so a group cannot be kept open
 * for ever by builds joining it one after another.
 */
export function groupDecision(
  build: RedBuild,
  groups: readonly OpenGroup[],
  windowMs: number,
): GroupDecision {
  const mine = [...new Set(build.keys)];
  if (mine.length === 0) return { kind: 'new' };
  let best: { group: OpenGroup; shared: string[] } | undefined;
  for (const group of groups) {
    if (Math.abs(build.completedAt - group.openedAt) > windowMs) continue;
    const theirs = new Set(group.keys);
    const shared = mine.filter((k) => theirs.has(k));
    if (shared.length === 0) continue;
    if (!best || better({ group, shared }, best)) best = { group, shared };
  }
  return best ? { kind: 'join', group: best.group.id, shared: best.shared } : { kind: 'new' };
}

function better(
  a: { group: OpenGroup; shared: string[] },
  b: { group: OpenGroup; shared: string[] },
): boolean {
  if (a.shared.length !== b.shared.length) return a.shared.length > b.shared.length;
  if (a.group.openedAt !== b.group.openedAt) return a.group.openedAt < b.group.openedAt;
  return a.group.id < b.group.id;
}
