import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { RequestBudget } from '../buildbot/budget.js';
import { type Bus, Events, type WatcherStatus } from '../bus.js';
import type { Adapter } from '../chat/adapter.js';
import type { MasterLink } from '../state/masters.js';
import type { TrackerEvent } from '../tracker/github.js';
import { type Counter, type Labels, Registry } from './metrics.js';

/** What the operations view reads: the bus, each master's request budget, adapters, queue sizes. */
export interface OpsSources {
  bus: Bus;
  masters: ReadonlyArray<{ name: string; budget: RequestBudget }>;
  adapters: readonly Adapter[];
  outboxPending(): number;
  analysisPending(): number;
  /** Each master's link as the operator sees it (since when, why): src/state/masters.ts. */
  links?: () => MasterLink[];
  /** With two replicas on PostgreSQL: this process leads (a standby runs no bot, see src/replica/). */
  role?: 'leader';
  /** Whether the store answers, and since when (src/store/health.ts). */
  store?: () => { ok: boolean; since: number; detail?: string };
}

export interface Health {
  ok: boolean;
  masters: Record<
    string,
    {
      status: WatcherStatus | 'starting';
      transport?: string;
      detail?: string;
      /** Why it is not followed, in a few words, and since when (ISO time). */
      reason?: string;
      since?: string;
      nextTry?: string;
    }
  >;
  adapters: Record<string, { connected: boolean }>;
  /** What is not up, one sentence each (empty when ok). */
  problems: string[];
  role?: 'leader';
  store?: { ok: boolean; since: string; detail?: string };
}

/** A master counts as up while its event stream is open or REST polling works. */
const UP: ReadonlySet<string> = new Set(['streaming', 'polling']);

/** Metrics and health, fed by the bus and read at scrape time. */
export class Ops {
  /** The bot's metrics and Node's default ones (event-loop lag among them). */
  readonly registry = new Registry().withDefaults();
  private readonly sent: Counter;
  private observeTracker: ((event: TrackerEvent) => void) | undefined;
  private readonly failed: Counter;
  private readonly state = new Map<string, Health['masters'][string]>();
  private readonly connectedOnce = new Set<string>();
  /** Masters whose feed was lost after it had connected: their next connect is a reconnect. */
  private readonly lost = new Set<string>();

  constructor(private readonly src: OpsSources) {
    const r = this.registry;
    const events = r.counter(
      'bbwatch_events_received_total',
      'Finished builds received from a master, by how they arrived (stream, poll, backfill, history).',
      ['master', 'origin'],
    );
    const reconnects = r.counter(
      'bbwatch_stream_reconnects_total',
      "Times a master's live feed (event stream or polling) came back after the first connect.",
      ['master'],
    );
    this.sent = r.counter('bbwatch_announcements_sent_total', 'Announcements a chat platform accepted.', [
      'platform',
    ]);
    this.failed = r.counter(
      'bbwatch_announcements_failed_total',
      'Announcement deliveries a chat platform refused or could not take (each attempt).',
      ['platform'],
    );
    const pending = r.gauge('bbwatch_outbox_pending', 'Announcements waiting in the outbox.');
    const analysis = r.gauge('bbwatch_analysis_queue_length', 'Test logs waiting to be read.');
    const used = r.gauge(
      'bbwatch_request_budget_used',
      'Requests to the master in the current budget window.',
      ['master'],
    );
    const limit = r.gauge('bbwatch_request_budget_limit', 'Requests allowed per budget window.', ['master']);
    const transport = r.gauge(
      'bbwatch_transport',
      "1 for the master's current live feed: ws, sse, poll, or none while connecting or down.",
      ['master', 'transport'],
    );
    const up = r.gauge('bbwatch_master_up', "1 while the master's event stream is open or polling works.", [
      'master',
    ]);
    const adapterUp = r.gauge('bbwatch_adapter_connected', '1 while the chat adapter is connected.', [
      'platform',
    ]);
    const downFor = r.gauge(
      'bbwatch_master_unreachable_seconds',
      'How long the master has been unreachable (0 while it is followed).',
      ['master'],
    );
    if (src.role) {
      r.gauge('bbwatch_leader', '1 while this process leads (holds the PostgreSQL leader lock).').set({}, 1);
    }

    for (const m of src.masters) {
      events.touch({ master: m.name, origin: 'stream' });
      reconnects.touch({ master: m.name });
      this.state.set(m.name, { status: 'starting' });
    }
    for (const a of src.adapters) {
      this.sent.touch({ platform: a.platform });
      this.failed.touch({ platform: a.platform });
    }
    src.bus.on(Events.BuildFinished, (e) => events.inc({ master: e.master, origin: e.origin }));
    src.bus.on(Events.WatcherState, (s) => {
      const before = this.state.get(s.master)?.status;
      this.state.set(s.master, {
        status: s.status,
        ...(s.transport ? { transport: s.transport } : {}),
        ...(s.detail ? { detail: s.detail } : {}),
      });
      if (s.status === 'streaming' || s.status === 'polling') {
        // Polling rounds repeat: only a return after the feed was lost counts.
        if (this.lost.has(s.master)) reconnects.inc({ master: s.master });
        this.connectedOnce.add(s.master);
        this.lost.delete(s.master);
      } else if (
        this.connectedOnce.has(s.master) &&
        (s.status === 'down' || (s.status === 'connecting' && before === 'streaming'))
      ) {
        // A stream that ended, or polling that failed (a stream that cannot open falls back to polling).
        this.lost.add(s.master);
      }
    });
    r.collect(() => {
      pending.set({}, src.outboxPending());
      analysis.set({}, src.analysisPending());
      transport.reset();
      up.reset();
      for (const m of src.masters) {
        used.set({ master: m.name }, m.budget.inWindow());
        limit.set({ master: m.name }, m.budget.requests);
        const s = this.state.get(m.name);
        const feed =
          s?.status === 'streaming' ? (s.transport ?? 'stream') : s?.status === 'polling' ? 'poll' : 'none';
        transport.set({ master: m.name, transport: feed }, 1);
        up.set({ master: m.name }, UP.has(s?.status ?? '') ? 1 : 0);
      }
      downFor.reset();
      for (const l of src.links?.() ?? []) {
        const seconds = l.state === 'unreachable' ? Math.round((Date.now() - l.since) / 1000) : 0;
        downFor.set({ master: l.master }, seconds);
      }
      adapterUp.reset();
      for (const a of src.adapters) adapterUp.set({ platform: a.platform }, isConnected(a) ? 1 : 0);
    });
  }

