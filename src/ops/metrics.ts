import * as prom from 'prom-client';

/**
 * The bot's metrics, kept and written out by prom-client (Prometheus' text exposition format,
 * version 0.0.4): counters and gauges with labels, collectors that refresh gauges at scrape time,
 * and, when asked, Node's default metrics (CPU, memory, handles, GC, event-loop lag).
 */
export type Labels = Readonly<Record<string, string>>;

export class Counter {
  constructor(private readonly metric: prom.Counter) {}
  inc(labels: Labels = {}, by = 1): void {
    this.metric.inc(labels, by);
  }
  /** Makes the series exist (at 0) so that it is exported before its first event. */
  touch(labels: Labels = {}): void {
    this.metric.inc(labels, 0);
  }
}

export class Gauge {
  constructor(private readonly metric: prom.Gauge) {}
  set(labels: Labels, value: number): void {
    this.metric.set(labels, value);
  }
  /** Forgets every series (before a collector sets the current ones). */
  reset(): void {
    this.metric.reset();
  }
}

export class Registry {
  private readonly registry = new prom.Registry();
  private readonly collectors: Array<() => void> = [];

  /** The Content-Type of what `render` writes. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** `labels`: every label name a series of it may carry (prom-client refuses others). */
  counter(name: string, help: string, labels: readonly string[] = []): Counter {
    return new Counter(new prom.Counter({ name, help, labelNames: labels, registers: [this.registry] }));
  }

  gauge(name: string, help: string, labels: readonly string[] = []): Gauge {
    return new Gauge(new prom.Gauge({ name, help, labelNames: labels, registers: [this.registry] }));
  }

  /** Runs before every render: the place to set gauges from the current state. */
  collect(fn: () => void): void {
    this.collectors.push(fn);
  }

  /**
   * Node's default metrics (`process_*`, `nodejs_*`), among them the event loop's delay as
   * `nodejs_eventloop_lag_seconds` (at scrape time) and `nodejs_eventloop_lag_{p50,p90,p99,max}_seconds`
   * (over the time since the process started, sampled every 10 ms).
   */
  withDefaults(): this {
    prom.collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    return this;
  }

  async render(): Promise<string> {
    for (const fn of this.collectors) fn();
    return this.registry.metrics();
  }
}
