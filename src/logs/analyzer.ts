import type { Logger } from 'pino';
import { type BuildOrigin, type Bus, Events } from '../bus.js';
import type { BuildbotRest } from '../buildbot/rest.js';
import { isVerdict, Results } from '../buildbot/results.js';
import { errorMessage } from '../errors.js';
import { builderBranch } from '../state/branches.js';
import type { Fleet } from '../state/fleet.js';
import { previousVerdict } from '../state/transitions.js';
import type { BuildRecord } from '../store/builds.js';
import type { Db } from '../store/db.js';
import { type StoredAnalysis, TestStore } from '../store/tests.js';
import { testEvents } from './events.js';
import { readBuild } from './build-read.js';
import { INFRA_KINDS } from './failure-kind.js';
import { type LogSource, NoTestLogError } from './reader.js';

/**
 * A build to analyse: which one, and how it ended when the caller knows (a follow-up that saw it
 * finish before the bot recorded it); otherwise the bot's own record says.
 */
export interface BuildToRead {
  buildid: number;
  builderid: number;
  number: number;
  results?: number | null;
  stateString?: string;
}

export interface AnalyzerOptions {
  store: TestStore;
  fleet: Fleet;
  bus: Bus;
  log: Logger;
  masters: ReadonlyMap<string, { rest: BuildbotRest; logs: LogSource }>;
  /** Builds older than this when they reach the bot have their log events recorded, not announced. */
  maxAgeMs: number;
  /** The masters' worker names, masked in the failure reasons stored with an analysis. */
  workerNames?: () => Promise<readonly string[]>;
  now?: () => number;
}

/** Results worth reading: orange (maybe flaky) and red for their test log, red and purple for why they failed. */
const WORTH_READING: ReadonlySet<number> = new Set([Results.WARNINGS, Results.FAILURE, Results.EXCEPTION]);
const MAX_ATTEMPTS = 3;
const RETRY_MS = 30_000;

/**
 * Reads the test log of every orange or red build, one at a time within the master's request
 * budget: stores what the parser found (the test history), and announces what the log adds
 * (newfailure, flaky). The queue is in SQLite, so a restart finishes what a crash interrupted.
 */
export class Analyzer {
  private readonly waiters = new Map<string, Array<(a: StoredAnalysis | undefined) => void>>();
  private readonly inFlight = new Map<string, Promise<StoredAnalysis | undefined>>();
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly opts: AnalyzerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Queues a finished build for reading, with `tx` (the transaction that records it); true when
   * it was queued, and `drain()` should run once that transaction is committed.
   */
  async enqueue(master: string, build: BuildRecord, origin: BuildOrigin, tx?: Db): Promise<boolean> {
    if (origin === 'history' || !WORTH_READING.has(build.results ?? -1)) return false;
    if (!this.opts.masters.has(master)) return false;
    const fresh = this.now() - (build.completeAt ?? 0) * 1000 <= this.opts.maxAgeMs;
    const store = tx ? new TestStore(tx) : this.opts.store;
    return store.enqueue({ ...build, master }, fresh, this.now());
  }

