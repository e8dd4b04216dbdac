import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { computeDigest } from '../../src/digest/digest.js';
import { DigestScheduler, Reports } from '../../src/digest/reports.js';
import { sparkline } from '../../src/digest/render.js';
import { type Message, lineText } from '../../src/messages/message.js';
import type { FleetView } from '../../src/state/fleet.js';
import { BuildStore } from '../../src/store/builds.js';
import { openDb } from '../../src/store/db.js';
import { MetaStore } from '../../src/store/meta.js';
import { ReportStore } from '../../src/store/reports.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW_S = NOW / 1000;
const H = 3600;
const D = 86_400;
const ago = (s: number) => NOW_S - s;

/**
 * A seeded history over the last 7 days (and before):
 *   A 3.x  green before; red #2 (-6 d), red #3 (-5 d), green #4 (-4 d), green #5 (-3 d)
 *   B 3.x  red #10 before (-8 d); red #11 (-6.5 d), exception #12 (-6 d), red #13 (-1 d): still red
 *   C 3.x  green #20 (-2 d), green #21 (-1 d)
 *   D 3.x  inactive (no longer on the master): a red build that must not count
 *   E 3.x  green #30 (-3 d), red #31 (-12 h): turned red after the last digest (-2 d)
 */
async function seeded() {
  const db = await openDb(':memory:');
  const builds = new BuildStore(db);
  const names = ['A 3.x', 'B 3.x', 'C 3.x', 'D 3.x', 'E 3.x'];
  await builds.replaceBuilders(
    'lab',
    names.map((name, i) => ({
      master: 'lab',
      builderid: i + 1,
      name,
      tags: ['3.x'],
      description: null,
      active: name !== 'D 3.x',
    })),
  );
  let buildid = 100;
  const add = async (builderid: number, number: number, results: number, completeAt: number) =>
    await builds.addBuild({
      master: 'lab',
      buildid: buildid++,
      builderid,
      number,
      results,
      stateString: '',
      startedAt: completeAt - 600,
      completeAt,
    });
  await add(1, 1, 0, ago(10 * D));
  await add(1, 2, 2, ago(6 * D));
  await add(1, 3, 2, ago(5 * D));
  await add(1, 4, 0, ago(4 * D));
  await add(1, 5, 0, ago(3 * D));
  await add(2, 10, 2, ago(8 * D));
  await add(2, 11, 2, ago(6.5 * D));
  await add(2, 12, 4, ago(6 * D));
  await add(2, 13, 2, ago(1 * D));
  await add(3, 20, 0, ago(2 * D));
  await add(3, 21, 1, ago(1 * D));
  await add(4, 40, 2, ago(1 * D));
  await add(5, 30, 0, ago(3 * D));
  await add(5, 31, 2, ago(12 * H));
  let id = 1000;
  const test = async (name: string, kind: string, builder: string, when: number) =>
    void (await db
      .insertInto('test_outcomes')
      .values({
        master: 'lab',
        buildid: id++,
        builderid: 0,
        number: 0,
        builder,
        branch: '3.x',
        test: name,
        outcome: kind,
        complete_at: when,
      })
      .execute());
  await test('test_old', 'failed', 'A 3.x', ago(20 * D));
  await test('test_old', 'failed', 'B 3.x', ago(1 * D));
  await test('test_new', 'failed', 'B 3.x', ago(1 * D));
  await test('test_new', 'failed', 'E 3.x', ago(12 * H));
  await test('test_before_digest', 'failed', 'A 3.x', ago(3 * D));
  for (const when of [6 * D, 5 * D, 1 * D]) await test('test_ssl', 'flaky', 'A 3.x', ago(when));
  await test('test_ssl', 'flaky', 'A 3.x', ago(10 * D));
  await test('test_os', 'flaky', 'C 3.x', ago(2 * D));
  for (const when of [9 * D, 12 * D]) await test('test_os', 'flaky', 'C 3.x', ago(when));
  for (const when of [2 * D, 3 * D]) await test('test_x', 'flaky', 'B 3.x', ago(when));
  await test('test_x', 'flaky', 'B 3.x', ago(20 * D)); // older than both periods
  return { db, store: new ReportStore(db), meta: new MetaStore(db) };
}

const fleet = {
  buildUrl: (master: string, builderid: number, number: number) =>
    `http://lab/#/builders/${builderid}/builds/${number}`,
} as Pick<FleetView, 'buildUrl'> as FleetView;

