import { isRed } from '../buildbot/results.js';
import type { RegrtestAnalysis } from '../logs/regrtest.js';
import type { TestHistoryView } from '../logs/history.js';
import type { BuilderStatus, FleetView } from '../state/fleet.js';
import { blamelistBuilds, culpritLines, likelyCulprits } from '../triage/culprit.js';
import { reasonKeys } from '../triage/targets.js';
import type { WorkersView } from '../workers/monitor.js';
import type { TriageView } from './triage.js';

/** What finding a culprit reads: the fleet, the analyses, the masters' changes and workers. */
export interface CulpritViews {
  fleet: FleetView;
  tests: TestHistoryView;
  triage: TriageView;
  workers?: WorkersView | undefined;
}

/** Other red builders whose latest failure is compared with this one. */
const MAX_OTHERS = 8;

/**
 * `likely culprit: abc1234 Jane Doe: ...` and `(the same failure on X, Y)` when other red builders
 * of the master failed for the same reason (test and normalised error line, worker names masked)
 * and their changes since each one's last green build have one to three in common; empty otherwise.
 */
export async function culpritHint(
  v: CulpritViews,
  builder: BuilderStatus,
  number: number,
  a: RegrtestAnalysis,
): Promise<string[]> {
  const found = await likelyCulprit(v, builder, number, a);
  if (!found) return [];
  const names = found.same.slice(0, 3);
  const more = found.same.length > 3 ? `, … ${found.same.length - 3} more` : '';
  return [...found.lines, `(the same failure on ${names.join(', ')}${more})`];
}

/**
 * The likely culprit's lines (`likely culprit: ...`) and the other builders red for the same
 * reason, or undefined when there is no hint (see culpritHint).
 */
export async function likelyCulprit(
  v: CulpritViews,
  builder: BuilderStatus,
  number: number,
  a: RegrtestAnalysis,
): Promise<{ lines: string[]; same: string[] } | undefined> {
  if (a.failed.length === 0) return undefined;
  const others = v.fleet
    .builders()
    .filter((b) => b.master === builder.master && b.builderid !== builder.builderid && b.colour === 'failure')
    .slice(0, MAX_OTHERS);
  // Alone in red: nothing to compare, and nothing to ask the master.
  if (others.length === 0) return undefined;
  const workers = ((await v.workers?.list().catch(() => undefined))?.workers ?? []).map((w) => w.name);
  const keys = new Set(reasonKeys(a, workers));
  const same: Array<{ builder: BuilderStatus; number: number }> = [{ builder, number }];
  for (const other of others) {
    const red = other.recent.find((r) => isRed(r.results));
    if (!red) continue;
    const theirs = (await v.tests.analysis(other.master, red, false))?.analysis;
    if (theirs && reasonKeys(theirs, workers).some((k) => keys.has(k)))
      same.push({ builder: other, number: red.number });
  }
  if (same.length < 2) return undefined;
  const lists = await Promise.all(
    same.map(async ({ builder: b, number: n }) => {
      const builds = blamelistBuilds(b.recent, n);
      const changes = builds
        ? await v.triage.changes(
            b.master,
            builds.map((x) => x.buildid),
          )
        : undefined;
      return { builder: b.name, changes };
    }),
  );
  const culprits = likelyCulprits(lists);
  if (!culprits) return undefined;
  return { lines: culpritLines(culprits), same: same.slice(1).map((s) => s.builder.name) };
}
