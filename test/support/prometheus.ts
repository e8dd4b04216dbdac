/**
 * A strict parser for Prometheus' text exposition format (0.0.4), for tests: every line must be a
 * comment, a `# HELP`/`# TYPE` line, or a sample `name{label="value",...} value [timestamp]`; every
 * sample must belong to a family declared by `# TYPE` before it (a histogram's `_bucket`, `_sum`
 * and `_count` samples, a summary's `_sum` and `_count`, belong to it). Throws on anything else.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: '${line}'`;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      const family = families.get(name) ?? { name, type: 'untyped' as const, help: undefined, samples: [] };
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          throw new Error(`${where}: unknown type`);
        if (family.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        family.type = rest as Family['type'];
      } else {
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      families.set(name, family);
      return;
    }
    if (line.trim() === '') return;
    const nameMatch = NAME.exec(line);
    if (!nameMatch) throw new Error(`${where}: no metric name`);
    const name = nameMatch[0];
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const l = LABEL.exec(rest);
        if (!l) throw new Error(`${where}: bad label name`);
        rest = rest.slice(l[0].length);
        if (!rest.startsWith('="')) throw new Error(`${where}: expected ="`);
        rest = rest.slice(2);
        let value = '';
        for (;;) {
          const c = rest[0];
          if (c === undefined) throw new Error(`${where}: unterminated label value`);
          rest = rest.slice(1);
          if (c === '"') break;
          if (c === '\\') {
            const e = rest[0];
            rest = rest.slice(1);
            if (e === 'n') value += '\n';
            else if (e === '\\' || e === '"') value += e;
            else throw new Error(`${where}: bad escape`);
          } else value += c;
        }
        if (l[0] in labels) throw new Error(`${where}: label ${l[0]} twice`);
        labels[l[0]] = value;
        if (rest.startsWith(',')) rest = rest.slice(1);
        else if (!rest.startsWith('}')) throw new Error(`${where}: expected , or }`);
      }
      rest = rest.slice(1);
    }
    const parts = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`${where}: bad value`);
    const raw = parts[0] as string;
    // Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case
    // (prom-client writes `Nan`, e.g. the event-loop mean before its first sample).
    const word = raw.toLowerCase();
    const value =
      word === '+inf' ? Infinity : word === '-inf' ? -Infinity : word === 'nan' ? NaN : Number(raw);
    if (Number.isNaN(value) && word !== 'nan') throw new Error(`${where}: '${raw}' is not a number`);
    const family = families.get(name) ?? partOf(families, name);
    if (!family) throw new Error(`${where}: sample of an undeclared family`);
    const key = JSON.stringify([name, ...Object.entries(labels).sort()]);
    if (family.samples.some((s) => JSON.stringify([s.name, ...Object.entries(s.labels).sort()]) === key))
      throw new Error(`${where}: duplicate series`);
    family.samples.push({ name, labels, value });
  });
  return families;
}

/** The histogram or summary that a `_bucket`, `_sum` or `_count` sample belongs to. */
function partOf(families: Map<string, Family>, name: string): Family | undefined {
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const family = m?.[1] ? families.get(m[1]) : undefined;
  if (family?.type === 'histogram') return family;
  if (family?.type === 'summary' && m?.[2] !== 'bucket') return family;
  return undefined;
}

/** The value of the one sample of `name` whose labels include `labels`; throws when not exactly one. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.get(name) ?? partOf(families, name);
  const found = (family?.samples ?? []).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return (found[0] as Sample).value;
}
