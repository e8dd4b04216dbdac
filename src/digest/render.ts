import { formatDuration } from '../duration.js';
import type { Line, Message } from '../messages/message.js';
import { redBuildersChart } from './chart-png.js';
import type { Digest, FlakyTrend } from './digest.js';

const TREND: Record<FlakyTrend['trend'], string> = { new: 'new', up: '↑', down: '↓', same: '=' };

/** The digest as a message: totals in the title, then one short section per question. */
export function renderDigest(
  d: Digest,
  opts: {
    buildUrl: (master: string, builderid: number, number: number) => string;
    showMaster: boolean;
    /** The dashboard's flaky-tests page, when one is published: the digest ends with it. */
    dashboardUrl?: string | undefined;
  },
): Message {
  const name = (s: { master: string; name: string }) => (opts.showMaster ? `${s.master}:${s.name}` : s.name);
  const date = (epoch: number) => new Date(epoch * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const lines: Line[] = [];
  const charted = d.redPerDay.length >= 2 && d.redPerDay.length <= 62;
  if (charted) {
    lines.push([
      { text: 'Red builders per day:', bold: true },
      ` ${sparkline(d.redPerDay)} (oldest first; at most ${Math.max(...d.redPerDay)})`,
    ]);
  }
  const section = (title: string, rows: Line[], none: string) => {
    lines.push([{ text: title, bold: true }, rows.length === 0 ? ` ${none}` : '']);
    for (const r of rows) lines.push(['  ', ...r]);
  };
  section(
    'Failure rates:',
    d.rates.map((r) => [
      { text: name(r), bold: true },
      ` ${r.red}/${r.builds} red (${percent(r.red, r.builds)})`,
    ]),
    'no red build.',
  );
  section(
    'Longest red streaks:',
    d.streaks.map((s) => [
      { text: name(s), bold: true },
      ` ${formatDuration(s.durationS * 1000)}, ${s.builds} red build${s.builds === 1 ? '' : 's'} from `,
      { text: `#${s.firstNumber}`, href: opts.buildUrl(s.master, s.builderid, s.firstNumber) },
      notes([s.beforePeriod && 'red since before the period', s.endAt === undefined && 'still red']),
    ]),
    'none.',
  );
  section(
    'Flakiest tests:',
    d.flaky.map((f) => [
      { text: f.test, code: true },
      ` flaky ${f.count}× (${f.trend === 'new' ? 'new: none' : `${TREND[f.trend]} from ${f.previous}×`} in the ${d.days} d before)`,
    ]),
    'none.',
  );
  section(
    `New failures since ${date(d.newSince)} UTC:`,
    [
      ...d.newlyRed.map((s): Line => [
        { text: name(s), bold: true, tone: 'failure' },
        ' turned red at ',
        { text: `#${s.firstNumber}`, href: opts.buildUrl(s.master, s.builderid, s.firstNumber) },
        s.endAt === undefined ? '' : ' (green again since)',
      ]),
      ...d.newFailures.map((f): Line => [
        { text: f.test, code: true },
        ` failed in ${f.builds} build${f.builds === 1 ? '' : 's'} on ${f.builders.join(', ')}`,
      ]),
    ],
    'none.',
  );
  if (opts.dashboardUrl) lines.push(['Dashboard: ', { text: opts.dashboardUrl, href: opts.dashboardUrl }]);
  return {
    kind: 'reply',
    tone: d.totals.red > 0 ? 'failure' : 'success',
    title: [
      `Digest, last ${d.days} day${d.days === 1 ? '' : 's'}: ${d.totals.builds} build${d.totals.builds === 1 ? '' : 's'} on `,
      `${d.totals.builders} builder${d.totals.builders === 1 ? '' : 's'}, ${d.totals.red} red (${percent(d.totals.red, d.totals.builds)})`,
    ],
    lines,
    // The same chart as a picture, where the platform shows one (the sparkline line stays for the others).
    ...(charted ? { image: redBuildersChart(d.redPerDay, d.days) } : {}),
  };
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line bar chart: ▁ for none, then ▂ to █ in proportion to the largest value. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values
    .map((v) => BARS[v <= 0 || max === 0 ? 0 : Math.max(1, Math.ceil((v / max) * (BARS.length - 1)))])
    .join('');
}

function notes(items: Array<string | false>): string {
  const shown = items.filter((i): i is string => i !== false);
  return shown.length === 0 ? '' : ` (${shown.join(', ')})`;
}

function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const p = (100 * part) / whole;
  return `${p >= 10 || Number.isInteger(p) ? Math.round(p) : p.toFixed(1)}%`;
}
