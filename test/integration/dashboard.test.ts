/**
 * The dashboard end to end, in a real browser: Debian's chromium (driven by playwright-core)
 * against the real bbwatch CLI with `http:` on, fed by the real lab master. A red build shows as a
 * red cell, a flaky build as a flaky outcome on the test's page, filters narrow the fleet (with and
 * without JavaScript), an open page updates itself over SSE when a build finishes, and crafted
 * markup in a test name, a builder pattern and a log line is shown as text. Screenshots of every
 * page go to test-artifacts/dashboard/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { type BotProcess, labConfig, startBot, writeConfig } from '../support/bot.js';
import { type Lab, startLab } from '../support/lab.js';

const DEBIAN = 'AMD64 Debian root 3.x';
const RHEL = 'PPC64LE RHEL8 3.x';
const PUBLIC = 'https://ci.example.org/bbwatch/';
const CRAFTED_TEST = 'test_<script>window.__pwned=1</script>';
const CRAFTED_LOG = '<img src=x onerror="window.__pwned=2">AssertionError';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));

let lab: Lab;
let bot: BotProcess;
let browser: Browser;
let base: string;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  lab = await startLab({
    branches: ['3.x'],
    platforms: ['AMD64 Debian root:stable,tier-1', 'PPC64LE RHEL8:unstable,tier-3'],
  });
  await lab.runBuild(DEBIAN, 'pass');
  await lab.runBuild(RHEL, 'pass');
  bot = await startBot(
    writeConfig(labConfig(lab.url, 'ws', `http:\n  listen: 127.0.0.1\n  port: 0\n  public_url: ${PUBLIC}\n`)),
  );
  const listening = await bot.waitForLog('http listening');
  base = `http://127.0.0.1:${String(listening.port)}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await bot?.stop();
  await lab?.close();
});

async function open(path: string, javaScriptEnabled = true): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const res = await page.goto(`${base}${path}`);
  expect(res?.status(), path).toBe(200);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The result classes of a builder's cells on the fleet page, newest first. */
function cells(page: Page, builder: string): Promise<string[]> {
  return page
    .locator(`tr[data-builder="${builder}"] a.cell`)
    .evaluateAll((as) => as.map((a) => a.className.replace('cell ', '')));
}

