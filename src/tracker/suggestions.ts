import {
  rankCandidates,
  type Candidate,
  type Ranked,
  type SearchTarget,
  searchQueries,
  settled,
} from '../triage/search.js';
import { TrackerUnavailable } from './github.js';

/** What searches issues: the GitHub client, or anything answering the same way. */
export interface IssueSearch {
  search(q: string): Promise<Candidate[]>;
}

/** The tracker's answer for one failing test. */
export interface Suggestion {
  test: string;
  /** `found`: candidates, best first; `none`: every search answered and nothing is about this test; `unavailable`: the tracker could not say. */
  state: 'found' | 'none' | 'unavailable';
  candidates: Ranked[];
}

/**
 * Searches as the watchers do, tier after tier (method, file, error words), stopping at the first
 * that finds an issue naming the method; then ranks everything found. A tracker that fails before
 * any answer gives `unavailable`, never an error.
 */
export async function suggestFor(
  tracker: IssueSearch,
  target: SearchTarget,
  repo: string,
  now: number,
): Promise<Suggestion> {
  const found: Candidate[] = [];
  let answered = 0;
  let complete = true;
  let ranked: Ranked[] = [];
  for (const query of searchQueries(target, repo)) {
    try {
      found.push(...(await tracker.search(query.q)));
      answered++;
    } catch (err) {
      if (!(err instanceof TrackerUnavailable)) throw err;
      complete = false;
      break;
    }
    ranked = rankCandidates(found, target, now);
    if (settled(ranked)) break;
  }
  if (ranked.length > 0) return { test: target.test, state: 'found', candidates: ranked };
  return { test: target.test, state: answered > 0 && complete ? 'none' : 'unavailable', candidates: [] };
}
