/**
 * Dashboard render times (issue 10's target: every page under 100 ms) from a store seeded with
 * 90 days of a 100-builder fleet: 20 platforms × 5 branches, a build every 1.5-4 h per builder,
 * mostly green, with orange builds (flaky tests, env changed) and red streaks that keep failing the
 * same tests, tracebacks stored, some known issues. Each page kind is rendered (query and HTML)
 * ROUNDS times (BENCH_ROUNDS, default 40); median and p99 are printed. Nothing here asserts a
 * time. KEEP=1 keeps the seeded store (its directory is printed) for looking at query plans.
 */
import { sql } from 'kysely';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Fleet } from '../src/state/fleet.js';
import { BuildStore } from '../src/store/builds.js';
import { DashboardStore } from '../src/store/dashboard.js';
import { type Db, openDb } from '../src/store/db.js';
import { TestStore } from '../src/store/tests.js';
import { route, rootOf } from '../src/web/dashboard.js';
import { layout } from '../src/web/layout.js';
import type { DashboardSources } from '../src/web/page.js';
import { type SeedBuild, type SeedBuilder, seed } from '../test/support/dashboard.js';
import { seededRandom } from '../test/support/random.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const DAYS = 90;
const TARGET_MS = 100;
const PLATFORMS = [
  'AMD64 Debian root',
  'AMD64 Debian PGO',
  'AMD64 Fedora Stable',
  'AMD64 Fedora Rawhide',
  'AMD64 Ubuntu Shared',
  'AMD64 RHEL8',
  'AMD64 Arch Linux Asan',
  'AMD64 Alpine Linux',
  'AMD64 FreeBSD',
  'AMD64 Windows11 Bigmem',
  'AMD64 Windows10',
  'AMD64 Windows Server 2022',
  'ARM64 macOS',
  'ARM64 Windows',
  'aarch64 Fedora Stable',
  'aarch64 Debian',
  'PPC64LE RHEL8',
  's390x Fedora',
  'x86 Gentoo Non-Debug',
  'wasm32-wasi',
];
const BRANCHES = ['3.x', '3.14', '3.13', '3.12', '3.11'];
const MODULES = [
  'asyncio',
  'ssl',
  'os',
  'socket',
  'subprocess',
  'threading',
  'multiprocessing',
  'io',
  'time',
];

const dir = mkdtempSync(join(tmpdir(), 'bbwatch-dash-bench-'));
if (process.env.KEEP) console.log('store in', dir);
afterAll(() => (process.env.KEEP ? undefined : rmSync(dir, { recursive: true, force: true })));

const rnd = seededRandom(10);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
/** Test names: 400, a few hundred of them plain modules, the rest sub-packages. */
const TESTS = Array.from({ length: 400 }, (_, i) =>
  i < 250
    ? `test_${MODULES[i % MODULES.length]}_${i}`
    : `test.test_${MODULES[i % MODULES.length]}.test_part${i}`,
);
/** Skewed towards the first names, as real flakiness is. */
const skewed = () => TESTS[Math.floor(TESTS.length * rnd() ** 3)] as string;

function fleetHistory(now: number): { builders: SeedBuilder[]; builds: SeedBuild[] } {
  const builders: SeedBuilder[] = [];
  const builds: SeedBuild[] = [];
  let buildid = 1;
  for (const [p, platform] of PLATFORMS.entries()) {
    for (const branch of BRANCHES) {
      const builderid = builders.length + 1;
      const tier = `tier-${1 + (p % 3)}`;
      builders.push({
        builderid,
        name: `${platform} ${branch}`,
        tags: [branch, p % 4 === 3 ? 'unstable' : 'stable', tier],
      });
      const cadence = 5400 + rnd() * 9000;
      let at = now - DAYS * 86_400 + rnd() * cadence;
      let number = 1;
      let redLeft = 0;
      let failing: string[] = [];
      while (at < now) {
        let results = 0;
        let log: SeedBuild['log'];
        if (redLeft === 0 && rnd() < 0.03) {
          redLeft = 1 + Math.floor(rnd() * 10);
          failing = Array.from({ length: 1 + Math.floor(rnd() * 3) }, skewed);
        }
        if (redLeft > 0) {
          redLeft--;
          results = 2;
          log = {
            result: 'FAILURE',
            failed: failing,
            tracebacks: Object.fromEntries(
              failing.map((t) => [
                t,
                [
                  'Traceback (most recent call last):',
                  `  File "Lib/test/${t}.py", line 42`,
                  'AssertionError: 1 != 2',
                ],
              ]),
            ),
          };
        } else {
          const r = rnd();
          if (r < 0.1) {
            results = 1;
            log = {
              result: 'FAILURE then SUCCESS',
              flaky: Array.from({ length: 1 + Math.floor(rnd() * 2) }, skewed),
            };
          } else if (r < 0.13) {
            results = 1;
            log = { result: 'ENV CHANGED', envChanged: [skewed()] };
          } else if (r < 0.14) results = 4;
        }
        builds.push({
          builderid,
          buildid: buildid++,
          number: number++,
          results,
          completeAt: Math.floor(at),
          ...(log ? { log } : {}),
        });
        at += cadence * (0.7 + rnd() * 0.6);
      }
    }
  }
  return { builders, builds };
}

