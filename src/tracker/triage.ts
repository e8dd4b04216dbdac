import type { Logger } from 'pino';
import type { BuildFacts } from '../buildbot/build-facts.js';
import type { TrackerConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { RegrtestAnalysis } from '../logs/regrtest.js';
import type { ChangeSummary } from '../messages/announcement.js';
import { type FileReportInput, issueTitle, newIssueUrl, versionLabel } from '../triage/report.js';
import { searchTargets } from '../triage/targets.js';
import { GitHubTracker, type TrackerEvent } from './github.js';
import { suggestFor, type Suggestion } from './suggestions.js';

export type { Suggestion };

/** The report fields the caller knows; the tracker adds where to file and the labels. */
export type ReportFacts = Omit<FileReportInput, 'repo' | 'webUrl' | 'labels'>;

/** What commands and announcements may ask of the tracker. */
export interface TriageView {
  /** The repository issues are filed on (`python/cpython`). */
  readonly repo: string;
  /** Whether failing tests are looked up at all (a `tracker` section with `search` on). */
  readonly searching: boolean;
  /**
   * Suggestions for the failing tests of a build (the first three), best candidates first. With
   * `waitMs`, what is ready by then: a slow or absent tracker leaves the others `unavailable`.
   */
  suggest(a: RegrtestAnalysis, builder: string, waitMs?: number): Promise<Suggestion[]>;
  /**
   * The new-issue URL of a failure: `full` (at most `maxBytes`, default 8 KB: the traceback is cut
   * to fit), `short` (title, build link and labels only).
   */
  report(facts: ReportFacts, branch: string | undefined, maxBytes?: number): { full: string; short: string };
  /** Where the build ran (worker, branch, revision); undefined when the master cannot say. */
  buildFacts(master: string, buildid: number): Promise<BuildFacts | undefined>;
  /** The changes of these builds, newest first; undefined when the master cannot say. */
  changes(master: string, buildids: readonly number[]): Promise<ChangeSummary[] | undefined>;
}

export interface TriageOptions {
  config: TrackerConfig | undefined;
  log: Logger;
  readFacts: (master: string, buildid: number) => Promise<BuildFacts>;
  readChanges: (master: string, buildids: readonly number[]) => Promise<ChangeSummary[]>;
  now?: () => number;
  /** Told of each search's fate (the metrics). */
  observe?: (event: TrackerEvent) => void;
}

/** GitHub's anonymous search limit is 10 a minute, 30 with a token: stay just under. */
const DEFAULT_REQUESTS = { token: 25, anonymous: 9 };

/** The tracker's side of triage: suggestions (when configured) and ready-to-file reports. */
export class Triage implements TriageView {
  readonly repo: string;
  readonly searching: boolean;
  private readonly tracker: GitHubTracker | undefined;
  private readonly webUrl: string;
  private readonly labels: readonly string[];
  private readonly versions: Readonly<Record<string, string>>;
  private readonly now: () => number;

  constructor(private readonly opts: TriageOptions) {
    const c = opts.config;
    this.now = opts.now ?? Date.now;
    this.repo = c?.repo ?? 'python/cpython';
    this.webUrl = c?.web_url ?? 'https://github.com/';
    this.labels = c?.labels ?? ['tests', 'type-bug'];
    this.versions = c?.versions ?? {};
    this.searching = c !== undefined && c.search;
    this.tracker =
      c && c.search
        ? new GitHubTracker({
            apiUrl: c.api_url,
            token: c.token,
            requests: c.budget?.requests ?? (c.token ? DEFAULT_REQUESTS.token : DEFAULT_REQUESTS.anonymous),
            perMs: c.budget?.per ?? 60_000,
            timeoutMs: c.timeout,
            cacheTtlMs: c.cache_ttl,
            log: opts.log,
            now: this.now,
            ...(opts.observe ? { observe: opts.observe } : {}),
          })
        : undefined;
  }

  async suggest(a: RegrtestAnalysis, builder: string, waitMs?: number): Promise<Suggestion[]> {
    const tracker = this.tracker;
    if (!tracker) return [];
    const targets = searchTargets(a, builder);
    const unavailable = (test: string): Suggestion => ({ test, state: 'unavailable', candidates: [] });
    // One test after the other: the first failing test is the news, and the budget is small.
    const results: Suggestion[] = targets.map((t) => unavailable(t.test));
    const all = (async () => {
      for (const [i, target] of targets.entries()) {
        results[i] = await suggestFor(tracker, target, this.repo, this.now()).catch((err: unknown) => {
          this.opts.log.warn({ test: target.test, err: errorMessage(err) }, 'tracker suggestion failed');
          return unavailable(target.test);
        });
      }
    })();
    if (waitMs === undefined) await all;
    else {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    // A copy: searches still running after the wait fill the cache, not this answer.
    return results.slice();
  }

  report(facts: ReportFacts, branch: string | undefined, maxBytes?: number): { full: string; short: string } {
    const version = versionLabel(branch, this.versions);
    const labels = [...this.labels, ...(version && !this.labels.includes(version) ? [version] : [])];
    const input: FileReportInput = { ...facts, repo: this.repo, webUrl: this.webUrl, labels };
    // What fits an IRC line or a chat link: the title names the tests; the body only the build.
    const short: FileReportInput = {
      ...input,
      tests: [],
      traceback: undefined,
      repro: undefined,
      seed: undefined,
    };
    short.worker = undefined;
    short.revision = undefined;
    short.branch = undefined;
    short.logUrl = undefined;
    short.reproCommand = undefined;
    return {
      full: newIssueUrl(input, issueTitle(facts), maxBytes),
      short: newIssueUrl(short, issueTitle(facts)),
    };
  }

  async changes(master: string, buildids: readonly number[]): Promise<ChangeSummary[] | undefined> {
    try {
      return await this.opts.readChanges(master, buildids);
    } catch (err) {
      this.opts.log.warn({ master, err: errorMessage(err) }, 'changes unavailable');
      return undefined;
    }
  }

  async buildFacts(master: string, buildid: number): Promise<BuildFacts | undefined> {
    try {
      return await this.opts.readFacts(master, buildid);
    } catch (err) {
      this.opts.log.warn({ master, buildid, err: errorMessage(err) }, 'build properties unavailable');
      return undefined;
    }
  }
}
