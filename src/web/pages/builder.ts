import { isCodeVerdict, isRed } from '../../buildbot/results.js';
import { formatDuration } from '../../duration.js';
import type { TestOutcome } from '../../logs/regrtest.js';
import type { DashBuild, DashOutcome } from '../../store/dashboard.js';
import { type Html, join, link, markup } from '../html.js';
import { ago, OUTCOMES, outcomeColour, outcomeWord, resultClass, resultWord, utc } from '../model.js';
import type { DashboardSources, Links, Page } from '../page.js';
import { barChart } from '../svg.js';
import { buildUrl } from './urls.js';

const DAY = 86_400;
const CELLS = 50;
const TABLE_ROWS = 25;
const STREAKS_SHOWN = 10;

export interface RedStreak {
  first: DashBuild;
  /** The last red build of the streak. */
  last: DashBuild;
  builds: number;
  /** The build that ended it (green or orange), if it ended. */
  endedBy: DashBuild | undefined;
}

/** Runs of red builds, oldest first; neutral results neither break nor extend a run. */
export function redStreaks(builds: readonly DashBuild[]): RedStreak[] {
  const out: RedStreak[] = [];
  let open: RedStreak | undefined;
  for (const b of builds) {
    // Skipped, retry and cancelled say nothing about the code, exception only vaguely.
    if (!isCodeVerdict(b.results)) continue;
    if (isRed(b.results)) {
      if (open) {
        open.last = b;
        open.builds++;
      } else open = { first: b, last: b, builds: 1, endedBy: undefined };
    } else if (open) {
      open.endedBy = b;
      out.push(open);
      open = undefined;
    }
  }
  if (open) out.push(open);
  return out;
}

/** One builder: its recent builds, daily red share, red streaks, and the tests that broke it. */
export async function builderPage(
  src: DashboardSources,
  links: Links,
  master: string,
  name: string,
  days: number,
): Promise<Page | undefined> {
  const builder = await src.store.builder(master, name);
  if (!builder) return undefined;
  const now = src.now();
  const since = Math.floor(now / 1000) - days * DAY;
  const [recent, period, outcomes] = await Promise.all([
    src.store.recentBuilds(master, builder.builderid, CELLS),
    src.store.buildsSince(master, builder.builderid, since),
    src.store.builderOutcomes(master, builder.builderid, since),
  ]);
  const url = (n: number) => buildUrl(src.fleet, master, builder.builderid, n);
  const onMaster = src.fleet.masters().some((m) => m.name === master)
    ? src.fleet.builderUrl(master, builder.builderid)
    : undefined;

  const cells = recent.map((r) =>
    link(url(r.number), '', {
      cls: `cell ${resultClass(r.results)}`,
      title: `#${r.number} ${resultWord(r.results)}${r.stateString ? `: ${r.stateString}` : ''} (${utc(r.completeAt)})`,
    }),
  );
  const red = period.filter((b) => isRed(b.results)).length;
  return {
    title: name,
    section: 'builder',
    main: join(
      markup`<h1>${name}</h1>`,
      markup`<p>${builder.tags.length > 0 ? markup`Tags: ${builder.tags.join(', ')}. ` : ''}Master ${master}`,
      markup`${onMaster ? markup` (${link(onMaster, 'builder on the master')})` : ''}.`,
      markup`${builder.active ? '' : ' No longer on the master.'}</p>`,
      markup`<h2>Last ${recent.length} builds</h2>`,
      markup`<p class="cells" id="builds">${cells.length > 0 ? cells : 'No builds yet.'}</p>`,
      markup`<p>Last ${days} days: ${period.length} builds, ${red} red`,
      markup`${period.length > 0 ? ` (${Math.round((100 * red) / period.length)}%)` : ''}. ${dailyRed(period, since, days)}</p>`,
      buildTable(links, recent.slice(0, TABLE_ROWS), outcomes, url),
      markup`<h2>Red streaks, last ${days} days</h2>`,
      streakTable(redStreaks(period), now, url),
      markup`<h2>Tests that broke it, last ${days} days</h2>`,
      testTable(links, outcomes, now),
    ),
  };
}

