/**
 * Synthetic load: a fake master with 2,000 builders replays finished builds at 50 events/s over
 * SSE into the real bbwatch CLI (console adapter). Half of the events turn a builder red, so each
 * of those is announced. Reported: events per second processed, event-to-send latency (from the
 * moment the fake master wrote the event to the moment the announcement reached the bot's stdout),
 * and the bot's peak RSS. Targets (issue 8): p99 under 100 ms, RSS under 200 MiB. The same load is
 * first run into the bot with V8's own heap growth (the baseline, in the same run), to show what the
 * bot's heap policy (src/heap-policy.ts) costs and saves.
 */
import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { startBot, writeConfig } from '../test/support/bot.js';
import { type FakeMaster, startFakeMaster } from './fake-master.js';

const BUILDERS = 2000;
const RATE = 50;
const EVENTS = Number(process.env.BENCH_LOAD_EVENTS ?? 1500);
let master: FakeMaster | undefined;
afterAll(async () => {
  await master?.close();
});

function peakRssMiB(pid: number | undefined): number {
  const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

interface Run {
  eventsPerSecond: number;
  latencies: number[];
  expected: number;
  rss: number;
}

/** One replay of `EVENTS` events into a fresh bot and a fresh master. */
async function run(nodeArgs: string[]): Promise<Run> {
  await master?.close();
  master = await startFakeMaster(BUILDERS);
  const bot = await startBot(
    writeConfig(`masters:
  - name: load
    url: ${master.url}
    stream: sse
    request_budget: { requests: 1000, per: 1s }
storage: ./state.sqlite
chat:
  console: true
announce:
  group_window: 0
notify:
  - to: console
    events: [failure]
log_level: info
`),
    { nodeArgs },
  );
  try {
    const t0 = Date.now();
    const expected = await master.replay(EVENTS, RATE);
    await bot.until(
      'every announcement',
      () => bot.matching(/^\d\d:\d\d:\d\d Builder \d+ 3\.x #\d+ turned red/).length >= expected,
      120_000,
    );
    const elapsed = (Date.now() - t0) / 1000;
    const latencies: number[] = [];
    for (const line of bot.stdout) {
      const m = /^\d\d:\d\d:\d\d Builder (\d+) 3\.x #(\d+) turned red/.exec(line.text);
      if (!m) continue;
      const sent = master.sentAt.get(`${Number(m[1])}:${m[2]}`);
      if (sent !== undefined) latencies.push(line.at - sent);
    }
    latencies.sort((a, b) => a - b);
    return { eventsPerSecond: EVENTS / elapsed, latencies, expected, rss: peakRssMiB(bot.child.pid) };
  } finally {
    await bot.stop();
  }
}

const q = (latencies: number[], p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;

const describeRun = (r: Run) =>
  `${r.eventsPerSecond.toFixed(1)} events/s processed; event-to-send latency median ${q(r.latencies, 0.5)} ms, ` +
  `p99 ${q(r.latencies, 0.99)} ms, max ${r.latencies.at(-1)} ms (n=${r.latencies.length}); peak RSS ${r.rss.toFixed(0)} MiB`;

it(`${BUILDERS} builders, ${RATE} events/s`, async () => {
  // The baseline: the same bot with V8's own heap growth (`--heap-growing-percent=0`, the default,
  // which the bot then leaves alone), against the bot as it runs (src/heap-policy.ts).
  const baseline = await run(['--heap-growing-percent=0']);
  const bot = await run([]);
  console.log(
    `\nSynthetic load: ${EVENTS} events from ${BUILDERS} builders at ${RATE}/s, ${bot.expected} announcements:\n` +
      `  bbwatch: ${describeRun(bot)}\n` +
      `  baseline (V8's default heap growth): ${describeRun(baseline)}\n` +
      `  ratio bbwatch / baseline: peak RSS ${(bot.rss / baseline.rss).toFixed(2)}×, ` +
      `p99 latency ${(q(bot.latencies, 0.99) / Math.max(1, q(baseline.latencies, 0.99))).toFixed(2)}× ` +
      `(targets: p99 < 100 ms, RSS < 200 MiB)`,
  );
  expect(bot.latencies.length).toBe(bot.expected);
  expect(baseline.latencies.length).toBe(baseline.expected);
});
