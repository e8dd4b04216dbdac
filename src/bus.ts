import { EventEmitter } from 'node:events';
import type { BuildbotBuild, BuildbotBuilder } from './buildbot/types.js';
import type { Transition } from './state/fleet.js';
import type { BuildRecord } from './store/builds.js';

/** How a finished build reached the bot: history import is never announced. */
export type BuildOrigin = 'history' | 'backfill' | 'stream' | 'poll';

export const Events = {
  BuildersLoaded: 'builders.loaded',
  BuildStarted: 'build.started',
  BuildFinished: 'build.finished',
  BuildRecorded: 'build.recorded',
  BuilderTransition: 'builder.transition',
  WatcherState: 'watcher.state',
  WorkerChanged: 'worker.changed',
  AnalysisStored: 'analysis.stored',
  TestFinding: 'test.finding',
} as const;

export type WatcherStatus = 'connecting' | 'streaming' | 'polling' | 'down' | 'stopped';

/** What a master's watcher is doing; `src/state/masters.ts` turns changes into one line each. */
export interface WatcherState {
  master: string;
  status: WatcherStatus;
  /** `ws`, `sse` (while connecting or streaming). */
  transport?: string;
  /** The full error, for logs and /healthz. */
  detail?: string;
  /** Why, in a few words ("DNS lookup failed", "HTTP 503 Service Unavailable"), when down. */
  reason?: string;
  /** When down: how long until the next try. */
  retryInMs?: number;
  /** Builders known, once loaded. */
  builders?: number;
}

export interface BotEvents {
  [Events.BuildersLoaded]: [{ master: string; builders: BuildbotBuilder[] }];
  /** A build started, as the master's live stream said (no other source: see FollowUps). */
  [Events.BuildStarted]: [{ master: string; build: BuildbotBuild }];
  [Events.BuildFinished]: [{ master: string; build: BuildbotBuild; origin: BuildOrigin; receivedAt: number }];
  /** A finished build seen for the first time, once the transaction that records it is committed. */
  [Events.BuildRecorded]: [{ master: string; build: BuildRecord; origin: BuildOrigin }];
  /**
   * A builder changed colour (src/state/tracker.ts, the one producer), once its build and the
   * announcements it makes are committed; never for history or builds too old to announce.
   */
  [Events.BuilderTransition]: [Transition];
  /**
   * What a build's test log adds (newfailure, flaky: src/logs/analyzer.ts, the one producer), once
   * its analysis is stored; announced like a transition.
   */
  [Events.TestFinding]: [Transition];
  [Events.WatcherState]: [WatcherState];
  /** A worker connected, disconnected or went missing (live, from the event stream). */
  /** A build's test log was read and what it says stored (the test history changed). */
  [Events.AnalysisStored]: [{ master: string; buildid: number }];
  [Events.WorkerChanged]: [
    { master: string; workerid: number; name: string; signal: 'connected' | 'disconnected' | 'missing' },
  ];
}

/** A typed event emitter: the only way the core's parts talk to each other. */
export class Bus {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.emitter.setMaxListeners(50);
  }

  on<K extends keyof BotEvents>(event: K, listener: (...args: BotEvents[K]) => void): () => void {
    const wrapped = listener as (...args: unknown[]) => void;
    this.emitter.on(event, wrapped);
    return () => this.emitter.off(event, wrapped);
  }

  emit<K extends keyof BotEvents>(event: K, ...args: BotEvents[K]): void {
    this.emitter.emit(event, ...args);
  }
}