describe('dashboard in a browser', () => {
  it('the fleet page shows a red cell, linked to the build on the master, after a red build', async () => {
    const red = await lab.runBuild(DEBIAN, 'fail');
    await bot.waitForBuild(red.buildid);
    const page = await open('/');
    expect(await cells(page, DEBIAN)).toEqual(['r2', 'r0']);
    expect(await cells(page, RHEL)).toEqual(['r0']);
    const href = await page.locator(`tr[data-builder="${DEBIAN}"] a.cell.r2`).getAttribute('href');
    expect(href).toBe(`${lab.url}#/builders/${red.builderid}/builds/${red.number}`);
    expect(await page.locator('#summary').textContent()).toMatch(
      /^4 builders: 1 red, 0 orange, 1 green, 2 other\./,
    );
    await shot(page, 'fleet');
    await page.context().close();
  });

  it('filters by tier, branch and tag, from the form with JavaScript off too', async () => {
    const page = await open('/?tier=3');
    expect(
      await page
        .locator('tr[data-builder]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-builder'))),
    ).toEqual([RHEL]);
    await page.goto(`${base}/?branch=custom`);
    expect(await page.locator('tr[data-builder]').count()).toBe(2);
    await page.context().close();

    const plain = await open('/', false);
    await plain.selectOption('select[name="tag"]', 'stable');
    await Promise.all([plain.waitForURL(/\?/), plain.click('button[type="submit"]')]);
    expect(new URL(plain.url()).searchParams.get('tag')).toBe('stable');
    expect(
      await plain
        .locator('tr[data-builder]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-builder'))),
    ).toEqual([DEBIAN]);
    await shot(plain, 'fleet-filtered-nojs');
    await plain.context().close();
  });

  it('an open page updates itself over SSE when a build finishes, without a reload', async () => {
    const page = await open('/');
    // The live script says it follows the event stream. (Browser-side code is passed as strings
    // below: this project's TypeScript has no DOM types.)
    await page.waitForSelector('html[data-live="open"]', { state: 'attached' });
    await page.evaluate('window.__sameDocument = true');
    expect(await cells(page, RHEL)).toEqual(['r0']);
    const red = await lab.runBuild(RHEL, 'fail');
    await page.waitForSelector(`tr[data-builder="${RHEL}"] a.cell.r2`, { timeout: 30_000 });
    expect(await cells(page, RHEL)).toEqual(['r2', 'r0']);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(Number(await page.getAttribute('html', 'data-updates'))).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#live').textContent()).toMatch(/^live · updated /);
    await bot.waitForBuild(red.buildid);
    await shot(page, 'fleet-live');
    await page.context().close();
  });

  it('the test page shows a flaky outcome after a flaky build; the flaky page ranks it', async () => {
    const orange = await lab.runBuild(DEBIAN, 'flaky');
    await bot.waitForLog('log analysed', { buildid: orange.buildid }, 60_000);
    const page = await open('/tests/test_ssl_lab');
    expect(await page.locator('h1').textContent()).toBe('test_ssl_lab');
    const outcomes = await page.locator('#occurrences tr td:nth-child(4)').allTextContents();
    expect(outcomes[0]).toBe('flaky');
    expect(outcomes).toContain('failed');
    const strip = page.locator(`#heat tr:has(a:text-is("${DEBIAN}")) rect.hit`);
    expect(await strip.evaluateAll((rects) => rects.map((r) => r.getAttribute('fill')))).toContain('#d0342c');
    // The red and the flaky build: one cell, or two when midnight (UTC) fell between them.
    expect((await strip.locator('title').allTextContents()).join('; ')).toMatch(
      /^\d{4}-\d\d-\d\d: .*flaky 1×/,
    );
    await shot(page, 'test');
    await page.goto(`${base}/flaky`);
    const row = page.locator('#flaky-7 tr:has(code:text-is("test_ssl_lab"))');
    expect(await row.locator('td').allTextContents()).toEqual(expect.arrayContaining(['test_ssl_lab', '1']));
    expect(await row.locator('svg.chart rect').count()).toBeGreaterThanOrEqual(7);
    await shot(page, 'flaky');
    await page.goto(`${base}/builders/lab/${encodeURIComponent(DEBIAN)}`);
    expect(await page.locator('#tests code:text-is("test_ssl_lab")').count()).toBe(1);
    expect(await page.locator('#streaks').textContent()).toContain('#');
    await shot(page, 'builder');
    await page.context().close();
  });

  it('!flaky ends with a link to the dashboard page', async () => {
    const from = bot.stdout.length;
    bot.send('!flaky test_ssl_lab');
    await bot.waitForLine(
      new RegExp(`^ {2}Dashboard: ${PUBLIC.replace(/[.?/]/g, '\\$&')}tests/test_ssl_lab$`),
      from,
    );
  });

  it('shows crafted markup in a test name, a known issue and a log line as text, and runs none of it', async () => {
    // Seeded the way the bot stores a log's findings, in the bot's own SQLite file.
    const db = await openDb(join(bot.configPath, '..', 'state.sqlite'));
    try {
      const builderid = (await lab.builders()).find((b) => b.name === DEBIAN)?.builderid ?? 0;
      const at = Math.floor(Date.now() / 1000);
      await db
        .insertInto('analyses')
        .values({
          master: 'lab',
          buildid: 900001,
          builderid,
          number: 9001,
          status: 'done',
          data: JSON.stringify({ tracebacks: { [CRAFTED_TEST]: ['Traceback:', CRAFTED_LOG] } }),
          log_url: 'javascript:window.__pwned=3',
          created_at: at,
          analysed_at: at,
          announce: 0,
        })
        .execute();
      for (const outcome of ['failed', 'flaky'])
        await db
          .insertInto('test_outcomes')
          .values({
            master: 'lab',
            buildid: 900001,
            builderid,
            number: 9001,
            builder: DEBIAN,
            branch: '3.x',
            test: CRAFTED_TEST,
            outcome,
            complete_at: at,
          })
          .execute();
      await db
        .insertInto('known_issues')
        .values({
          test: CRAFTED_TEST,
          issue: 'javascript:window.__pwned=4',
          builders: '<b>x</b>',
          added_by: 'test',
          added_at: at,
        })
        .execute();
    } finally {
      await db.destroy();
    }
    const page = await open(`/tests/${encodeURIComponent(CRAFTED_TEST)}`);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    expect(await page.locator('h1').textContent()).toBe(CRAFTED_TEST);
    expect(await page.locator('pre.trace').textContent()).toBe(`Traceback:\n${CRAFTED_LOG}`);
    expect(await page.locator('a.issue').count()).toBe(0);
    expect(await page.locator('span.issue').textContent()).toBe('javascript:window.__pwned=4');
    expect(await page.locator('a[href^="javascript"], img, main script').count()).toBe(0);
    await page
      .locator('a:text-is("log")')
      .count()
      .then((n) => expect(n).toBe(0));
    await shot(page, 'crafted-test');
    for (const path of ['/flaky', `/builders/lab/${encodeURIComponent(DEBIAN)}`]) {
      await page.goto(`${base}${path}`);
      expect(await page.getByText(CRAFTED_TEST, { exact: true }).count()).toBeGreaterThanOrEqual(1);
    }
    await shot(page, 'crafted-builder');
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('unknown tests and builders get a 404 page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${base}/tests/test_nothing_here`);
    expect(res?.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('Not found');
    expect((await page.goto(`${base}/builders/lab/nobody`))?.status()).toBe(404);
    await context.close();
  });
});
