/**
 * Synthetic load: a fake master with 2,000 builders replays finished builds at 50 events/s over
 * SSE into the real bbwatch CLI (console adapter). Half of the events turn a builder red, so each
 * of those is announced. Reported: events per second processed, event-to-send latency (from the
 * moment the fake master wrote the event to the moment the announcement reached the bot's stdout),
 * and the bot's peak RSS. Targets (issue 8): p99 under 100 ms, RSS under 200 MiB.
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

it(`${BUILDERS} builders, ${RATE} events/s`, async () => {
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
    const rss = peakRssMiB(bot.child.pid);
    latencies.sort((a, b) => a - b);
    const q = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    console.log(
      `\nSynthetic load: ${EVENTS} events from ${BUILDERS} builders at ${RATE}/s, ${expected} announcements: ` +
        `${(EVENTS / elapsed).toFixed(1)} events/s processed; event-to-send latency median ${q(0.5)} ms, ` +
        `p99 ${q(0.99)} ms, max ${latencies.at(-1)} ms (n=${latencies.length}); peak RSS ${rss.toFixed(0)} MiB ` +
        `(targets: p99 < 100 ms, RSS < 200 MiB)`,
    );
    expect(latencies.length).toBe(expected);
  } finally {
    await bot.stop();
  }
});
