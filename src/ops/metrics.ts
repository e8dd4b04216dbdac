/**
 * A minimal metrics registry written out in Prometheus' text exposition format (version 0.0.4):
 * counters and gauges with labels, and collectors that refresh gauges at scrape time.
 */
export type Labels = Readonly<Record<string, string>>;

type Kind = 'counter' | 'gauge';

class Family {
  readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: Kind,
  ) {}

  add(labels: Labels, by: number): void {
    const key = seriesKey(labels);
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels, value: by });
  }

  set(labels: Labels, value: number): void {
    this.series.set(seriesKey(labels), { labels, value });
  }
}

export class Counter {
  constructor(private readonly family: Family) {}
  inc(labels: Labels = {}, by = 1): void {
    this.family.add(labels, by);
  }
  /** Makes the series exist (at 0) so that it is exported before its first event. */
  touch(labels: Labels = {}): void {
    this.family.add(labels, 0);
  }
  get(labels: Labels = {}): number {
    return this.family.series.get(seriesKey(labels))?.value ?? 0;
  }
}

export class Gauge {
  constructor(private readonly family: Family) {}
  set(labels: Labels, value: number): void {
    this.family.set(labels, value);
  }
  /** Forgets every series (before a collector sets the current ones). */
  reset(): void {
    this.family.series.clear();
  }
}

export class Registry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: Array<() => void> = [];

  counter(name: string, help: string): Counter {
    return new Counter(this.family(name, help, 'counter'));
  }

  gauge(name: string, help: string): Gauge {
    return new Gauge(this.family(name, help, 'gauge'));
  }

  /** Runs before every render: the place to set gauges from the current state. */
  collect(fn: () => void): void {
    this.collectors.push(fn);
  }

  render(): string {
    for (const fn of this.collectors) fn();
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${f.name} ${f.kind}`);
      for (const s of f.series.values()) out.push(`${f.name}${labelText(s.labels)} ${numberText(s.value)}`);
    }
    return `${out.join('\n')}\n`;
  }

  private family(name: string, help: string, kind: Kind): Family {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
    if (this.families.has(name)) throw new Error(`metric ${name} is registered twice`);
    const f = new Family(name, help, kind);
    this.families.set(name, f);
    return f;
  }
}

function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escaped = entries.map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`,
  );
  return `{${escaped.join(',')}}`;
}

function numberText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}
