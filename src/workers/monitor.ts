import type { Logger } from 'pino';
import type { BuildbotRest } from '../buildbot/rest.js';
import type { BuildbotWorker } from '../buildbot/types.js';
import { formatDuration } from '../duration.js';
import { errorMessage } from '../errors.js';
import type { Message } from '../messages/message.js';
import type { NotifyRule } from '../config/schema.js';
import { destinationsFor } from '../notify/rules.js';
import { type WorkerAlert, WorkerAlerts, type WorkerSignal } from './alerts.js';

/** One worker as `!workers` shows it. */
export interface WorkerInfo {
  master: string;
  workerid: number;
  name: string;
  connected: boolean;
  /** How many builders it is configured for. */
  builders: number;
  /** When the bot saw it leave (ms), if it did. */
  offlineSince?: number;
}

export interface WorkersView {
  /** Every worker of every master, from REST (cached briefly), and the masters that did not answer. */
  list(): Promise<{ workers: WorkerInfo[]; unreachable: Array<{ master: string; error: string }> }>;
  now(): number;
}

export interface WorkerMonitorOptions {
  rests: ReadonlyMap<string, BuildbotRest>;
  graceMs: number;
  /** Sends a worker alert to whoever hears `worker` events. */
  announce: (alert: WorkerAlert, message: Message) => void;
  log: Logger;
  showMaster: boolean;
  /** How long a REST answer about workers is reused. */
  cacheMs?: number;
  now?: () => number;
}

/**
 * Follows the workers of every master: live `connected`/`disconnected`/`missing` events from the
 * stream, REST snapshots (at start, after every stream reconnect, for `!workers`) for what the
 * stream missed; announces a worker away longer than the grace period, and its return.
 */
export class WorkerMonitor implements WorkersView {
  private readonly alerts: WorkerAlerts;
  private readonly cache = new Map<string, { at: number; workers: Promise<BuildbotWorker[]> }>();
  private readonly baselined = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly now: () => number;

  constructor(private readonly opts: WorkerMonitorOptions) {
    this.alerts = new WorkerAlerts(opts.graceMs);
    this.now = opts.now ?? Date.now;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** A live event from a master's stream. */
  onSignal(master: string, workerid: number, name: string, signal: WorkerSignal): void {
    this.opts.log.info({ master, workerid, worker: name, signal }, 'worker event');
    this.cache.delete(master);
    this.emit(this.alerts.signal(master, workerid, name, signal, this.now()));
    this.schedule();
  }

  /** Reads the master's workers now (the stream may have missed something); the first read is the baseline. */
  async refresh(master: string): Promise<void> {
    this.cache.delete(master);
    const workers = await this.fetch(master);
    const first = !this.baselined.has(master);
    this.apply(master, workers);
    if (first) this.opts.log.info({ master, workers: workers.length }, 'workers loaded');
  }

  async list(): Promise<{ workers: WorkerInfo[]; unreachable: Array<{ master: string; error: string }> }> {
    const out: WorkerInfo[] = [];
    const unreachable: Array<{ master: string; error: string }> = [];
    for (const master of this.opts.rests.keys()) {
      let workers: BuildbotWorker[];
      try {
        workers = await this.fetch(master);
      } catch (err) {
        unreachable.push({ master, error: errorMessage(err) });
        continue;
      }
      this.apply(master, workers);
      for (const w of workers) {
        const state = this.alerts.get(master, w.workerid);
        const connected = w.connected_to.length > 0;
        out.push({
          master,
          workerid: w.workerid,
          name: w.name,
          connected,
          builders: new Set(w.configured_on.map((c) => c.builderid)).size,
          ...(!connected && state?.goneSince !== undefined ? { offlineSince: state.goneSince } : {}),
        });
      }
    }
    return { workers: out, unreachable };
  }

  private fetch(master: string): Promise<BuildbotWorker[]> {
    const cached = this.cache.get(master);
    if (cached && this.now() - cached.at < (this.opts.cacheMs ?? 30_000)) return cached.workers;
    const rest = this.opts.rests.get(master);
    if (!rest) return Promise.resolve([]);
    const workers = rest.workers();
    workers.catch(() => this.cache.delete(master));
    this.cache.set(master, { at: this.now(), workers });
    return workers;
  }

  private apply(master: string, workers: readonly BuildbotWorker[]): void {
    const first = !this.baselined.has(master);
    this.baselined.add(master);
    const alerts: WorkerAlert[] = [];
    for (const w of workers) {
      const connected = w.connected_to.length > 0;
      const known = this.alerts.get(master, w.workerid);
      if (first || !known) this.alerts.baseline(master, w.workerid, w.name, connected);
      else if (known.connected !== connected) {
        alerts.push(
          ...this.alerts.signal(
            master,
            w.workerid,
            w.name,
            connected ? 'connected' : 'disconnected',
            this.now(),
          ),
        );
      }
    }
    this.emit(alerts);
    this.schedule();
  }

  private emit(alerts: readonly WorkerAlert[]): void {
    for (const alert of alerts) {
      this.opts.log.info(
        { master: alert.master, worker: alert.name, kind: alert.kind, sinceMs: alert.at - alert.since },
        'worker alert',
      );
      try {
        this.opts.announce(alert, workerMessage(alert, this.opts.showMaster));
      } catch (err) {
        this.opts.log.error({ worker: alert.name, err: errorMessage(err) }, 'worker alert not recorded');
      }
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.alerts.nextDue();
    if (next === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.emit(this.alerts.due(this.now()));
        this.schedule();
      },
      Math.min(Math.max(0, next - this.now()), 60_000),
    );
    this.timer.unref();
  }
}

/** `Worker w1 is offline: gone for 5 min` / `Worker w1 is back online after 7 min away`. */
export function workerMessage(alert: WorkerAlert, showMaster: boolean): Message {
  const who = `Worker ${alert.name}${showMaster ? ` (${alert.master})` : ''}`;
  const away = formatDuration(alert.at - alert.since);
  return alert.kind === 'missing'
    ? {
        kind: 'announcement',
        tone: 'failure',
        title: [`${who} is offline: gone for ${away}`],
        lines: [
          [`Disconnected at ${new Date(alert.since).toISOString().slice(11, 19)} UTC; its builds wait.`],
        ],
      }
    : {
        kind: 'announcement',
        tone: 'success',
        title: [`${who} is back online after ${away} away`],
        lines: [],
      };
}

/** Who hears a master's worker alerts: rules with the `worker` event (only `masters` filters them). */
export function workerDestinations(rules: readonly NotifyRule[], master: string): string[] {
  return destinationsFor(
    rules.map((r) => ({ to: r.to, events: r.events, ...(r.masters ? { masters: r.masters } : {}) })),
    { master, event: 'worker', builderName: '', tags: [] },
  );
}
