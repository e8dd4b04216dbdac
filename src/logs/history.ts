import type { KnownIssue, StoredAnalysis, TestStats, TestStore } from '../store/tests.js';
import type { Analyzer, BuildToRead } from './analyzer.js';

export type { KnownIssue, StoredAnalysis, TestStats };

/** What commands may ask about tests: history, analyses (read on demand), known issues. */
export interface TestHistoryView {
  /** Test names with history matching `query` (with or without `test.`, or a unique prefix). */
  resolveTest(query: string): string[];
  stats(test: string, days: number): TestStats | undefined;
  flakiest(days: number, limit: number): TestStats[];
  /** A build's analysis, reading the log now if nobody did yet. */
  analysis(master: string, build: BuildToRead, wantTracebacks: boolean): Promise<StoredAnalysis | undefined>;
  knownIssues(): KnownIssue[];
  knownFor(test: string, builder: string): KnownIssue[];
  addKnown(test: string, issue: string, builders: string | null, addedBy: string | null): boolean;
  removeKnown(test: string, issue?: string): number;
}

export class TestHistory implements TestHistoryView {
  constructor(
    private readonly store: TestStore,
    private readonly analyzer: Analyzer,
    private readonly now: () => number = Date.now,
  ) {}

  resolveTest(query: string): string[] {
    return this.store.resolveTest(query);
  }

  stats(test: string, days: number): TestStats | undefined {
    return this.store.stats(test, this.since(days));
  }

  flakiest(days: number, limit: number): TestStats[] {
    return this.store.flakiest(this.since(days), limit);
  }

  analysis(master: string, build: BuildToRead, wantTracebacks: boolean) {
    return this.analyzer.analysisOf(master, build, wantTracebacks);
  }

  knownIssues(): KnownIssue[] {
    return this.store.knownIssues();
  }

  knownFor(test: string, builder: string): KnownIssue[] {
    return this.store.knownFor(test, builder);
  }

  addKnown(test: string, issue: string, builders: string | null, addedBy: string | null): boolean {
    return this.store.addKnown(test, issue, builders, addedBy, this.now());
  }

  removeKnown(test: string, issue?: string): number {
    return this.store.removeKnown(test, issue);
  }

  private since(days: number): number {
    return Math.floor(this.now() / 1000) - Math.round(days * 86_400);
  }
}
