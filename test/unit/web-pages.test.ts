import { describe, expect, it } from 'vitest';
import { DashboardStore } from '../../src/store/dashboard.js';
import { openDb } from '../../src/store/db.js';
import { TestStore } from '../../src/store/tests.js';
import { rootOf, route } from '../../src/web/dashboard.js';
import type { DashboardSources } from '../../src/web/page.js';
import { redStreaks } from '../../src/web/pages/builder.js';
import { analysis } from '../support/dashboard.js';
import { build, builder, fleetWith, MASTER_URL } from '../support/fleet.js';

const EVIL_BUILDER = `Evil <script>window.__pwned=1</script> "q" 3.x`;
const EVIL_TEST = `test_<img src=x onerror=alert(1)>`;
const db = await openDb(':memory:');
/** The pages' clock: taken before the builds, so that day boundaries cannot move under the test. */
const T0 = Date.now();
const builds = {
  debian: [build(1, 1, 0, 5 * 86_400), build(1, 2, 2, 4 * 86_400), build(1, 3, 1, 3 * 86_400)],
  rhel: [build(2, 1, 2, 2 * 86_400), build(2, 2, 0, 86_400)],
  evil: [build(3, 1, 2, 3600)],
};
const fleet = await fleetWith(
  [
    builder(1, 'AMD64 Debian root 3.x', ['3.x', 'stable', 'tier-1']),
    builder(2, 'PPC64LE RHEL8 3.14', ['3.14', 'unstable', 'tier-3']),
    builder(3, EVIL_BUILDER, ['3.x', '<b>tag</b>']),
  ],
  [...builds.debian, ...builds.rhel, ...builds.evil],
  'lab',
  db,
);
const tests = new TestStore(db);
const save = (
  b: { buildid: number; builderid: number; number: number; complete_at?: number | null },
  name: string,
  extra: Parameters<typeof analysis>[0],
) =>
  tests.saveDone(
    { master: 'lab', buildid: b.buildid, builderid: b.builderid, number: b.number },
    analysis(extra),
    `${MASTER_URL}#/builders/${b.builderid}/builds/${b.number}/steps/1/logs/stdio`,
    { name, branch: name.split(' ').pop() ?? null },
    b.complete_at ?? 0,
  );
const [d1, d2, d3] = builds.debian;
const [r1] = builds.rhel;
const [e1] = builds.evil;
if (!d1 || !d2 || !d3 || !r1 || !e1) throw new Error('builds missing');
await save(d2, 'AMD64 Debian root 3.x', {
  failed: ['test_ssl'],
  tracebacks: {
    test_ssl: ['Traceback (most recent call last):', 'AssertionError: <img src=x onerror=alert(1)>'],
  },
});
await save(d3, 'AMD64 Debian root 3.x', { flaky: ['test_ssl'], envChanged: ['test_os'] });
await save(r1, 'PPC64LE RHEL8 3.14', { failed: ['test_os'] });
await save(e1, EVIL_BUILDER, { failed: [EVIL_TEST], flaky: [EVIL_TEST] });
await tests.addKnown('test_ssl', 'gh-4242', null, 'test');
await tests.addKnown('test_ssl', 'javascript:alert(1)', 'Debian', 'test');

const src: DashboardSources = { store: new DashboardStore(db), fleet, now: () => T0 };

async function get(path: string): Promise<{ status: number; body: string }> {
  const url = new URL(path, 'http://x.invalid');
  const segments = url.pathname.slice(1).split('/').map(decodeURIComponent);
  const { status, page } = await route(src, segments, url.searchParams);
  return { status, body: page.main.value };
}

/** Builder names of the fleet table's rows. */
function rows(body: string): string[] {
  return [...body.matchAll(/<tr data-builder="([^"]*)"/g)].map((m) => m[1] ?? '');
}

