import type { TestOutcome } from '../../logs/regrtest.js';
import { type Html, markup, link } from '../html.js';
import { ago, OUTCOMES } from '../model.js';
import type { DashboardSources, Links, Page } from '../page.js';
import { barChart } from '../svg.js';
import { knownByTest, knownLinks } from './known.js';

const PERIODS = [7, 30] as const;
const TOP = 25;
const DAY = 86_400;

/** The flakiest tests of the last 7 and 30 days, each with a daily trend and its known issues. */
export async function flakyPage(src: DashboardSources, links: Links): Promise<Page> {
  const known = knownByTest(await src.store.knownIssues());
  const sections = await Promise.all(PERIODS.map((days) => period(src, links, days, known)));
  return {
    title: 'Flaky tests',
    section: 'flaky',
    main: markup`<h1>Flakiest tests</h1><p class="muted">From the test logs of red and orange builds: a test is flaky when it failed, then passed on re-run.</p>${sections}`,
  };
}

async function period(
  src: DashboardSources,
  links: Links,
  days: number,
  known: ReturnType<typeof knownByTest>,
): Promise<Html> {
  const now = src.now();
  const since = Math.floor(now / 1000) - days * DAY;
  const tests = await src.store.flakiestTests(since, TOP);
  if (tests.length === 0)
    return markup`<section id="flaky-${days}"><h2>Last ${days} days</h2><p>No flaky test in the last ${days} days.</p></section>`;
  const counts = new Map<string, Partial<Record<TestOutcome, number>>>();
  const last = new Map<string, number>();
  const [outcomeCounts, builders, dailyCounts] = await Promise.all([
    src.store.outcomeCounts(tests, since),
    src.store.builderCounts(tests, since),
    src.store.dailyFlaky(tests, since),
  ]);
  for (const c of outcomeCounts) {
    counts.set(c.test, { ...counts.get(c.test), [c.outcome]: c.n });
    last.set(c.test, Math.max(last.get(c.test) ?? 0, c.lastAt));
  }
  const daily = new Map<string, number[]>(tests.map((t) => [t, Array.from({ length: days }, () => 0)]));
  for (const d of dailyCounts) {
    // better-sqlite3 binds numbers as REAL, so SQLite's division may not be an integer one.
    const day = Math.floor(Number(d.day));
    const row = daily.get(d.test);
    if (row && day >= 0 && day < days) row[day] = (row[day] ?? 0) + d.n;
  }
  const startDay = (i: number) => new Date((since + i * DAY) * 1000).toISOString().slice(0, 10);
  const rows = tests.map((test) => {
    const c = counts.get(test) ?? {};
    const bars = (daily.get(test) ?? []).map((value, i) => ({
      value,
      label: `${startDay(i)}: flaky ${value}×`,
    }));
    return markup`<tr><td>${link(links.test(test), markup`<code>${test}</code>`)}</td>${OUTCOMES.map((o) => markup`<td class="num">${c[o.key] ?? ''}</td>`)}<td class="num">${builders.get(test) ?? 0}</td><td>${barChart(
      bars,
      {
        label: `${test}: flaky per day, last ${days} days`,
        width: days === 7 ? 70 : 120,
      },
    )}</td><td class="muted">${last.has(test) ? ago(last.get(test) ?? 0, now) : ''}</td><td>${knownLinks(known.get(test))}</td></tr>`;
  });
  return markup`<section id="flaky-${days}"><h2>Last ${days} days</h2><table><thead><tr><th>Test</th>${OUTCOMES.map((o) => markup`<th class="num">${o.word}</th>`)}<th class="num">builders</th><th>flaky per day</th><th>last</th><th>known issues</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}