function timings(values: number[]): { median: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { median: at(0.5), p99: at(0.99), max: sorted.at(-1) as number };
}

it(`renders every page kind from ${DAYS} days of a ${PLATFORMS.length * BRANCHES.length}-builder fleet`, async () => {
  const now = Date.now();
  const db: Db = await openDb(join(dir, 'state.sqlite'));
  const t0 = performance.now();
  const { builders, builds } = fleetHistory(Math.floor(now / 1000));
  await seed(db, 'cpython', builders, builds);
  const tests = new TestStore(db);
  for (let i = 0; i < 20; i++)
    await tests.addKnown(TESTS[i] as string, `gh-${1000 + i}`, i % 2 ? 'Windows' : null, 'bench');
  const seedMs = performance.now() - t0;
  const counts = (
    await sql<{ builds: number; outcomes: number; analyses: number }>`
      SELECT (SELECT COUNT(*) FROM builds) AS builds, (SELECT COUNT(*) FROM test_outcomes) AS outcomes,
             (SELECT COUNT(*) FROM analyses) AS analyses`.execute(db)
  ).rows[0];

  const fleet = await Fleet.load(new BuildStore(db), [
    { name: 'cpython', url: 'https://buildbot.python.org/all/', history: 20 },
  ]);
  const src: DashboardSources = { store: new DashboardStore(db), fleet, now: () => now };
  const flakiest = await src.store.flakiestTests(Math.floor(now / 1000) - 30 * 86_400, 5);
  const render = async (path: string): Promise<{ ms: number; bytes: number; status: number }> => {
    const start = performance.now();
    const url = new URL(path, 'http://bench.invalid');
    const segments = url.pathname.slice(1).split('/').map(decodeURIComponent);
    const { status, page } = await route(src, segments, url.searchParams);
    const body = layout(page, rootOf(segments)).value;
    return { ms: performance.now() - start, bytes: Buffer.byteLength(body), status };
  };
  const kinds: Array<[string, () => string]> = [
    ['fleet (100 builders × 20 builds)', () => '/'],
    ['fleet filtered (?branch=3.x&tier=1)', () => '/?branch=3.x&tier=1'],
    ['fleet, 50 builds per builder', () => '/?n=50'],
    ['flaky (7 and 30 days)', () => '/flaky'],
    ['test (the flakiest ones)', () => `/tests/${encodeURIComponent(pick(flakiest))}`],
    ['test (any)', () => `/tests/${encodeURIComponent(skewed())}`],
    ['test, 90 days', () => `/tests/${encodeURIComponent(pick(flakiest))}?days=90`],
    ['builder', () => `/builders/cpython/${encodeURIComponent(pick(builders).name)}`],
    ['builder, 90 days', () => `/builders/cpython/${encodeURIComponent(pick(builders).name)}?days=90`],
  ];
  const rows: string[] = [];
  for (const [label, path] of kinds) {
    await render(path()); // warm the statement cache and the page cache
    const runs: Array<{ ms: number; bytes: number; status: number }> = [];
    for (let i = 0; i < ROUNDS; i++) runs.push(await render(path()));
    expect(runs.every((r) => r.status === 200)).toBe(true);
    const t = timings(runs.map((r) => r.ms));
    const kib = runs.reduce((s, r) => s + r.bytes, 0) / runs.length / 1024;
    rows.push(
      `  ${label.padEnd(40)} median ${t.median.toFixed(1).padStart(6)} ms, p99 ${t.p99.toFixed(1).padStart(6)} ms, max ${t.max.toFixed(1).padStart(6)} ms, ${kib.toFixed(0).padStart(4)} KiB ${t.p99 <= TARGET_MS ? 'within' : 'OVER'} the ${TARGET_MS} ms target`,
    );
  }
  const size =
    statSync(join(dir, 'state.sqlite')).size +
    (statSync(join(dir, 'state.sqlite-wal'), { throwIfNoEntry: false })?.size ?? 0);
  await db.destroy();
  console.log(
    `\nDashboard render times (${ROUNDS} rounds each; store: ${counts?.builds} builds, ${counts?.analyses} analysed logs, ${counts?.outcomes} test outcomes, ${(size / 1048576).toFixed(0)} MiB, seeded in ${(seedMs / 1000).toFixed(1)} s):\n${rows.join('\n')}`,
  );
});