describe('fleet page', () => {
  it('lists every builder with its builds as cells linking to the master, newest first', async () => {
    const { status, body } = await get('/');
    expect(status).toBe(200);
    expect(rows(body)).toHaveLength(3);
    const debian = body.slice(
      body.indexOf('data-builder="AMD64 Debian'),
      body.indexOf('</tr>', body.indexOf('data-builder="AMD64 Debian')),
    );
    const cells = [...debian.matchAll(/<a href="([^"]*)" class="cell (r\d)"/g)].map((m) => [m[1], m[2]]);
    expect(cells).toEqual([
      [`${MASTER_URL}#/builders/1/builds/3`, 'r1'],
      [`${MASTER_URL}#/builders/1/builds/2`, 'r2'],
      [`${MASTER_URL}#/builders/1/builds/1`, 'r0'],
    ]);
    expect(body).toContain('3 builders: 1 red, 1 orange, 1 green');
  });

  it('filters by branch, tag and tier from the query string', async () => {
    expect(rows((await get('/?branch=3.14')).body)).toEqual(['PPC64LE RHEL8 3.14']);
    expect(rows((await get('/?tag=stable')).body)).toEqual(['AMD64 Debian root 3.x']);
    expect(rows((await get('/?tier=3')).body)).toEqual(['PPC64LE RHEL8 3.14']);
    expect(rows((await get('/?tier=tier-1&branch=3.x')).body)).toEqual(['AMD64 Debian root 3.x']);
    expect(rows((await get('/?branch=3.x&tag=stable&tag=tier-1')).body)).toEqual(['AMD64 Debian root 3.x']);
    expect((await get('/?branch=2.7')).body).toContain('No builder matches these filters.');
    expect((await get('/?n=1')).body.match(/<a [^>]*class="cell r\d"/g)).toHaveLength(3);
    // The form shows the current filter selected.
    expect((await get('/?branch=3.14')).body).toContain('<option value="3.14" selected>3.14</option>');
  });

  it('shows a crafted builder name and tag as text', async () => {
    const { body } = await get('/');
    expect(body).not.toMatch(/<script|<b>tag/);
    expect(body).toContain('Evil &lt;script&gt;window.__pwned=1&lt;/script&gt; &quot;q&quot; 3.x');
    expect(body).toContain('&lt;b&gt;tag&lt;/b&gt;');
    // Its builder link is percent-encoded, not raw markup.
    expect(body).toContain(`href="./builders/lab/${encodeURIComponent(EVIL_BUILDER)}"`);
  });
});

describe('flaky page', () => {
  it('ranks flaky tests with counts, a trend chart and known-issue links', async () => {
    const { status, body } = await get('/flaky');
    expect(status).toBe(200);
    const week = body.slice(body.indexOf('id="flaky-7"'), body.indexOf('id="flaky-30"'));
    expect(week).toContain('<a href="./tests/test_ssl"><code>test_ssl</code></a>');
    expect(week).toMatch(/<svg class="chart"[^>]*aria-label="test_ssl: flaky per day, last 7 days"/);
    // 7 daily bars; the flaky build was 3 days ago.
    const chart = /<svg class="chart"[^>]*aria-label="test_ssl[^"]*"[^]*?<\/svg>/.exec(week)?.[0] ?? '';
    expect(chart.match(/<title>\d{4}-\d\d-\d\d: flaky \d×<\/title>/g)).toHaveLength(7);
    expect(chart).toMatch(/flaky 1×/);
    expect(week).toContain(
      '<a href="https://github.com/python/cpython/issues/4242" class="issue">gh-4242</a>',
    );
    // A stored javascript: issue is shown, never linked.
    expect(week).toContain(
      '<span class="issue">javascript:alert(1)</span> <span class="muted">(Debian)</span>',
    );
    expect(body).not.toContain('href="javascript');
  });

  it('puts each flaky outcome on its day, the newest on the right', async () => {
    // The crafted test was flaky an hour ago: the last of the 7 bars.
    const { body } = await get('/flaky');
    const week = body.slice(body.indexOf('id="flaky-7"'), body.indexOf('id="flaky-30"'));
    const chart = /<svg class="chart"[^>]*aria-label="test_&lt;img[^"]*"[^]*?<\/svg>/.exec(week)?.[0] ?? '';
    const counts = [...chart.matchAll(/<title>\d{4}-\d\d-\d\d: flaky (\d)×<\/title>/g)].map((m) => m[1]);
    expect(counts).toEqual(['0', '0', '0', '0', '0', '0', '1']);
  });

  it('escapes a crafted test name in the ranking', async () => {
    const { body } = await get('/flaky');
    expect(body).not.toContain('<img');
    expect(body).toContain('test_&lt;img src=x onerror=alert(1)&gt;');
    expect(body).toContain(`href="./tests/${encodeURIComponent(EVIL_TEST)}"`);
  });
});

