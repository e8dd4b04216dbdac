import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/buildbot/budget.js';
import { Bus, Events } from '../../src/bus.js';
import type { Adapter } from '../../src/chat/adapter.js';
import { Registry } from '../../src/ops/metrics.js';
import { Ops } from '../../src/ops/ops.js';
import { parsePrometheus, sampleValue } from '../support/prometheus.js';

function adapter(platform: string, connected?: () => boolean): Adapter {
  return {
    platform,
    lineLimit: 10,
    start: async () => undefined,
    stop: async () => undefined,
    send: async () => undefined,
    ...(connected ? { isConnected: connected } : {}),
  };
}

describe('metrics text format', () => {
  it('renders counters and gauges with escaped labels that a strict parser reads back', async () => {
    const r = new Registry();
    const c = r.counter('x_total', 'Things.\nCounted \\ here.', ['who']);
    c.inc({ who: 'a "quoted" \\ name\nline' }, 2);
    c.inc({ who: 'b' });
    c.inc({ who: 'b' });
    const g = r.gauge('y', 'A gauge.');
    r.collect(() => g.set({}, 7.5));
    const parsed = parsePrometheus(await r.render());
    expect(parsed.get('x_total')?.type).toBe('counter');
    expect(parsed.get('x_total')?.help).toBe('Things.\nCounted \\ here.');
    expect(sampleValue(parsed, 'x_total', { who: 'a "quoted" \\ name\nline' })).toBe(2);
    expect(sampleValue(parsed, 'x_total', { who: 'b' })).toBe(2);
    expect(sampleValue(parsed, 'y')).toBe(7.5);
  });

  it('the parser refuses what is not the format', () => {
    expect(() => parsePrometheus('x 1\n')).toThrow(/undeclared/);
    expect(() => parsePrometheus('# TYPE x counter\nx{a="1} 1\n')).toThrow(/unterminated/);
    expect(() => parsePrometheus('# TYPE x counter\nx one\n')).toThrow(/not a number/);
    expect(() => parsePrometheus('# TYPE x counter\nx 1\nx 2\n')).toThrow(/duplicate/);
    expect(() => parsePrometheus('# TYPE x counter\nx_bucket{le="1"} 1\n')).toThrow(/undeclared/);
    expect(() => parsePrometheus('# TYPE x summary\nx_bucket{le="1"} 1\n')).toThrow(/undeclared/);
  });

  it("the parser reads a histogram's buckets, sum and count as its samples", () => {
    const parsed = parsePrometheus(
      '# TYPE h histogram\nh_bucket{le="0.1"} 1\nh_bucket{le="+Inf"} 3\nh_sum 0.7\nh_count 3\n',
    );
    expect(sampleValue(parsed, 'h_bucket', { le: '+Inf' })).toBe(3);
    expect(sampleValue(parsed, 'h_count')).toBe(3);
    expect(parsed.get('h')?.samples).toHaveLength(4);
  });
});

describe('/metrics exposition', () => {
  /** Every metric README's Operations table lists, with its type and labels. */
  const DOCUMENTED: Array<[string, string, string[]]> = [
    ['bbwatch_events_received_total', 'counter', ['master', 'origin']],
    ['bbwatch_announcements_sent_total', 'counter', ['platform']],
    ['bbwatch_announcements_failed_total', 'counter', ['platform']],
    ['bbwatch_outbox_pending', 'gauge', []],
    ['bbwatch_analysis_queue_length', 'gauge', []],
    ['bbwatch_request_budget_used', 'gauge', ['master']],
    ['bbwatch_request_budget_limit', 'gauge', ['master']],
    ['bbwatch_stream_reconnects_total', 'counter', ['master']],
    ['bbwatch_transport', 'gauge', ['master', 'transport']],
    ['bbwatch_master_up', 'gauge', ['master']],
    ['bbwatch_master_unreachable_seconds', 'gauge', ['master']],
    ['bbwatch_adapter_connected', 'gauge', ['platform']],
  ];

  it("has today's metrics with their types and labels, and Node's default metrics with event-loop lag", async () => {
    const bus = new Bus();
    const ops = new Ops({
      bus,
      masters: [{ name: 'lab', budget: new RequestBudget(10, 10_000) }],
      adapters: [adapter('irc', () => true)],
      outboxPending: () => 0,
      analysisPending: () => 0,
      links: () => [
        { master: 'lab', url: 'http://lab/', state: 'following', since: Date.now(), everFollowed: true },
      ],
      role: 'leader',
    });
    const m = parsePrometheus(await ops.registry.render());
    for (const [name, type, labels] of DOCUMENTED) {
      expect({ name, type: m.get(name)?.type }).toEqual({ name, type });
      const sample = m.get(name)?.samples[0];
      expect({ name, labels: Object.keys(sample?.labels ?? {}).sort() }).toEqual({
        name,
        labels: labels.sort(),
      });
    }
    expect(sampleValue(m, 'bbwatch_leader')).toBe(1);
    // Node's default metrics: the event loop's delay, memory, CPU, the process' start.
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_eventloop_lag_max_seconds',
      'nodejs_heap_size_used_bytes',
      'process_cpu_seconds_total',
      'process_start_time_seconds',
    ]) {
      expect(m.get(name)?.samples.length ?? 0, name).toBeGreaterThan(0);
    }
    expect(sampleValue(m, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.get('nodejs_gc_duration_seconds')?.type).toBe('histogram');
  });
});

