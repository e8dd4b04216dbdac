import type { TestOutcome } from '../../logs/regrtest.js';
import type { DashOutcome } from '../../store/dashboard.js';
import { type Html, join, link, markup } from '../html.js';
import { ago, OUTCOMES, outcomeColour, outcomeWord, utc, worst } from '../model.js';
import type { DashboardSources, Links, Page } from '../page.js';
import { heatStrip } from '../svg.js';
import { knownLinks } from './known.js';
import { buildUrl } from './urls.js';

const DAY = 86_400;
export const DEFAULT_DAYS = 30;
const MAX_DAYS = 365;
/** Builds whose stored analysis is read for tracebacks. */
const TRACE_BUILDS = 20;
const TRACES_SHOWN = 5;
const RECENT_SHOWN = 30;

export function daysParam(query: URLSearchParams, fallback: number): number {
  const n = Number(query.get('days'));
  return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_DAYS) : fallback;
}

/** One test: a heat strip of its outcomes per builder and day, when it was seen, tracebacks, known issues. */
export async function testPage(
  src: DashboardSources,
  links: Links,
  test: string,
  days: number,
): Promise<Page | undefined> {
  const span = await src.store.testSpan(test);
  if (!span) return undefined;
  const now = src.now();
  const since = Math.floor(now / 1000) - days * DAY;
  const rows = await src.store.testOutcomes(test, since);
  const known = (await src.store.knownIssues()).filter((k) => k.test === test);

  const totals: Partial<Record<TestOutcome, number>> = {};
  for (const r of rows) totals[r.outcome] = (totals[r.outcome] ?? 0) + 1;
  const builds = new Set(rows.map((r) => `${r.master}:${r.buildid}`)).size;
  const builders = new Set(rows.map((r) => `${r.master}:${r.builder}`)).size;
  const summary = OUTCOMES.filter((o) => totals[o.key]).map(
    (o) =>
      markup`<span class="badge" style="background:${o.colour}">${o.word} ${totals[o.key] ?? 0}×</span> `,
  );

  return {
    title: test,
    section: 'test',
    main: join(
      markup`<h1><code>${test}</code></h1>`,
      markup`<p>${summary.length > 0 ? summary : 'Nothing notable'} in the last ${days} days`,
      markup`${rows.length > 0 ? `, in ${plural(builds, 'build')} on ${plural(builders, 'builder')}` : ''}.</p>`,
      markup`<p>First seen ${utc(span.first)} (${ago(span.first, now)}), `,
      markup`last seen ${utc(span.last)} (${ago(span.last, now)}); ${span.n} notable outcomes stored in all.</p>`,
      markup`<p>Known issues: ${knownLinks(known)}</p>`,
      markup`<h2>Outcomes per builder and day, last ${days} days</h2>`,
      heat(links, rows, since, days),
      markup`<h2>Tracebacks seen</h2>`,
      await tracebacks(src, rows),
      markup`<h2>Latest occurrences</h2>`,
      recent(src, links, rows),
    ),
  };
}

function heat(links: Links, rows: readonly DashOutcome[], since: number, days: number): Html {
  if (rows.length === 0) return markup`<p>None in this period.</p>`;
  const byBuilder = new Map<string, { master: string; n: number; cells: Array<Map<TestOutcome, number>> }>();
  for (const r of rows) {
    const key = `${r.master}\u0000${r.builder}`;
    let b = byBuilder.get(key);
    if (!b) {
      b = { master: r.master, n: 0, cells: Array.from({ length: days }, () => new Map()) };
      byBuilder.set(key, b);
    }
    b.n++;
    const day = Math.min(days - 1, Math.max(0, Math.floor((r.completeAt - since) / DAY)));
    const cell = b.cells[day];
    cell?.set(r.outcome, (cell.get(r.outcome) ?? 0) + 1);
  }
  const dates = Array.from({ length: days }, (_, i) =>
    new Date((since + i * DAY) * 1000).toISOString().slice(0, 10),
  );
  const lines = [...byBuilder.entries()]
    .sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]))
    .map(([key, b]) => {
      const name = key.split('\u0000')[1] ?? key;
      const cells = b.cells.map((c, i) => {
        let top: TestOutcome | undefined;
        for (const o of c.keys()) top = worst(top, o);
        const what = [...c.entries()].map(([o, n]) => `${outcomeWord(o)} ${n}×`).join(', ');
        return {
          colour: top ? outcomeColour(top) : undefined,
          label: `${dates[i] ?? ''}: ${what || 'nothing notable'}`,
        };
      });
      return markup`<tr><td>${link(links.builder(b.master, name), name)}</td><td class="num">${b.n}</td><td>${heatStrip(cells, { label: `${name}: outcomes per day` })}</td></tr>`;
    });
  const legend = OUTCOMES.map(
    (o) => markup`<span><i class="cell" style="background:${o.colour}"></i>${o.word}</span>`,
  );
  return markup`<p class="legend">${legend} <span class="muted">oldest day on the left</span></p><table id="heat"><thead><tr><th>Builder</th><th class="num">n</th><th>Days</th></tr></thead><tbody>${lines}</tbody></table>`;
}