  /**
   * The issue tracker's counters (registered by the first call, so a bot without a tracker exports
   * none), and the function that counts each search's fate (src/tracker/github.ts).
   */
  trackerObserver(): (event: TrackerEvent) => void {
    this.observeTracker ??= this.trackerCounters();
    return this.observeTracker;
  }

  private trackerCounters(): (event: TrackerEvent) => void {
    const r = this.registry;
    const errors = r.counter(
      'bbwatch_tracker_errors_total',
      'Tracker searches that failed (failure: a timeout, a 5xx, no connection, a refusal) or that GitHub would not run (query_refused: a 422).',
      ['kind'],
    );
    const counters: Record<TrackerEvent, { counter: Counter; labels?: Labels }> = {
      sent: { counter: r.counter('bbwatch_tracker_searches_total', 'Searches sent to the issue tracker.') },
      cached: {
        counter: r.counter(
          'bbwatch_tracker_cache_hits_total',
          'Tracker searches answered from the cache (or by the same search already running).',
        ),
      },
      rate_limited: {
        counter: r.counter(
          'bbwatch_tracker_rate_limited_total',
          "Tracker answers that were a rate limit (403 or 429): searching waits for the limit's end.",
        ),
      },
      skipped: {
        counter: r.counter(
          'bbwatch_tracker_budget_skipped_total',
          'Tracker searches not sent for want of budget: spent for now, or paused by a rate limit or a failure.',
        ),
      },
      failed: { counter: errors, labels: { kind: 'failure' } },
      refused_query: { counter: errors, labels: { kind: 'query_refused' } },
    };
    for (const c of Object.values(counters)) c.counter.touch(c.labels);
    return (event) => {
      const c = counters[event];
      c.counter.inc(c.labels);
    };
  }

  /** Counts one delivery attempt of an announcement. */
  delivered(platform: string, ok: boolean): void {
    (ok ? this.sent : this.failed).inc({ platform });
  }

  health(): Health {
    const problems: string[] = [];
    const masters: Health['masters'] = {};
    const links = new Map((this.src.links?.() ?? []).map((l) => [l.master, l]));
    for (const m of this.src.masters) {
      const s = this.state.get(m.name) ?? { status: 'starting' as const };
      const link = links.get(m.name);
      const down = link?.state === 'unreachable';
      masters[m.name] = {
        ...s,
        ...(down && link.reason ? { reason: link.reason } : {}),
        ...(link ? { since: new Date(link.since).toISOString() } : {}),
        ...(down && link.nextTryAt ? { nextTry: new Date(link.nextTryAt).toISOString() } : {}),
      };
      if (UP.has(s.status)) continue;
      if (down)
        problems.push(
          `master ${m.name} has been unreachable since ${new Date(link.since).toISOString()}: ${link.reason ?? s.detail ?? 'unknown error'}`,
        );
      else problems.push(`master ${m.name} is ${s.status}${s.detail ? `: ${s.detail}` : ''}`);
    }
    const adapters: Health['adapters'] = {};
    for (const a of this.src.adapters) {
      const connected = isConnected(a);
      adapters[a.platform] = { connected };
      if (!connected) problems.push(`adapter ${a.platform} is not connected`);
    }
    const role = this.src.role ? { role: this.src.role } : {};
    const s = this.src.store?.();
    const since = s ? new Date(s.since).toISOString() : '';
    if (s && !s.ok)
      problems.push(`the database has been unreachable since ${since}: ${s.detail ?? 'unknown error'}`);
    const store = s ? { store: { ok: s.ok, since, ...(s.detail ? { detail: s.detail } : {}) } } : {};
    return { ok: problems.length === 0, masters, adapters, problems, ...role, ...store };
  }
}

/** Adapters that cannot tell count as connected. */
function isConnected(adapter: Adapter): boolean {
  return adapter.isConnected?.() ?? true;
}

export interface HttpOptions {
  listen: string;
  port: number;
  ops: Ops;
  log: Logger;
  /** Other GET paths (the dashboard): true when it answered. */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** The operations endpoint: GET /healthz and GET /metrics, and the dashboard when mounted. */
export async function startHttp({
  listen,
  port,
  ops,
  log,
  routes,
}: HttpOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    try {
      if (path === '/healthz') {
        const h = ops.health();
        const body = JSON.stringify({ status: h.ok ? 'ok' : 'unavailable', ...h });
        res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : `${body}\n`);
      } else if (path === '/metrics') {
        ops.registry.render().then(
          (text) => {
            res.writeHead(200, { 'content-type': ops.registry.contentType, 'cache-control': 'no-store' });
            res.end(req.method === 'HEAD' ? undefined : text);
          },
          (err: unknown) => failed(err),
        );
      } else if (!routes?.(req, res)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
      }
    } catch (err) {
      failed(err);
    }
    function failed(err: unknown): void {
      log.error({ err: err instanceof Error ? err.message : String(err), path }, 'http endpoint failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ listen, port: bound }, 'http listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