describe('operations view', () => {
  function setup(connected = true) {
    const bus = new Bus();
    const budget = new RequestBudget(10, 10_000);
    const ops = new Ops({
      bus,
      masters: [{ name: 'lab', budget }],
      adapters: [adapter('console'), adapter('irc', () => connected)],
      outboxPending: () => 3,
      analysisPending: () => 4,
    });
    return { bus, budget, ops };
  }

  it('is healthy only when every master has a feed and every adapter is connected', () => {
    const { bus, ops } = setup();
    expect(ops.health().ok).toBe(false);
    expect(ops.health().problems).toEqual(['master lab is starting']);
    bus.emit(Events.WatcherState, { master: 'lab', status: 'streaming', transport: 'ws' });
    expect(ops.health()).toMatchObject({
      ok: true,
      problems: [],
      adapters: { console: { connected: true } },
    });
    bus.emit(Events.WatcherState, { master: 'lab', status: 'down', detail: 'ECONNREFUSED' });
    expect(ops.health().problems).toEqual(['master lab is down: ECONNREFUSED']);
    bus.emit(Events.WatcherState, { master: 'lab', status: 'polling' });
    expect(ops.health().ok).toBe(true);
    const off = setup(false);
    off.bus.emit(Events.WatcherState, { master: 'lab', status: 'polling' });
    expect(off.ops.health()).toMatchObject({ ok: false, problems: ['adapter irc is not connected'] });
  });

  it('counts events, deliveries and reconnects, and reports queues, budget and transport', async () => {
    const { bus, budget, ops } = setup();
    const metrics = async () => parsePrometheus(await ops.registry.render());
    expect(sampleValue(await metrics(), 'bbwatch_announcements_sent_total', { platform: 'irc' })).toBe(0);
    bus.emit(Events.WatcherState, { master: 'lab', status: 'connecting', transport: 'ws' });
    bus.emit(Events.WatcherState, { master: 'lab', status: 'streaming', transport: 'ws' });
    expect(sampleValue(await metrics(), 'bbwatch_transport', { master: 'lab', transport: 'ws' })).toBe(1);
    bus.emit(Events.WatcherState, { master: 'lab', status: 'connecting', transport: 'ws' });
    expect(sampleValue(await metrics(), 'bbwatch_transport', { master: 'lab', transport: 'none' })).toBe(1);
    expect(sampleValue(await metrics(), 'bbwatch_master_up', { master: 'lab' })).toBe(0);
    bus.emit(Events.WatcherState, { master: 'lab', status: 'streaming', transport: 'sse' });
    bus.emit(Events.WatcherState, { master: 'lab', status: 'polling' });
    bus.emit(Events.WatcherState, { master: 'lab', status: 'polling' });
    const build = {
      buildid: 1,
      builderid: 1,
      number: 1,
      results: 2,
      complete: true,
      started_at: 0,
      complete_at: 1,
      state_string: 'failed',
    };
    for (const origin of ['stream', 'stream', 'poll'] as const)
      bus.emit(Events.BuildFinished, { master: 'lab', build, origin, receivedAt: 0 });
    ops.delivered('irc', true);
    ops.delivered('irc', false);
    ops.delivered('irc', false);
    await budget.take();
    await budget.take();
    const m = await metrics();
    expect(sampleValue(m, 'bbwatch_stream_reconnects_total', { master: 'lab' })).toBe(1);
    expect(sampleValue(m, 'bbwatch_transport', { master: 'lab', transport: 'poll' })).toBe(1);
    expect(m.get('bbwatch_transport')?.samples).toHaveLength(1);
    expect(sampleValue(m, 'bbwatch_events_received_total', { master: 'lab', origin: 'stream' })).toBe(2);
    expect(sampleValue(m, 'bbwatch_events_received_total', { master: 'lab', origin: 'poll' })).toBe(1);
    expect(sampleValue(m, 'bbwatch_announcements_sent_total', { platform: 'irc' })).toBe(1);
    expect(sampleValue(m, 'bbwatch_announcements_failed_total', { platform: 'irc' })).toBe(2);
    expect(sampleValue(m, 'bbwatch_outbox_pending')).toBe(3);
    expect(sampleValue(m, 'bbwatch_analysis_queue_length')).toBe(4);
    expect(sampleValue(m, 'bbwatch_request_budget_used', { master: 'lab' })).toBe(2);
    expect(sampleValue(m, 'bbwatch_request_budget_limit', { master: 'lab' })).toBe(10);
    expect(sampleValue(m, 'bbwatch_adapter_connected', { platform: 'console' })).toBe(1);
  });
});
