/**
 * Operations and digests end to end: the real CLI with `http:` on, against the lab master.
 * /healthz follows the master going away and coming back; /metrics (parsed as Prometheus text)
 * counts the red build's announcement; !report answers with the figures of the builds run here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, labConfig, startBot, writeConfig } from '../support/bot.js';
import { type Lab, startLab } from '../support/lab.js';
import { parsePrometheus, sampleValue } from '../support/prometheus.js';

const B = 'AMD64 Debian root 3.x';
let lab: Lab;
let bot: BotProcess;
let base: string;

beforeAll(async () => {
  lab = await startLab({ branches: ['3.x'], platforms: ['AMD64 Debian root:stable,tier-1'] });
  await lab.runBuild(B, 'pass');
  bot = await startBot(
    writeConfig(
      labConfig(
        lab.url,
        'ws',
        'http:\n  listen: 127.0.0.1\n  port: 0\ndigest:\n  - { to: console, cron: "* * * * *", days: 2 }\n',
      ),
    ),
  );
  const listening = await bot.waitForLog('http listening');
  expect(listening.listen).toBe('127.0.0.1');
  base = `http://127.0.0.1:${String(listening.port)}`;
});
afterAll(async () => {
  await bot?.stop();
  await lab?.close();
});

async function get(path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** Asks again (every 200 ms, up to `timeoutMs`) until `check` gives something. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const found = await check();
      if (found !== undefined) return found;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The message whose first line matches `title` (at or after line `from`): that line and its indented lines. */
async function block(title: RegExp, from: number, timeoutMs?: number): Promise<string[]> {
  const first = await bot.waitForLine(title, from, timeoutMs);
  const at = bot.stdout.indexOf(first);
  // A message is written in one piece: its lines are contiguous.
  const lines = [first.text];
  for (const l of bot.stdout.slice(at + 1)) {
    if (!l.text.startsWith('  ')) break;
    lines.push(l.text);
  }
  return lines;
}

async function metrics() {
  const res = await get('/metrics');
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(res.body);
}

