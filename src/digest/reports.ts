import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Message } from '../messages/message.js';
import type { FleetView } from '../state/fleet.js';
import type { MetaStore } from '../store/meta.js';
import type { ReportStore } from '../store/reports.js';
import { type Cron, parseCron } from './cron.js';
import { computeDigest } from './digest.js';
import { renderDigest } from './render.js';

/** What commands may ask for: the digest of the last `days`, ready to send. */
export interface ReportsView {
  report(days: number): Promise<Message>;
}

/** When the last digest went out (any destination), epoch seconds: `!report` counts new failures from it. */
const LAST_KEY = 'digest:last';

export class Reports implements ReportsView {
  constructor(
    private readonly store: ReportStore,
    private readonly fleet: FleetView,
    private readonly meta: MetaStore,
    private readonly showMaster: boolean,
    private readonly now: () => number = Date.now,
    /** The dashboard page digests link to (`http.public_url` + `flaky`), if published. */
    private readonly dashboardUrl?: string,
  ) {}

  async report(days: number, lastDigest?: number): Promise<Message> {
    lastDigest ??= await this.lastDigest(LAST_KEY);
    const digest = await computeDigest(this.store, { now: this.now(), days, lastDigest });
    return renderDigest(digest, {
      buildUrl: (m, b, n) => this.fleet.buildUrl(m, b, n),
      showMaster: this.showMaster,
      dashboardUrl: this.dashboardUrl,
    });
  }

  /** The scheduled digest for `to`: counts new failures since the last one sent there, and records this one. */
  async scheduled(to: string, days: number): Promise<Message> {
    const key = `${LAST_KEY}:${to}`;
    const message = await this.report(days, await this.lastDigest(key));
    const at = String(Math.floor(this.now() / 1000));
    await this.meta.set(key, at);
    await this.meta.set(LAST_KEY, at);
    return { ...message, kind: 'announcement' };
  }

  private async lastDigest(key: string): Promise<number | undefined> {
    const value = await this.meta.get(key);
    return value === undefined ? undefined : Number(value);
  }
}

export interface DigestSchedule {
  to: string;
  cron: string;
  /** The time zone of `cron`; the bot's local time without it. */
  timezone?: string | undefined;
  days: number;
}

/**
 * Sends each configured digest at the minutes its cron expression names (in its time zone, or the
 * bot's local time).
 * Minutes missed while the bot was not running are not made up for.
 */
export class DigestScheduler {
  private readonly entries: Array<DigestSchedule & { parsed: Cron }>;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    schedules: readonly DigestSchedule[],
    private readonly reports: Reports,
    /** Records and delivers it once: `minute` (epoch seconds) keeps a restart from sending it twice. */
    private readonly send: (to: string, minute: number, message: Message) => Promise<void>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = schedules.map((s) => ({ ...s, parsed: parseCron(s.cron, s.timezone) }));
  }

  start(): void {
    if (this.entries.length === 0) return;
    const wait = 60_000 - (this.now() % 60_000);
    this.timer = setTimeout(() => {
      void this.tick(new Date(this.now()));
      this.start();
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends the digests due in the minute that contains `at`. */
  async tick(at: Date): Promise<void> {
    const minute = Math.floor(at.getTime() / 60_000) * 60;
    for (const entry of this.entries) {
      if (!entry.parsed.matches(at)) continue;
      try {
        await this.send(entry.to, minute, await this.reports.scheduled(entry.to, entry.days));
        this.log.info({ to: entry.to, cron: entry.cron, days: entry.days }, 'digest sent');
      } catch (err) {
        this.log.error({ to: entry.to, err: errorMessage(err) }, 'digest failed');
      }
    }
  }
}
