import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Db } from './db.js';
import { Outbox } from './outbox.js';
import { ReportStore } from './reports.js';

/** The store as /healthz and /metrics see it: reachable or not since when, and its queue sizes. */
export interface StoreState {
  ok: boolean;
  /** When it last changed (ms). */
  since: number;
  /** Why it is not reachable. */
  detail?: string;
  outboxPending: number;
  analysisPending: number;
}

/**
 * Asks the store a small question every few seconds (the queue sizes the metrics show): whether
 * it answers, logged once per change ("database unreachable" / "database reachable again"). The
 * answers are kept for readers that must not wait (scrapes, /healthz).
 */
export class StoreHealth {
  private current: StoreState;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private readonly outbox: Outbox;
  private readonly reports: ReportStore;

  private stalledTold = false;

  constructor(
    db: Db,
    private readonly log: Logger,
    private readonly opts: {
      everyMs?: number;
      /** Called once when the store has not answered for `stalledAfterMs` (default 10 s). */
      onStalled?: (detail: string) => void;
      stalledAfterMs?: number;
      now?: () => number;
    } = {},
  ) {
    const now = (this.now = opts.now ?? Date.now);
    this.outbox = new Outbox(db);
    this.reports = new ReportStore(db);
    this.current = { ok: true, since: now(), outboxPending: 0, analysisPending: 0 };
  }

  private readonly now: () => number;

  state(): StoreState {
    return this.current;
  }

  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.opts.everyMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A failure seen elsewhere (a build not stored): reported now, not at the next check. */
  failed(err: unknown): void {
    this.set(false, errorMessage(err));
  }

  /** Asks now; resolves once answered (or failed). */
  check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const [outboxPending, analysisPending] = await Promise.all([
          this.outbox.count('pending'),
          this.reports.analysisPending(),
        ]);
        this.current = { ...this.current, outboxPending, analysisPending };
        this.set(true);
      } catch (err) {
        this.set(false, errorMessage(err));
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  private set(ok: boolean, detail?: string): void {
    if (ok === this.current.ok) {
      if (ok) return;
      if (detail) this.current = { ...this.current, detail };
      const forMs = this.now() - this.current.since;
      if (!this.stalledTold && this.opts.onStalled && forMs >= (this.opts.stalledAfterMs ?? 10_000)) {
        this.stalledTold = true;
        this.opts.onStalled(
          `the database has not answered for ${Math.round(forMs / 1000)} s: ${this.current.detail ?? ''}`,
        );
      }
      return;
    }
    if (ok) this.stalledTold = false;
    const { detail: _gone, ...rest } = this.current;
    this.current = { ...rest, ok, since: this.now(), ...(ok ? {} : { detail: detail ?? 'unknown error' }) };
    if (ok) this.log.warn('database reachable again');
    else
      this.log.error(
        { err: detail },
        'database unreachable; retrying (nothing is lost: builds are fetched again)',
      );
  }
}
