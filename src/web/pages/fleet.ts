import { builderBranch, onBranch } from '../../state/branches.js';
import { join, link, markup } from '../html.js';
import { resultClass, resultWord, utc } from '../model.js';
import type { DashboardSources, Links, Page } from '../page.js';

/** Builds shown per builder unless `?n=` says otherwise (at most MAX_CELLS). */
export const DEFAULT_CELLS = 20;
const MAX_CELLS = 50;

export interface FleetFilter {
  branch?: string;
  /** Every one must match. */
  tags: string[];
  /** `tier-1` (from `?tier=1` or `?tier=tier-1`). */
  tier?: string;
  master?: string;
  cells: number;
}

/** Reads the filters from the query string; unknown or empty values are ignored. */
export function fleetFilter(query: URLSearchParams): FleetFilter {
  const text = (key: string) => {
    const v = query.get(key)?.trim();
    return v ? v.slice(0, 100) : undefined;
  };
  const tier = text('tier');
  const n = Number(query.get('n'));
  const tags = query
    .getAll('tag')
    .map((t) => t.trim().slice(0, 100))
    .filter((t) => t !== '');
  return {
    tags,
    ...(text('branch') ? { branch: text('branch') } : {}),
    ...(tier ? { tier: /^\d+$/.test(tier) ? `tier-${tier}` : tier.toLowerCase() } : {}),
    ...(text('master') ? { master: text('master') } : {}),
    cells: Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_CELLS) : DEFAULT_CELLS,
  };
}

const LEGEND = markup`<p class="legend">${[
  ['r0', 'success'],
  ['r1', 'warnings'],
  ['r2', 'failure'],
  ['r4', 'exception'],
  ['r6', 'cancelled/skipped'],
].map(([cls, word]) => markup`<span><i class="cell ${cls}"></i>${word}</span>`)}</p>`;

const hasTag = (tags: readonly string[], tag: string) =>
  tags.some((t) => t.toLowerCase() === tag.toLowerCase());

/** The fleet: every active builder (filtered) with its last builds as coloured cells. */
export async function fleetPage(src: DashboardSources, links: Links, filter: FleetFilter): Promise<Page> {
  const all = src.fleet.builders();
  const shown = all.filter(
    (b) =>
      (!filter.master || b.master === filter.master) &&
      (!filter.branch || onBranch(b.name, b.tags, filter.branch)) &&
      filter.tags.every((t) => hasTag(b.tags, t)) &&
      (!filter.tier || hasTag(b.tags, filter.tier)),
  );
  const branches = new Set<string>();
  const tags = new Set<string>();
  const tiers = new Set<string>();
  for (const b of all) {
    const branch = builderBranch(b.name, b.tags);
    if (branch) branches.add(branch);
    for (const t of b.tags) {
      if (/^tier-\d+$/i.test(t)) tiers.add(t.toLowerCase());
      else if (t !== branch) tags.add(t);
    }
  }
  const counts = { red: 0, orange: 0, green: 0, other: 0 };
  for (const b of shown) {
    if (b.colour === 'failure') counts.red++;
    else if (b.colour === 'warnings') counts.orange++;
    else if (b.colour === 'success') counts.green++;
    else counts.other++;
  }
  const showMaster = src.fleet.masters().length > 1;
  // The fleet keeps each builder's recent builds in memory; more come from the store, in one query.
  const short = shown.filter((b) => b.recent.length < filter.cells);
  const stored = short.length > 0 ? await src.store.recentBuildsOf(short, filter.cells) : undefined;
  const rows = shown.map((b) => {
    const builds =
      b.recent.length >= filter.cells
        ? b.recent.slice(0, filter.cells)
        : (stored?.get(b.master)?.get(b.builderid) ?? []);
    const cells = builds.map((r) =>
      link(src.fleet.buildUrl(b.master, b.builderid, r.number), '', {
        cls: `cell ${resultClass(r.results)}`,
        title: `#${r.number} ${resultWord(r.results)}${r.stateString ? `: ${r.stateString}` : ''} (${utc(r.completeAt)})`,
      }),
    );
    return markup`<tr data-builder="${b.name}"><td>${link(links.builder(b.master, b.name), showMaster ? `${b.master}: ${b.name}` : b.name)}</td><td class="muted">${b.tags.join(' ')}</td><td class="cells">${cells.length > 0 ? cells : markup`<span class="muted">no builds yet</span>`}</td></tr>`;
  });
  const select = (name: string, label: string, values: Iterable<string>, current: string | undefined) =>
    markup`<label>${label}<select name="${name}"><option value="">any</option>${[...values]
      .sort()
      .map(
        (v) =>
          markup`<option value="${v}"${v.toLowerCase() === current?.toLowerCase() ? markup` selected` : ''}>${v}</option>`,
      )}</select></label>`;
  const filtered = [filter.branch, ...filter.tags, filter.tier, filter.master].filter(Boolean).join(', ');
  return {
    title: filtered ? `Fleet: ${filtered}` : 'Fleet',
    section: 'fleet',
    main: join(
      markup`<h1>Fleet${filtered ? `: ${filtered}` : ''}</h1>`,
      markup`<form class="filters" method="get" action="${links.fleet()}">`,
      select('branch', 'Branch', branches, filter.branch),
      select('tag', 'Tag', tags, filter.tags[0]),
      select('tier', 'Tier', tiers, filter.tier),
      showMaster &&
        select(
          'master',
          'Master',
          src.fleet.masters().map((m) => m.name),
          filter.master,
        ),
      markup`<label>Builds<input name="n" type="number" min="1" max="${MAX_CELLS}" value="${filter.cells}" size="3"></label>`,
      markup`<button type="submit">Filter</button> ${filtered ? link(links.fleet(), 'clear') : ''}</form>`,
      markup`<p id="summary">${shown.length} builder${shown.length === 1 ? '' : 's'}: `,
      markup`${counts.red} red, ${counts.orange} orange, ${counts.green} green${counts.other ? `, ${counts.other} other` : ''}. `,
      markup`Newest build first; each cell links to the build on the master.</p>`,
      LEGEND,
      rows.length > 0
        ? markup`<table id="fleet"><thead><tr><th>Builder</th><th>Tags</th><th>Builds</th></tr></thead><tbody>${rows}</tbody></table>`
        : markup`<p>No builder matches these filters.</p>`,
    ),
  };
}