describe('digest from a seeded history', () => {
  it('failure rates, red streaks, flaky trends and new failures match the history', async () => {
    const { store } = await seeded();
    const d = await computeDigest(store, { now: NOW, days: 7, lastDigest: ago(2 * D) });
    expect(d.totals).toEqual({ builders: 4, builds: 10, red: 5 });
    expect(d.rates.map((r) => [r.name, r.red, r.builds])).toEqual([
      ['B 3.x', 2, 2],
      ['A 3.x', 2, 4],
      ['E 3.x', 1, 2],
    ]);
    expect(
      d.streaks.map((s) => [
        s.name,
        s.firstNumber,
        s.builds,
        s.durationS,
        s.endAt === undefined,
        s.beforePeriod,
      ]),
    ).toEqual([
      ['B 3.x', 11, 2, 7 * D, true, true],
      ['A 3.x', 2, 2, 2 * D, false, false],
      ['E 3.x', 31, 1, 12 * H, true, false],
    ]);
    expect(d.flaky).toEqual([
      { test: 'test_ssl', count: 3, previous: 1, trend: 'up' },
      { test: 'test_x', count: 2, previous: 0, trend: 'new' },
      { test: 'test_os', count: 1, previous: 2, trend: 'down' },
    ]);
    // B all week; A from day 1 (-6 d) until day 3 (-4 d); E on the last day.
    expect(d.redPerDay).toEqual([1, 2, 2, 1, 1, 1, 2]);
    expect(d.newSince).toBe(ago(2 * D));
    expect(d.newFailures).toEqual([
      { test: 'test_new', firstAt: ago(1 * D), builds: 2, builders: ['B 3.x', 'E 3.x'] },
    ]);
    expect(d.newlyRed.map((s) => s.name)).toEqual(['E 3.x']);
  });

  it('without a previous digest, new failures count from the start of the period', async () => {
    const { store } = await seeded();
    const d = await computeDigest(store, { now: NOW, days: 7 });
    expect(d.newSince).toBe(ago(7 * D));
    expect(d.newFailures.map((f) => f.test)).toEqual(['test_before_digest', 'test_new']);
    expect(d.newlyRed.map((s) => s.name)).toEqual(['A 3.x', 'E 3.x']);
  });

  it('a shorter period sees less', async () => {
    const { store } = await seeded();
    const d = await computeDigest(store, { now: NOW, days: 1 });
    // B #13 and C #21 finished exactly one day ago (in), E #31 12 h ago.
    expect(d.totals).toEqual({ builders: 3, builds: 3, red: 2 });
    expect(d.streaks.map((s) => [s.name, s.beforePeriod])).toEqual([
      ['B 3.x', true],
      ['E 3.x', false],
    ]);
  });

  it('renders every section', async () => {
    const { store, meta } = await seeded();
    const text = render(await new Reports(store, fleet, meta, false, () => NOW).report(7));
    expect(text[0]).toBe('Digest, last 7 days: 10 builds on 4 builders, 5 red (50%)');
    // `!report` carries the chart as a picture too (the text keeps its sparkline).
    expect((await new Reports(store, fleet, meta, false, () => NOW).report(7)).image?.mime).toBe('image/png');
    expect(text).toEqual([
      'Digest, last 7 days: 10 builds on 4 builders, 5 red (50%)',
      'Red builders per day: ▅██▅▅▅█ (oldest first; at most 2)',
      'Failure rates:',
      '  B 3.x 2/2 red (100%)',
      '  A 3.x 2/4 red (50%)',
      '  E 3.x 1/2 red (50%)',
      'Longest red streaks:',
      '  B 3.x 7 d, 2 red builds from #11 (red since before the period, still red)',
      '  A 3.x 2 d, 2 red builds from #2',
      '  E 3.x 12 h, 1 red build from #31 (still red)',
      'Flakiest tests:',
      '  test_ssl flaky 3× (↑ from 1× in the 7 d before)',
      '  test_x flaky 2× (new: none in the 7 d before)',
      '  test_os flaky 1× (↓ from 2× in the 7 d before)',
      'New failures since 2026-01-08 12:00 UTC:',
      '  A 3.x turned red at #2 (green again since)',
      '  E 3.x turned red at #31',
      '  test_before_digest failed in 1 build on A 3.x',
      '  test_new failed in 2 builds on B 3.x, E 3.x',
    ]);
  });
});

describe('scheduled digests', () => {
  it('go out at the minutes the cron names, once per minute, and move the "new since" mark', async () => {
    const { store, meta } = await seeded();
    let now = NOW;
    const reports = new Reports(store, fleet, meta, false, () => now);
    const sent: Array<{ to: string; minute: number; message: Message }> = [];
    const scheduler = new DigestScheduler(
      [
        { to: 'console', cron: '0 12 * * *', days: 7 },
        { to: 'irc:#x', cron: '30 * * * *', days: 1 },
      ],
      reports,
      async (to, minute, message) => void sent.push({ to, minute, message }),
      pino({ level: 'silent' }),
      () => now,
    );
    const local = new Date(NOW);
    const noon = new Date(local.getFullYear(), local.getMonth(), local.getDate(), 12, 0, 20);
    now = noon.getTime();
    await scheduler.tick(noon);
    expect(sent.map((s) => [s.to, s.minute])).toEqual([
      ['console', Math.floor(noon.getTime() / 60_000) * 60],
    ]);
    expect(sent[0]?.message.kind).toBe('announcement');
    // The chart goes too, as a picture for the platforms that show one, its numbers as alt text.
    expect(sent[0]?.message.image?.alt).toMatch(
      /^Red builders per day over the last 7 days, oldest first: (\d, ){6}\d$/,
    );
    expect(JSON.parse(JSON.stringify(sent[0]?.message))).toEqual(sent[0]?.message);
    expect(await meta.get('digest:last:console')).toBe(String(Math.floor(now / 1000)));
    await scheduler.tick(new Date(noon.getTime() + 60_000));
    expect(sent).toHaveLength(1);
    // The next day's digest counts new failures from this one: none happened since.
    now += D * 1000;
    await scheduler.tick(new Date(now));
    expect(render(sent[1]?.message as Message)).toContain(
      'New failures since ' +
        new Date(noon.getTime()).toISOString().slice(0, 16).replace('T', ' ') +
        ' UTC: none.',
    );
  });
});

describe('sparkline', () => {
  it('draws none as the lowest bar and scales the rest to the largest', async () => {
    expect(sparkline([0, 1, 2, 4, 8])).toBe('▁▂▃▅█');
    expect(sparkline([0, 0])).toBe('▁▁');
    expect(sparkline([3])).toBe('█');
  });
});

function render(m: Message): string[] {
  return [lineText(m.title ?? []), ...m.lines.map(lineText)];
}
