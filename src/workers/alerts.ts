/** What the master says about a worker: `workers/<id>/connected|disconnected|missing`. */
export type WorkerSignal = 'connected' | 'disconnected' | 'missing';

/** An announcement to make: a worker gone longer than the grace period, or back after one. */
export interface WorkerAlert {
  kind: 'missing' | 'back';
  master: string;
  workerid: number;
  name: string;
  /** When it went away (ms). */
  since: number;
  /** When it was found missing (grace over) or came back (ms). */
  at: number;
}

/** What the bot knows of one worker. */
export interface WorkerState {
  master: string;
  workerid: number;
  name: string;
  connected: boolean;
  /** Set while away: when it left (undefined when it was already away when first seen). */
  goneSince?: number;
  /** Its absence was announced: its return will be too. */
  announced: boolean;
}

/**
 * Per-worker state with a grace period (pure; time comes in as arguments): a worker that leaves is
 * announced once it has been away `graceMs` (`due`), its return only when its absence was
 * announced; a worker back within the grace period is never mentioned. A worker already away
 * when first seen (at start) is not announced.
 */
export class WorkerAlerts {
  private readonly workers = new Map<string, WorkerState>();

  constructor(private readonly graceMs: number) {}

  /** Feeds one signal; returns the alert it makes now (a return), if any. */
  signal(master: string, workerid: number, name: string, signal: WorkerSignal, at: number): WorkerAlert[] {
    const key = `${master}\0${workerid}`;
    const w = this.workers.get(key);
    if (signal === 'connected') {
      const wasAnnounced = w?.announced === true;
      const since = w?.goneSince;
      this.workers.set(key, { master, workerid, name, connected: true, announced: false });
      return wasAnnounced && since !== undefined ? [{ kind: 'back', master, workerid, name, since, at }] : [];
    }
    if (!w) {
      // First seen away: where it went and when is unknown; not news.
      this.workers.set(key, { master, workerid, name, connected: false, announced: false });
      return [];
    }
    if (w.connected) this.workers.set(key, { ...w, name, connected: false, goneSince: at, announced: false });
    return [];
  }

  /** Marks a worker seen in a snapshot of the master (at start): no alert either way. */
  baseline(master: string, workerid: number, name: string, connected: boolean): void {
    const key = `${master}\0${workerid}`;
    if (!this.workers.has(key))
      this.workers.set(key, { master, workerid, name, connected, announced: false });
  }

  /** The workers whose grace period is over at `now`: each announced once. */
  due(now: number): WorkerAlert[] {
    const out: WorkerAlert[] = [];
    for (const w of this.workers.values()) {
      if (w.connected || w.announced || w.goneSince === undefined) continue;
      if (now - w.goneSince < this.graceMs) continue;
      w.announced = true;
      out.push({
        kind: 'missing',
        master: w.master,
        workerid: w.workerid,
        name: w.name,
        since: w.goneSince,
        at: now,
      });
    }
    return out;
  }

  /** When the next grace period ends, if any is running. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const w of this.workers.values()) {
      if (w.connected || w.announced || w.goneSince === undefined) continue;
      const at = w.goneSince + this.graceMs;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  get(master: string, workerid: number): WorkerState | undefined {
    return this.workers.get(`${master}\0${workerid}`);
  }

  has(master: string, workerid: number): boolean {
    return this.workers.has(`${master}\0${workerid}`);
  }
}