describe('test page', () => {
  it('shows a heat strip per builder, first and last seen, tracebacks and known issues', async () => {
    const { status, body } = await get('/tests/test_ssl');
    expect(status).toBe(200);
    expect(body).toContain('<h1><code>test_ssl</code></h1>');
    expect(body).toMatch(/flaky 1×<\/span> <span class="badge" style="background:#d0342c">failed 1×/);
    expect(body).toMatch(/First seen \d{4}-\d\d-\d\d \d\d:\d\d UTC \(4 d/);
    expect(body).toMatch(/last seen \d{4}-\d\d-\d\d \d\d:\d\d UTC \(3 d/);
    const heat = body.slice(body.indexOf('id="heat"'), body.indexOf('</table>', body.indexOf('id="heat"')));
    expect(heat).toContain('<a href="../builders/lab/AMD64%20Debian%20root%203.x">AMD64 Debian root 3.x</a>');
    const hits = [...heat.matchAll(/<rect class="hit"[^>]*fill="([^"]*)"><title>([^<]*)<\/title>/g)].map(
      (m) => [m[1], m[2]?.slice(12)],
    );
    expect(hits).toEqual([
      ['#d0342c', 'failed 1×'],
      ['#e69a1e', 'flaky 1×'],
    ]);
    // 30 days wide (11 px a day), oldest on the left: the failure 4 days ago, the flaky build 3 days ago.
    expect(heat).toContain('<rect class="bg" x="0" y="0" width="330" height="10" fill="#eee"/>');
    expect([...heat.matchAll(/<rect class="hit" x="(\d+)"/g)].map((m) => Number(m[1]) / 11)).toEqual([
      26, 27,
    ]);
    expect(body).toContain(
      '<pre class="trace">Traceback (most recent call last):\nAssertionError: &lt;img src=x onerror=alert(1)&gt;</pre>',
    );
    expect(body).toContain('gh-4242');
    // ?days=7: a 7-day strip.
    expect((await get('/tests/test_ssl?days=7')).body).toContain('width="77" height="10" fill="#eee"');
  });

  it('escapes a crafted test name', async () => {
    const { status, body } = await get(`/tests/${encodeURIComponent(EVIL_TEST)}`);
    expect(status).toBe(200);
    expect(body).not.toContain('<img');
    expect(body).toContain('<h1><code>test_&lt;img src=x onerror=alert(1)&gt;</code></h1>');
  });

  it('is a 404 for a test with no history', async () => {
    const { status, body } = await get('/tests/test_nothing');
    expect(status).toBe(404);
    expect(body).toContain('No test named &#39;test_nothing&#39; has any stored history.');
    expect((await get(`/tests/${encodeURIComponent('<script>x</script>')}`)).body).not.toContain('<script>');
  });
});

describe('builder page', () => {
  it('shows recent builds, red streaks and the tests that broke it', async () => {
    const { status, body } = await get(`/builders/lab/${encodeURIComponent('AMD64 Debian root 3.x')}`);
    expect(status).toBe(200);
    expect([...body.matchAll(/<a [^>]*class="cell (r\d)"/g)].map((m) => m[1])).toEqual(['r1', 'r2', 'r0']);
    const streaks = body.slice(body.indexOf('id="streaks"'));
    expect(streaks).toMatch(/<td class="num">1<\/td><td>1 d[^<]*<\/td><td><a href="[^"]*builds\/3"/);
    const broke = body.slice(body.indexOf('id="tests"'));
    expect(broke).toContain('<a href="../../tests/test_ssl"><code>test_ssl</code></a>');
    expect(broke).toContain('<a href="../../tests/test_os"><code>test_os</code></a>');
    expect(body).toContain('<svg class="chart"');
    // Each build's notable tests, with the outcome after a space.
    expect(body).toContain('<code>test_ssl</code></a> <span class="muted">failed</span>');
  });

  it('escapes a crafted builder name', async () => {
    const { status, body } = await get(`/builders/lab/${encodeURIComponent(EVIL_BUILDER)}`);
    expect(status).toBe(200);
    expect(body).not.toMatch(/<script|<img/);
    expect(body).toContain('<h1>Evil &lt;script&gt;');
    expect(body).toContain('<strong>still red</strong>');
  });

  it('is a 404 for an unknown builder or master', async () => {
    expect((await get('/builders/lab/nobody')).status).toBe(404);
    expect((await get(`/builders/other/${encodeURIComponent('AMD64 Debian root 3.x')}`)).status).toBe(404);
    expect((await get('/builders/lab')).status).toBe(404);
    expect((await get('/nothing/here')).status).toBe(404);
  });
});

describe('helpers', () => {
  it('red streaks skip neutral results and end at the next green or orange build', async () => {
    const b = (number: number, results: number | null) => ({
      buildid: number,
      number,
      results,
      stateString: '',
      startedAt: null,
      completeAt: number * 100,
    });
    const streaks = redStreaks([b(1, 0), b(2, 2), b(3, 5), b(4, 2), b(5, 1), b(6, 2), b(7, 4)]);
    expect(streaks.map((s) => [s.first.number, s.last.number, s.builds, s.endedBy?.number])).toEqual([
      [2, 4, 2, 5],
      [6, 6, 1, undefined],
    ]);
  });

  it('relative roots keep links working below any path prefix', async () => {
    expect(rootOf([''])).toBe('./');
    expect(rootOf(['flaky'])).toBe('./');
    expect(rootOf(['tests', 'x'])).toBe('../');
    expect(rootOf(['builders', 'm', 'x'])).toBe('../../');
  });
});
