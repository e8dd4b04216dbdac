import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import type { DashboardLinks } from '../../src/chat/command.js';
import { Dispatcher } from '../../src/chat/dispatcher.js';
import { parseConfig } from '../../src/config/load.js';
import { renderDigest } from '../../src/digest/render.js';
import type { Digest } from '../../src/digest/digest.js';
import { lineText, type Message } from '../../src/messages/message.js';
import { openDb } from '../../src/store/db.js';
import { publicLinks } from '../../src/web/links.js';
import { analysis } from '../support/dashboard.js';
import { build, builder, controlWith, fleetWith, historyWith, silentLog } from '../support/fleet.js';

const BASE = 'https://ci.example.org/dash/';
const links = publicLinks(BASE);

describe('public dashboard links', () => {
  it('build absolute URLs under the public base, with names and filters encoded', () => {
    expect(links.flaky()).toBe('https://ci.example.org/dash/flaky');
    expect(links.test('test_<x> y')).toBe('https://ci.example.org/dash/tests/test_%3Cx%3E%20y');
    expect(links.builder('lab', 'AMD64 Debian/root 3.x')).toBe(
      'https://ci.example.org/dash/builders/lab/AMD64%20Debian%2Froot%203.x',
    );
    expect(links.fleet()).toBe(BASE);
    expect(links.fleet({ branch: '3.x', tags: ['stable', 'tier-1'], master: 'lab' })).toBe(
      'https://ci.example.org/dash/?master=lab&branch=3.x&tag=stable&tag=tier-1',
    );
    expect(publicLinks('https://ci.example.org').flaky()).toBe('https://ci.example.org/flaky');
  });
});

describe('http.public_url', () => {
  const yaml = (http: string) =>
    `masters:\n  - name: lab\n    url: http://127.0.0.1:8010/\nhttp:\n  port: 0\n${http}`;

  it('is optional, an http(s) URL, and ends in a slash', () => {
    expect(parseConfig(yaml(''), 't').http?.public_url).toBeUndefined();
    expect(parseConfig(yaml('  public_url: https://ci.example.org/bbwatch\n'), 't').http?.public_url).toBe(
      'https://ci.example.org/bbwatch/',
    );
    expect(() => parseConfig(yaml('  public_url: javascript:alert(1)\n'), 't')).toThrow(
      /http\.public_url.*must be an http:\/\/ or https:\/\/ URL/s,
    );
  });
});

const db = await openDb(':memory:');
const red = build(1, 2, 2, 600);
const fleet = await fleetWith(
  [builder(1, 'AMD64 Debian root 3.x', ['3.x', 'stable', 'tier-1'])],
  [build(1, 1, 0, 7200), red],
  'lab',
  db,
);
const { store, tests } = historyWith(db, fleet);
await store.saveDone(
  { master: 'lab', buildid: red.buildid, builderid: 1, number: 2 },
  analysis({ failed: ['test_ssl'], flaky: ['test_os'], tracebacks: { test_ssl: ['AssertionError'] } }),
  'http://127.0.0.1:8010/#/builders/1/builds/2/steps/1/logs/stdio',
  { name: 'AMD64 Debian root 3.x', branch: '3.x' },
  red.complete_at ?? 0,
);

async function ask(text: string, dashboard: DashboardLinks | undefined, lineLimit = 10): Promise<string[]> {
  const dispatcher = new Dispatcher({
    commands: COMMANDS,
    fleet,
    tests,
    control: controlWith(db, fleet),
    grants: { operate: [], force: [] },
    log: silentLog,
    ...(dashboard ? { dashboard } : {}),
  });
  const m = await dispatcher.handle(
    {
      platform: 'test',
      room: 'r',
      sender: { identity: 'u', name: 'u' },
      text,
      isDirect: false,
      addressed: false,
    },
    lineLimit,
  );
  return m ? [...(m.title ? [lineText(m.title)] : []), ...m.lines.map(lineText)] : [];
}

describe('chat replies end with the matching dashboard page', () => {
  it('!status links the fleet page with the same filters', async () => {
    expect((await ask('!status 3.x stable', links)).at(-1)).toBe(`Dashboard: ${BASE}?branch=3.x&tag=stable`);
    expect((await ask('!status', links)).at(-1)).toBe(`Dashboard: ${BASE}`);
  });

  it('!flaky links the flaky page, or the test page for one test', async () => {
    expect((await ask('!flaky', links)).at(-1)).toBe(`Dashboard: ${BASE}flaky`);
    expect((await ask('!flaky test_os', links)).at(-1)).toBe(`Dashboard: ${BASE}tests/test_os`);
  });

  it('!why links the builder page', async () => {
    expect((await ask('!why AMD64 Debian root 3.x', links)).at(-1)).toBe(
      `Dashboard: ${BASE}builders/lab/AMD64%20Debian%20root%203.x`,
    );
  });

  it('says nothing of a dashboard when no public URL is configured', async () => {
    for (const text of ['!status 3.x', '!flaky', '!flaky test_os', '!why AMD64 Debian root 3.x']) {
      const out = await ask(text, undefined);
      expect(out.length).toBeGreaterThan(0);
      expect(out.join('\n')).not.toContain('Dashboard');
    }
  });

  it('keeps within the line limit with the extra line', async () => {
    const out = await ask('!flaky', links, 2);
    expect(out).toHaveLength(3); // the title, one test, the dashboard line
  });

  it('the digest ends with the flaky page when one is given', () => {
    const digest: Digest = {
      days: 7,
      from: 0,
      until: 7 * 86_400,
      totals: { builds: 0, builders: 0, red: 0 },
      redPerDay: [],
      rates: [],
      streaks: [],
      flaky: [],
      newSince: 0,
      newlyRed: [],
      newFailures: [],
    };
    const opts = { buildUrl: () => 'http://x.invalid/', showMaster: false };
    const withLink: Message = renderDigest(digest, { ...opts, dashboardUrl: links.flaky() });
    expect(lineText(withLink.lines.at(-1) ?? [])).toBe(`Dashboard: ${BASE}flaky`);
    expect(renderDigest(digest, opts).lines.map(lineText).join('\n')).not.toContain('Dashboard');
  });
});
