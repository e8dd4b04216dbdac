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
  it('renders counters and gauges with escaped labels that a strict parser reads back', () => {
    const r = new Registry();
    const c = r.counter('x_total', 'Things.\nCounted \\ here.');
    c.inc({ who: 'a "quoted" \\ name\nline' }, 2);
    c.inc({ who: 'b' });
    c.inc({ who: 'b' });
    const g = r.gauge('y', 'A gauge.');
    r.collect(() => g.set({}, 7.5));
    const parsed = parsePrometheus(r.render());
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
    const metrics = () => parsePrometheus(ops.registry.render());
    expect(sampleValue(metrics(), 'bbwatch_announcements_sent_total', { platform: 'irc' })).toBe(0);
    bus.emit(Events.WatcherState, { master: 'lab', status: 'connecting', transport: 'ws' });
    bus.emit(Events.WatcherState, { master: 'lab', status: 'streaming', transport: 'ws' });
    expect(sampleValue(metrics(), 'bbwatch_transport', { master: 'lab', transport: 'ws' })).toBe(1);
    bus.emit(Events.WatcherState, { master: 'lab', status: 'connecting', transport: 'ws' });
    expect(sampleValue(metrics(), 'bbwatch_transport', { master: 'lab', transport: 'none' })).toBe(1);
    expect(sampleValue(metrics(), 'bbwatch_master_up', { master: 'lab' })).toBe(0);
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
    const m = metrics();
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