interface Trace {
  lines: string[];
  builds: number;
  latest: DashOutcome;
  logUrl: string | null;
}

async function tracebacks(src: DashboardSources, rows: readonly DashOutcome[]): Promise<Html> {
  const seen = new Map<string, Trace>();
  const builds = rows.filter(
    (r) => r.outcome === 'failed' || r.outcome === 'flaky' || r.outcome === 'crashed',
  );
  const done = new Set<string>();
  for (const r of builds) {
    const key = `${r.master}:${r.buildid}`;
    if (done.has(key)) continue;
    done.add(key);
    if (done.size > TRACE_BUILDS) break;
    const stored = await src.store.analysis(r.master, r.buildid);
    const lines = traceOf(stored?.data ?? null, r.test);
    if (!lines) continue;
    const text = lines.join('\n');
    const t = seen.get(text);
    if (t) t.builds++;
    else seen.set(text, { lines, builds: 1, latest: r, logUrl: stored?.logUrl ?? null });
  }
  if (seen.size === 0)
    return markup`<p class="muted">No traceback stored for the recent failures (bbwatch keeps the ones it read with the test summary; <code>!why</code> reads more).</p>`;
  return markup`${[...seen.values()]
    .slice(0, TRACES_SHOWN)
    .map(
      (t) =>
        markup`<p>${t.builds} build${t.builds === 1 ? '' : 's'}, latest ${t.latest.builder} #${t.latest.number} (${utc(t.latest.completeAt)}) ${link(t.logUrl, 'log')}</p><pre class="trace">${t.lines.join('\n')}</pre>`,
    )}`;
}

/** The test's first traceback from an analysis's stored JSON, if the log reading kept one. */
export function traceOf(data: string | null, test: string): string[] | undefined {
  if (!data) return undefined;
  try {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const all = (parsed as { tracebacks?: unknown }).tracebacks;
    if (typeof all !== 'object' || all === null) return undefined;
    const lines: unknown = (all as Record<string, unknown>)[test];
    if (!Array.isArray(lines)) return undefined;
    const text = lines.filter((l): l is string => typeof l === 'string');
    return text.length > 0 ? text.slice(-40) : undefined;
  } catch {
    return undefined;
  }
}

function recent(src: DashboardSources, links: Links, rows: readonly DashOutcome[]): Html {
  if (rows.length === 0) return markup`<p>None in this period.</p>`;
  return markup`<table id="occurrences"><thead><tr><th>When</th><th>Builder</th><th>Build</th><th>Outcome</th><th>Branch</th></tr></thead><tbody>${rows
    .slice(0, RECENT_SHOWN)
    .map(
      (r) =>
        markup`<tr><td>${utc(r.completeAt)}</td><td>${link(links.builder(r.master, r.builder), r.builder)}</td><td>${link(buildUrl(src.fleet, r.master, r.builderid, r.number), `#${r.number}`)}</td><td><span class="badge outcome-${r.outcome}" style="background:${outcomeColour(r.outcome)}">${outcomeWord(r.outcome)}</span></td><td>${r.branch ?? ''}</td></tr>`,
    )}</tbody></table>`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