  /** Works through the queue; safe to call often. */
  drain(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let retry = false;
      do {
        this.again = false;
        retry = false;
        try {
          for (const item of await this.opts.store.pending()) {
            if (this.stopped) return;
            if (!(await this.process(item))) retry = true;
          }
        } catch (err) {
          // The store is away: the queue is kept there, and read again later.
          this.opts.log.warn({ err: errorMessage(err) }, 'analysis queue not read; retrying');
          retry = true;
        }
      } while (this.again && !this.stopped);
      if (retry && !this.stopped) setTimeout(() => void this.drain(), RETRY_MS).unref();
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /**
   * A build's analysis: from the store, or waiting for the queued one, or read now (for `!why`
   * on a build nobody queued). Undefined when the log cannot be analysed.
   */
  async analysisOf(
    master: string,
    build: BuildToRead,
    wantTracebacks = false,
  ): Promise<StoredAnalysis | undefined> {
    const stored = await this.opts.store.get(master, build.buildid);
    if (stored?.status === 'done') {
      const a = stored.analysis;
      const missing = wantTracebacks && a && a.failed.some((t) => !a.tracebacks[t]) && !a.partial;
      if (!missing) return stored;
      return this.analyseNow(master, build, true);
    }
    if (stored?.status === 'failed') return stored;
    if (stored?.status === 'pending') {
      const key = `${master}:${build.buildid}`;
      return new Promise((resolve) => {
        this.waiters.set(key, [...(this.waiters.get(key) ?? []), resolve]);
        void this.drain();
      });
    }
    return this.analyseNow(master, build, wantTracebacks);
  }

  private analyseNow(
    master: string,
    build: BuildToRead,
    wantTracebacks: boolean,
  ): Promise<StoredAnalysis | undefined> {
    const key = `${master}:${build.buildid}${wantTracebacks ? ':tb' : ''}`;
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.read(master, build, wantTracebacks)
        .then(() => this.opts.store.get(master, build.buildid))
        .catch((err) => {
          this.opts.log.warn(
            { master, buildid: build.buildid, err: errorMessage(err) },
            'log analysis failed',
          );
          return undefined;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  /** Analyses one queued build; false when it stays queued for another try. */
  private async process(item: StoredAnalysis): Promise<boolean> {
    const key = `${item.master}:${item.buildid}`;
    try {
      await this.read(item.master, item, false);
      await this.announce(item);
    } catch (err) {
      const final = err instanceof NoTestLogError || item.attempts + 1 >= MAX_ATTEMPTS;
      await this.opts.store.saveFailed(item.master, item.buildid, errorMessage(err), final);
      this.opts.log.warn(
        { master: item.master, buildid: item.buildid, err: errorMessage(err), final },
        'log analysis failed',
      );
    }
    const done = await this.opts.store.get(item.master, item.buildid);
    if (done?.status === 'pending') return false;
    for (const resolve of this.waiters.get(key) ?? []) resolve(done);
    this.waiters.delete(key);
    return true;
  }

  private async read(master: string, build: BuildToRead, wantTracebacks: boolean): Promise<void> {
    const source = this.opts.masters.get(master);
    if (!source) throw new Error(`unknown master ${master}`);
    const record = this.opts.fleet.recent(master, build.builderid).find((b) => b.buildid === build.buildid);
    const ended =
      record ??
      (build.results !== undefined
        ? { results: build.results, stateString: build.stateString ?? '' }
        : undefined);
    // Why it failed (known already when the log is read again for tracebacks), and the test log.
    const known = (await this.opts.store.get(master, build.buildid))?.cause;
    const { result, cause } = await readBuild(source.rest, build, source.logs, {
      ended,
      cause: known,
      wantTracebacks,
    });
    const builder = this.opts.fleet.builder(master, build.builderid);
    const workers =
      result?.analysis.failed.length && this.opts.workerNames
        ? await this.opts.workerNames().catch(() => [])
        : [];
    await this.opts.store.saveDone(
      { master, buildid: build.buildid, builderid: build.builderid, number: build.number },
      result?.analysis,
      result?.logUrl ?? cause?.logUrl,
      {
        name: builder?.name ?? `builder ${build.builderid}`,
        branch: builder ? (builderBranch(builder.name, builder.tags) ?? null) : null,
      },
      record?.completeAt ?? Math.floor(this.now() / 1000),
      this.now(),
      cause,
      workers,
    );
    this.opts.bus.emit(Events.AnalysisStored, { master, buildid: build.buildid });
    this.opts.log.info(
      {
        master,
        buildid: build.buildid,
        result: result?.analysis.result,
        failed: result?.analysis.failed,
        flaky: result?.analysis.flaky,
        cause: cause?.kind,
        linesRead: result?.linesRead,
        totalLines: result?.totalLines,
      },
      'log analysed',
    );
  }

  /**
   * Emits what the log adds for a build queued as announceable: newfailure, flaky; and a red
   * announced as a test's `failure` whose log shows it was not (killed, full disk, lost worker),
   * which then goes to the `infra` destinations too (those that heard it already are not told
   * twice: the outbox keeps one entry per build, event and destination).
   */
  private async announce(item: StoredAnalysis): Promise<void> {
    if (!item.announce) return;
    const done = await this.opts.store.get(item.master, item.buildid);
    const builder = this.opts.fleet.builder(item.master, item.builderid);
    const recent = this.opts.fleet.recent(item.master, item.builderid);
    const build = recent.find((b) => b.buildid === item.buildid);
    if (!done || !builder || !build || build.results === null) return;
    // Only the builder's newest build speaks for its state now.
    if (recent.some((b) => b.number > build.number && isVerdict(b.results))) return;
    if (done.cause && INFRA_KINDS.has(done.cause.kind)) {
      const t = this.opts.fleet.transitionOf(item.master, build, 'stream');
      if (t?.event === 'failure' && !t.route)
        this.opts.bus.emit(Events.TestFinding, { ...t, route: 'infra' });
    }
    if (!done.analysis) return;
    const older = recent.filter((b) => b.number < build.number);
    const prev = previousVerdict(older);
    const prevAnalysis = prev ? (await this.opts.store.get(item.master, prev.buildid))?.analysis : undefined;
    for (const found of testEvents(
      build.results,
      done.analysis,
      prev ? { results: prev.results, analysis: prevAnalysis } : undefined,
    )) {
      this.opts.bus.emit(Events.TestFinding, {
        master: item.master,
        event: found.event,
        builder,
        build,
        previous: prev,
        streak: undefined,
        sinceLastGood: [build],
        origin: 'stream',
        ...(found.newFailures ? { newFailures: found.newFailures } : {}),
      });
    }
  }
}
