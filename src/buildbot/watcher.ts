import type { Logger } from 'pino';
import { type BuildOrigin, type Bus, Events } from '../bus.js';
import type { MasterConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { MetaStore } from '../store/meta.js';
import { isMasterFailure, masterFailureReason } from './failure.js';
import { masterRest } from './master-rest.js';
import { backoffDelay, retry, sleep } from '../retry.js';
import type { BuildbotRest } from './rest.js';
import { type StreamHandle, type StreamOptions, StreamRefusedError } from './stream.js';
import { openSseStream } from './stream-sse.js';
import { openWebSocketStream } from './stream-ws.js';
import type { BuildbotBuild } from './types.js';

/** Back-fill asks again from this long before the newest completion seen: nothing slips between. */
const CURSOR_SLACK_S = 120;
const PAGE = 200;
const MAX_RECONNECT_DELAY_MS = 60_000;
/** A master that cannot be loaded at all is asked again after 2 s, 4 s … up to every 5 min. */
const MAX_LOAD_RETRY_MS = 300_000;
/** After a live event could not be processed, a back-fill this much later brings it again. */
const CATCH_UP_MS = 2000;
/** The longest wait between catch-up back-fills while they keep failing. */
const MAX_CATCH_UP_MS = 30_000;
/** A stream that lived this long resets the reconnect back-off. */
const HEALTHY_STREAM_MS = 60_000;

type Opener = (opts: StreamOptions) => Promise<StreamHandle>;
const OPENERS: Record<'ws' | 'sse', Opener> = { ws: openWebSocketStream, sse: openSseStream };

export interface WatcherDeps {
  bus: Bus;
  meta: MetaStore;
  log: Logger;
  /**
   * Resolves once every finished build emitted so far is written (rejects when one could not
   * be): the cursor moves past builds only then. Absent: emitting is taken as writing.
   */
  settled?: () => Promise<void>;
  now?: () => number;
}

/**
 * Watches one master: loads its builders and recent history, follows finished builds live (WS,
 * SSE, or REST polling) and back-fills from REST after every (re)connect and periodically, so that
 * no finished build is missed. Every finished build goes out on the bus once per arrival; the fleet
 * state drops the ones it has seen.
 */
export class MasterWatcher {
  readonly rest: BuildbotRest;
  private readonly abort = new AbortController();
  private stream: StreamHandle | undefined;
  private builderIds = new Set<number>();
  private lastBuilderRefresh = 0;
  /**
   * While a back-fill runs, and from the moment a stream is opened until the back-fill after it has
   * run, live events wait here: a build that finished while no stream was open is processed before
   * any newer build of its builder, so its transition is not lost (see `Fleet.record`).
   */
  private buffer: BuildbotBuild[] | undefined;
  /** How many holders keep live events in `buffer` (a running back-fill, a stream being opened). */
  private holds = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private loop: Promise<void> | undefined;
  /** A back-fill planned after a live event failed (one at a time). */
  private catchUp: NodeJS.Timeout | undefined;
  private catchUpDelayMs = CATCH_UP_MS;
  /** A stream was refused without a session, or with an expired one: log in before the next. */
  private streamLogin = false;

  constructor(
    readonly master: MasterConfig,
    private readonly deps: WatcherDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.rest = masterRest(master, deps.log);
  }

  private get cursorKey(): string {
    return `cursor:${this.master.name}`;
  }

  /**
   * Resolves once builders and history are loaded and the live feed is being followed (or polled);
   * keeps retrying while the master cannot be reached.
   */
  async start(): Promise<void> {
    const signal = this.abort.signal;
    const loaded = await retry(
      async () => {
        await this.refreshBuilders(true);
        await this.initialSync();
      },
      {
        minMs: 2000,
        maxMs: MAX_LOAD_RETRY_MS,
        signal,
        onRetry: (err, _attempt, delay) => {
          if (!isMasterFailure(err)) {
            // The master answered; the bot could not keep what it said (its store is away, say):
            // not the master's fault, so not reported as the master being down.
            this.deps.log.warn(
              { master: this.master.name, err: errorMessage(err), retryInMs: delay },
              "cannot record the master's builders and history; retrying",
            );
            return;
          }
          // Debug only: the operator's line comes from the state change (src/state/masters.ts).
          this.deps.log.debug(
            { master: this.master.name, err: errorMessage(err), retryInMs: delay },
            'cannot load the master; retrying',
          );
          this.status('down', undefined, err, delay);
        },
      },
    ).then(
      () => true,
      // Only a stop ends the retries.
      () => false,
    );
    if (!loaded || signal.aborted) return;
    const firstConnect = new Promise<void>((resolve) => {
      this.loop = this.follow(resolve);
    });
    await firstConnect;
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('stopped'));
    clearTimeout(this.catchUp);
    this.stream?.close();
    await this.loop?.catch(() => undefined);
    await this.chain;
    this.status('stopped');
  }

  /** First start: import recent history silently. Later starts: back-fill what finished meanwhile. */
  private async initialSync(): Promise<void> {
    if ((await this.deps.meta.get(this.cursorKey)) !== undefined) {
      await this.backfill('backfill');
      return;
    }
    const signal = this.abort.signal;
    const depth = this.master.history;
    const recent =
      this.builderIds.size === 0
        ? []
        : await this.rest.recentFinishedBuilds(Math.min(2000, this.builderIds.size * depth), signal);
    const perBuilder = new Map<number, number>();
    for (const b of recent) perBuilder.set(b.builderid, (perBuilder.get(b.builderid) ?? 0) + 1);
    const builds = [...recent];
    // Builders that built rarely lately: ask for their own history so each has a colour.
    for (const id of this.builderIds) {
      if ((perBuilder.get(id) ?? 0) >= 2) continue;
      builds.push(...(await this.rest.builderHistory(id, depth, signal)));
    }
    builds.sort(byCompletion);
    await this.emitAll(builds, 'history');
    const newest = builds.reduce((max, b) => Math.max(max, b.complete_at ?? 0), 0);
    await this.deps.meta.set(this.cursorKey, String(newest || Math.floor(this.now() / 1000)));
    this.deps.log.info({ master: this.master.name, builds: builds.length }, 'imported recent history');
  }

  /** Asks REST for every build that finished since the cursor and processes the new ones in order. */
  private backfill(origin: BuildOrigin): Promise<void> {
    return this.serialized(async () => {
      this.holdLive();
      try {
        const cursor = Number((await this.deps.meta.get(this.cursorKey)) ?? Math.floor(this.now() / 1000));
        const since = cursor - CURSOR_SLACK_S;
        const seen = new Set<number>();
        for (let offset = 0; ; offset += PAGE) {
          const page = await this.rest.finishedBuildsSince(since, PAGE, offset, this.abort.signal);
          if (page.some((b) => !this.builderIds.has(b.builderid))) await this.refreshBuilders(false);
          await this.emitAll(page, origin);
          // A master that ignores `offset` would hand out the same page forever.
          const fresh = page.filter((b) => !seen.has(b.buildid));
          for (const b of page) seen.add(b.buildid);
          if (page.length < PAGE || fresh.length === 0) break;
        }
      } finally {
        this.releaseLive();
      }
    });
  }

  private holdLive(): void {
    this.holds += 1;
    this.buffer ??= [];
  }

  /** Ends one hold; the last one processes what waited, in arrival order. */
  private releaseLive(): void {
    this.holds -= 1;
    if (this.holds > 0) return;
    const waiting = this.buffer ?? [];
    this.buffer = undefined;
    for (const build of waiting) this.guarded(() => this.onLiveBuild(build));
  }

  private onLiveBuild(build: BuildbotBuild): void {
    if (this.buffer) {
      this.buffer.push(build);
      return;
    }
    if (!this.builderIds.has(build.builderid)) {
      // A builder added since start: learn its name first, then process in order.
      // A failure is logged by `serialized`; the next back-fill brings the build again.
      this.serialized(async () => {
        await this.refreshBuilders(false);
        await this.emitAll([build], 'stream');
      }).catch(() => undefined);
      return;
    }
    this.guarded(() => this.emitAll([build], 'stream'));
  }

  /**
   * Runs a stream handler's work so that nothing it throws (a store that lost its database, a
   * listener's bug) escapes into the stream's socket callbacks, where it would end the process.
   * The build is not lost: the cursor only moves past builds that were processed, so a back-fill
   * soon after brings it again.
   */
  private guarded(work: () => void | Promise<void>): void {
    const failed = (err: unknown) => {
      this.deps.log.error(
        { master: this.master.name, err: errorMessage(err) },
        'a live event could not be processed; back-filling to catch up',
      );
      this.scheduleCatchUp();
    };
    try {
      const running = work();
      if (running) running.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  private async emitAll(builds: readonly BuildbotBuild[], origin: BuildOrigin): Promise<void> {
    if (builds.length === 0) return;
    const receivedAt = this.now();
    let cursor = 0;
    for (const build of builds) {
      this.deps.bus.emit(Events.BuildFinished, { master: this.master.name, build, origin, receivedAt });
      if ((build.complete_at ?? 0) > cursor) cursor = build.complete_at ?? cursor;
    }
    // Moved only past builds that are written: a build that could not be is fetched again.
    await this.deps.settled?.();
    const stored = Number((await this.deps.meta.get(this.cursorKey)) ?? 0);
    if (cursor > stored) await this.deps.meta.set(this.cursorKey, String(cursor));
  }

  private async refreshBuilders(force: boolean): Promise<void> {
    if (!force && this.now() - this.lastBuilderRefresh < 30_000) return;
    this.lastBuilderRefresh = this.now();
    const builders = await this.rest.builders(this.abort.signal);
    this.builderIds = new Set(builders.map((b) => b.builderid));
    this.deps.bus.emit(Events.BuildersLoaded, { master: this.master.name, builders });
  }

  /** Runs `task` after every task queued before it: back-fills and late builder loads never interleave. */
  private serialized(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.then(
      () => {
        this.catchUpDelayMs = CATCH_UP_MS;
      },
      (err) => {
        if (this.abort.signal.aborted) return;
        this.deps.log.warn({ master: this.master.name, err: errorMessage(err) }, 'back-fill failed');
        // What it was to bring (a build the store could not take, say) is asked for again soon.
        this.scheduleCatchUp();
      },
    );
    return run;
  }

  /** A back-fill soon (backing off while it keeps failing), unless one is due already. */
  private scheduleCatchUp(): void {
    if (this.abort.signal.aborted || this.catchUp) return;
    const delay = this.catchUpDelayMs;
    this.catchUpDelayMs = Math.min(delay * 2, MAX_CATCH_UP_MS);
    this.catchUp = setTimeout(() => {
      this.catchUp = undefined;
      this.backfill('backfill').catch(() => undefined);
    }, delay);
    this.catchUp.unref();
  }

  private transports(): Array<'ws' | 'sse'> {
    switch (this.master.stream) {
      case 'ws':
        return ['ws'];
      case 'sse':
        return ['sse'];
      case 'poll':
        return [];
      default:
        return ['ws', 'sse'];
    }
  }

  /** The reconnect loop. Calls `connected` once: after the first stream opened, or polling began. */
  private async follow(connected: () => void): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    let announcedReady = false;
    const ready = () => {
      if (!announcedReady) connected();
      announcedReady = true;
    };
    while (!signal.aborted) {
      let handle: StreamHandle | undefined;
      // Live builds wait until the back-fill after the open has brought what finished before them.
      this.holdLive();
      let held = true;
      const release = () => {
        if (held) this.releaseLive();
        held = false;
      };
      for (const transport of this.transports()) {
        this.status('connecting', transport);
        let cookie: string | undefined;
        try {
          cookie = this.streamLogin ? await this.rest.session.header() : this.rest.session.current();
          handle = await OPENERS[transport]({
            baseUrl: this.master.url,
            connectTimeoutMs: this.master.timeout,
            ...(cookie ? { cookie } : {}),
            silenceLimitMs: this.master.stream_silence,
            onBuild: (b) => this.guarded(() => this.onLiveBuild(b)),
            onBuildStarted: (b) =>
              this.guarded(() =>
                this.deps.bus.emit(Events.BuildStarted, { master: this.master.name, build: b }),
              ),
            onWorker: (w) =>
              this.guarded(() =>
                this.deps.bus.emit(Events.WorkerChanged, { master: this.master.name, ...w }),
              ),
            log: this.deps.log,
          });
          break;
        } catch (err) {
          let why = errorMessage(err);
          if (err instanceof StreamRefusedError) {
            // With a user, the next attempt logs in (again); without one, say what is missing.
            this.streamLogin = this.rest.session.renew(cookie);
            why = this.rest.session.refusal(
              err.status,
              transport === 'ws' ? 'the WebSocket upgrade' : 'SSE',
              '',
            );
          }
          // A refusal is the operator's to fix (credentials); other failures show in the state lines.
          if (err instanceof StreamRefusedError)
            this.deps.log.warn({ master: this.master.name, transport, err: why }, 'stream unavailable');
          else this.deps.log.info({ master: this.master.name, transport, err: why }, 'stream unavailable');
        }
      }
      if (signal.aborted) {
        release();
        handle?.close();
        return;
      }
      // A loop of its own rather than `retry` (src/retry.ts): between stream attempts it polls, a
      // stream that lived long resets the count, and a stream that ends is not an error; the wait
      // is the shared backoffDelay.
      const delayAfter = (failed: number) =>
        this.transports().length === 0
          ? this.master.poll_interval
          : backoffDelay(failed - 1, 1000, MAX_RECONNECT_DELAY_MS);
      if (handle) {
        this.stream = handle;
        this.status('streaming', handle.transport);
        this.deps.log.info(
          { master: this.master.name, transport: handle.transport },
          'following live events',
        );
        const openedAt = this.now();
        // Whatever finished while no stream was open, then the live builds that waited for it.
        await this.backfill('backfill').catch(() => undefined);
        release();
        ready();
        const reason = await this.waitForEnd(handle);
        this.stream = undefined;
        if (signal.aborted) return;
        this.deps.log.info({ master: this.master.name, transport: handle.transport, reason }, 'stream ended');
        failures = this.now() - openedAt > HEALTHY_STREAM_MS ? 1 : failures + 1;
      } else {
        release();
        // No stream: poll until it is time to try streaming again.
        failures += 1;
        if (this.transports().length === 0) failures = 0;
        const delay = delayAfter(failures);
        // Polling counts as a feed once a poll worked; polling that fails is no feed at all.
        await this.backfill('poll').then(
          () => this.status('polling'),
          (err: unknown) => {
            if (isMasterFailure(err)) this.status('down', undefined, err, delay);
          },
        );
        ready();
        await sleep(delay, signal).catch(() => undefined);
        continue;
      }
      await sleep(delayAfter(failures), signal).catch(() => undefined);
    }
  }

  /** Waits for the stream to end, back-filling every reconcile interval as a safety net. */
  private async waitForEnd(handle: StreamHandle): Promise<string> {
    const signal = this.abort.signal;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((resolve) => {
        timer = setTimeout(() => resolve('tick'), this.master.reconcile_interval);
      });
      const result = await Promise.race([handle.ended, tick]);
      clearTimeout(timer);
      if (result !== 'tick') return result;
      if (signal.aborted) return 'stopped';
      await this.backfill('poll').catch(() => undefined);
    }
  }

  private status(
    status: 'connecting' | 'streaming' | 'polling' | 'down' | 'stopped',
    transport?: string,
    err?: unknown,
    retryInMs?: number,
  ) {
    this.deps.bus.emit(Events.WatcherState, {
      master: this.master.name,
      status,
      ...(transport ? { transport } : {}),
      ...(err !== undefined ? { detail: errorMessage(err), reason: masterFailureReason(err) } : {}),
      ...(retryInMs !== undefined ? { retryInMs } : {}),
      ...(status === 'streaming' || status === 'polling' ? { builders: this.builderIds.size } : {}),
    });
  }
}

function byCompletion(a: BuildbotBuild, b: BuildbotBuild): number {
  return (a.complete_at ?? 0) - (b.complete_at ?? 0) || a.buildid - b.buildid;
}
