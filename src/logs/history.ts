import { normalize } from './regrtest.js';
import type { KnownIssue, SameReasonBuild, StoredAnalysis, TestStats, TestStore } from '../store/tests.js';
import type { Analyzer, BuildToRead } from './analyzer.js';

export type { KnownIssue, SameReasonBuild, StoredAnalysis, TestStats };

/** What commands may ask about tests: history, analyses (read on demand), known issues. */
export interface TestHistoryView {
  /** Test names with history matching `query` (with or without `test.`, or a unique prefix). */
  resolveTest(query: string): Promise<string[]>;
  stats(test: string, days: number): Promise<TestStats | undefined>;
  flakiest(days: number, limit: number): Promise<TestStats[]>;
  /** A build's analysis, reading the log now if nobody did yet. */
  analysis(master: string, build: BuildToRead, wantTracebacks: boolean): Promise<StoredAnalysis | undefined>;
  knownIssues(): Promise<KnownIssue[]>;
  knownFor(test: string, builder: string): Promise<KnownIssue[]>;
  addKnown(test: string, issue: string, builders: string | null, addedBy: string | null): Promise<boolean>;
  removeKnown(test: string, issue?: string): Promise<number>;
  /** The failure reasons stored with a build's analysis (src/triage/reason.ts). */
  reasonsOf(master: string, buildid: number): Promise<Array<{ key: string; test: string }>>;
  /** The builds of the last `days` that failed for one of `keys`, `exclude` apart: newest first, `limit` per key. */
  sameReason(
    keys: readonly string[],
    days: number,
    exclude: { master: string; buildid: number },
    limit: number,
  ): Promise<SameReasonBuild[]>;
}

/** Of `names`, those starting with `prefix` (with or without `test.`), at most 20. */
export function testsStartingWith(names: readonly string[], prefix: string): string[] {
  const wanted = normalize(prefix.trim());
  return names.filter((n) => n.startsWith(wanted)).slice(0, 20);
}

export class TestHistory implements TestHistoryView {
  /** Test names with history, for completion while typing (which cannot wait for the store). */
  private names: string[] = [];

  constructor(
    private readonly store: TestStore,
    private readonly analyzer: Analyzer,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads the test names again (at start, and when an analysis added some). */
  async refreshNames(): Promise<void> {
    this.names = await this.store.testNames();
  }

  /** Test names starting with `prefix` (with or without `test.`), from memory: for completion. */
  completeTest(prefix: string): string[] {
    return testsStartingWith(this.names, prefix);
  }

  resolveTest(query: string): Promise<string[]> {
    return this.store.resolveTest(query);
  }

  stats(test: string, days: number): Promise<TestStats | undefined> {
    return this.store.stats(test, this.since(days));
  }

  flakiest(days: number, limit: number): Promise<TestStats[]> {
    return this.store.flakiest(this.since(days), limit);
  }

  analysis(master: string, build: BuildToRead, wantTracebacks: boolean) {
    return this.analyzer.analysisOf(master, build, wantTracebacks);
  }

  knownIssues(): Promise<KnownIssue[]> {
    return this.store.knownIssues();
  }

  knownFor(test: string, builder: string): Promise<KnownIssue[]> {
    return this.store.knownFor(test, builder);
  }

  addKnown(test: string, issue: string, builders: string | null, addedBy: string | null): Promise<boolean> {
    return this.store.addKnown(test, issue, builders, addedBy, this.now());
  }

  removeKnown(test: string, issue?: string): Promise<number> {
    return this.store.removeKnown(test, issue);
  }

  reasonsOf(master: string, buildid: number): Promise<Array<{ key: string; test: string }>> {
    return this.store.reasonsOf(master, buildid);
  }

  sameReason(
    keys: readonly string[],
    days: number,
    exclude: { master: string; buildid: number },
    limit: number,
  ): Promise<SameReasonBuild[]> {
    return this.store.sameReason(keys, this.since(days), exclude, limit);
  }

  private since(days: number): number {
    return Math.floor(this.now() / 1000) - Math.round(days * 86_400);
  }
}