function dailyRed(builds: readonly DashBuild[], since: number, days: number): Html {
  const red = Array.from({ length: days }, () => 0);
  const all = Array.from({ length: days }, () => 0);
  for (const b of builds) {
    const day = Math.floor(((b.completeAt ?? since) - since) / DAY);
    if (day < 0 || day >= days) continue;
    all[day] = (all[day] ?? 0) + 1;
    if (isRed(b.results)) red[day] = (red[day] ?? 0) + 1;
  }
  const date = (i: number) => new Date((since + i * DAY) * 1000).toISOString().slice(0, 10);
  return barChart(
    red.map((value, i) => ({ value, label: `${date(i)}: ${value} red of ${all[i] ?? 0}` })),
    { label: 'red builds per day', colour: '#d0342c', width: Math.min(360, days * 6) },
  );
}

function buildTable(
  links: Links,
  builds: readonly DashBuild[],
  outcomes: readonly DashOutcome[],
  url: (n: number) => string | undefined,
): Html {
  if (builds.length === 0) return markup``;
  const byBuild = new Map<number, DashOutcome[]>();
  for (const o of outcomes) byBuild.set(o.buildid, [...(byBuild.get(o.buildid) ?? []), o]);
  return markup`<table id="recent"><thead><tr><th>Build</th><th>Result</th><th>State</th><th>Finished</th><th>Notable tests</th></tr></thead><tbody>${builds.map(
    (b) =>
      markup`<tr><td>${link(url(b.number), `#${b.number}`)}</td><td><i class="cell ${resultClass(b.results)}"></i> ${resultWord(b.results)}</td><td>${b.stateString}</td><td>${utc(b.completeAt)}</td><td>${(
        byBuild.get(b.buildid) ?? []
      ).map(
        (o, i) =>
          markup`${i > 0 ? ', ' : ''}${link(links.test(o.test), markup`<code>${o.test}</code>`)} <span class="muted">${outcomeWord(o.outcome)}</span>`,
      )}</td></tr>`,
  )}</tbody></table>`;
}

function streakTable(streaks: RedStreak[], nowMs: number, url: (n: number) => string | undefined): Html {
  if (streaks.length === 0) return markup`<p>No red build in this period.</p>`;
  const length = (s: RedStreak) =>
    ((s.endedBy?.completeAt ?? Math.floor(nowMs / 1000)) - (s.first.completeAt ?? 0)) * 1000;
  const longest = [...streaks].sort((a, b) => length(b) - length(a)).slice(0, STREAKS_SHOWN);
  return markup`<table id="streaks"><thead><tr><th>From</th><th>Red builds</th><th>Lasted</th><th>Ended by</th></tr></thead><tbody>${longest.map(
    (s) =>
      markup`<tr><td>${link(url(s.first.number), `#${s.first.number}`)} ${utc(s.first.completeAt)}</td><td class="num">${s.builds}</td><td>${formatDuration(length(s))}</td><td>${s.endedBy ? link(url(s.endedBy.number), `#${s.endedBy.number}`) : markup`<strong>still red</strong>`}</td></tr>`,
  )}</tbody></table>`;
}

function testTable(links: Links, outcomes: readonly DashOutcome[], nowMs: number): Html {
  if (outcomes.length === 0) return markup`<p>No notable test outcome stored in this period.</p>`;
  const byTest = new Map<string, { counts: Partial<Record<TestOutcome, number>>; last: number; n: number }>();
  for (const o of outcomes) {
    const t = byTest.get(o.test) ?? { counts: {}, last: 0, n: 0 };
    t.counts[o.outcome] = (t.counts[o.outcome] ?? 0) + 1;
    t.last = Math.max(t.last, o.completeAt);
    t.n++;
    byTest.set(o.test, t);
  }
  const rows = [...byTest.entries()].sort(
    (a, b) =>
      (b[1].counts.failed ?? 0) - (a[1].counts.failed ?? 0) || b[1].n - a[1].n || a[0].localeCompare(b[0]),
  );
  return markup`<table id="tests"><thead><tr><th>Test</th>${OUTCOMES.map((o) => markup`<th class="num">${o.word}</th>`)}<th>last</th></tr></thead><tbody>${rows.map(
    ([test, t]) =>
      markup`<tr><td>${link(links.test(test), markup`<code>${test}</code>`)}</td>${OUTCOMES.map(
        (o) =>
          markup`<td class="num"${t.counts[o.key] ? markup` style="color:${outcomeColour(o.key)}"` : ''}>${t.counts[o.key] ?? ''}</td>`,
      )}<td class="muted">${ago(t.last, nowMs)}</td></tr>`,
  )}</tbody></table>`;
}