describe('operations endpoint and digests', () => {
  it('/healthz is 200 while the stream is up and the console connected', async () => {
    const res = await eventually('healthz 200', async () => {
      const r = await get('/healthz');
      return r.status === 200 ? r : undefined;
    });
    expect(res.type).toBe('application/json');
    expect(JSON.parse(res.body)).toMatchObject({
      status: 'ok',
      problems: [],
      masters: { lab: { status: 'streaming', transport: 'ws' } },
      adapters: { console: { connected: true } },
    });
    expect((await get('/nothing')).status).toBe(404);
  });

  it('/metrics counts the red build and its announcement', async () => {
    const from = bot.stdout.length;
    const before = await metrics();
    const sent = sampleValue(before, 'bbwatch_announcements_sent_total', { platform: 'console' });
    const events = sampleValue(before, 'bbwatch_events_received_total', { master: 'lab', origin: 'stream' });
    expect(sampleValue(before, 'bbwatch_transport', { master: 'lab', transport: 'ws' })).toBe(1);
    expect(sampleValue(before, 'bbwatch_master_up', { master: 'lab' })).toBe(1);
    expect(sampleValue(before, 'bbwatch_request_budget_limit', { master: 'lab' })).toBe(50);

    const red = await lab.runBuild(B, 'fail');
    await bot.waitForLine(new RegExp(`${B} #${red.number} turned red`), from);
    // The every-minute digest (for the digest test below) may go out meanwhile: it counts too.
    const digests = () => bot.matching(/^\d\d:\d\d:\d\d Digest, last 2 days:/, from).length;
    const after = await eventually('the announcement counted as sent', async () => {
      const m = await metrics();
      const counted = sampleValue(m, 'bbwatch_announcements_sent_total', { platform: 'console' });
      return counted === sent + 1 + digests() ? m : undefined;
    });
    expect(
      sampleValue(after, 'bbwatch_events_received_total', { master: 'lab', origin: 'stream' }),
    ).toBeGreaterThan(events);
    expect(sampleValue(after, 'bbwatch_announcements_failed_total', { platform: 'console' })).toBe(0);
    expect(sampleValue(after, 'bbwatch_outbox_pending')).toBe(0);
    expect(sampleValue(after, 'bbwatch_request_budget_used', { master: 'lab' })).toBeGreaterThan(0);
    expect(after.get('bbwatch_analysis_queue_length')?.type).toBe('gauge');
  });

  it('!report answers with the figures of the builds run here', async () => {
    const builds = await lab.api<{ builds: Array<{ number: number; results: number | null }> }>(
      'builds?complete=true&order=number',
    );
    expect(builds.builds.map((b) => b.results)).toEqual([0, 2]);
    const red = (builds.builds[1] as { number: number }).number;
    const from = bot.stdout.length;
    bot.send('!report 1');
    expect(await block(/^Digest, last 1 day:/, from)).toEqual([
      'Digest, last 1 day: 2 builds on 1 builder, 1 red (50%)',
      '  Failure rates:',
      `    ${B} 1/2 red (50%)`,
      '  Longest red streaks:',
      expect.stringMatching(new RegExp(`^ {4}${esc(B)} \\S.*, 1 red build from #${red} \\(still red\\)$`)),
      '  Flakiest tests: none.',
      expect.stringMatching(/^ {2}New failures since \d{4}-\d\d-\d\d \d\d:\d\d UTC:$/),
      `    ${B} turned red at #${red}`,
      `    test_ssl_lab failed in 1 build on ${B}`,
    ]);
    bot.send('!report soon');
    await bot.waitForLine(/'soon' is not a number of days\. Usage: !report \[days\]$/, from);
  });

  it('/healthz is 503 saying why while the master is away, 200 again once it is back', async () => {
    await lab.stopMaster();
    const down = await eventually('healthz 503', async () => {
      const r = await get('/healthz');
      return r.status === 503 ? r : undefined;
    });
    const body = JSON.parse(down.body) as { status: string; problems: string[] };
    expect(body.status).toBe('unavailable');
    expect(body.problems.join('\n')).toMatch(/^master lab (is connecting|has been unreachable since)/);
    // The operator's lines: the outage once (per reason), in words, then the return.
    const outage = await bot.until('the unreachable line', () =>
      bot.logs.find((l) =>
        /^lab: cannot reach http:\/\/127\.0\.0\.1:\d+\/ \(.+\); retrying/.test(String(l.msg)),
      ),
    );
    expect(outage.level).toBe(40);
    const downNow = await eventually('healthz says why', async () => {
      const h = JSON.parse((await get('/healthz')).body) as { problems: string[] };
      return h.problems.find((p) => p.startsWith('master lab has been unreachable since'));
    });
    expect(downNow).toMatch(/: connection (refused|reset|closed by the server)$/);
    expect(
      sampleValue(await metrics(), 'bbwatch_master_unreachable_seconds', { master: 'lab' }),
    ).toBeGreaterThanOrEqual(0);
    await lab.startMaster();
    await eventually(
      'healthz 200 again',
      async () => ((await get('/healthz')).status === 200 ? true : undefined),
      90_000,
    );
    expect(
      sampleValue(await metrics(), 'bbwatch_stream_reconnects_total', { master: 'lab' }),
    ).toBeGreaterThanOrEqual(1);
    await bot.until('the return line', () =>
      bot.logs.find((l) =>
        /^lab: connected again after .+, \d+ builders?, following (over WebSocket|by polling)$/.test(
          String(l.msg),
        ),
      ),
    );
    expect(sampleValue(await metrics(), 'bbwatch_master_unreachable_seconds', { master: 'lab' })).toBe(0);
    const said = bot.logs
      .filter((l) => /^lab: (cannot reach|connected)/.test(String(l.msg)))
      .map((l) => String(l.msg));
    // No line says the same thing twice in a row.
    expect(said.filter((m, i) => i > 0 && m === said[i - 1])).toEqual([]);
  }, 120_000);

  it('sends the scheduled digest to its destination', async () => {
    // digest: every minute over 2 days; the first one after the red build has it (a minute at most).
    const lines = await block(
      /^\d\d:\d\d:\d\d Digest, last 2 days: 2 builds on 1 builder, 1 red \(50%\)$/,
      0,
      75_000,
    );
    expect(lines).toContain('  Red builders per day: ▁█ (oldest first; at most 1)');
    expect(lines).toContain(`    ${B} 1/2 red (50%)`);
  }, 90_000);
});
