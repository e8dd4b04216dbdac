/**
 * Nothing waits (issue 17, item 6): a burst of 20 red builds on the fake master, all failing the
 * same test (a genuine regrtest log, CPython 3.13's runner), into the real bbwatch CLI with
 * grouping on (console: no edits, so the later builders are named in also-on lines). Measured per
 * build: from the moment the fake master wrote its `finished` event to the first console line that
 * names the builder (its headline, or an also-on line): p50, p95, max. The old burst window is
 * gone, so the baseline in the same run is the first red's latency (announced at once, waiting
 * for nothing). Target: p95 at most 2 s. Nothing is asserted about time: the figures are printed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startBot, writeConfig } from '../test/support/bot.js';
import { type FakeMaster, startFakeMaster } from './fake-master.js';

const BURST = 20;
let master: FakeMaster | undefined;
afterAll(async () => {
  await master?.close();
});

it(`a burst of ${BURST} reds failing the same test: time to each builder's first mention`, async () => {
  master = await startFakeMaster(BURST);
  master.testLog = readFileSync(
    join(import.meta.dirname, '../test/fixtures/regrtest/logs/3.13.0/hard-seq.log'),
    'utf8',
  ).split('\n');
  const bot = await startBot(
    writeConfig(`masters:
  - name: fake
    url: ${master.url}
    stream: sse
    request_budget: { requests: 1000, per: 1s }
storage: ./state.sqlite
chat:
  console: true
announce:
  group_window: 30m
notify:
  - to: console
    events: [failure]
log_level: info
`),
  );
  try {
    await bot.waitForLog('ready');
    const reds = await master.replay(BURST, 50);
    expect(reds).toBe(BURST);
    const name = (id: number) => `Builder ${String(id).padStart(4, '0')} 3.x`;
    const mentioned = (id: number) =>
      bot.stdout.find(
        (l) =>
          l.text.includes(`${name(id)} #3 turned red`) ||
          (/ also on: /.test(l.text) && l.text.includes(name(id))),
      );
    await bot.until(
      'every builder mentioned',
      () => Array.from({ length: BURST }, (_, i) => i + 1).every((id) => mentioned(id)),
      60_000,
    );
    const latency = Array.from({ length: BURST }, (_, i) => {
      const id = i + 1;
      return (mentioned(id)?.at ?? NaN) - (master?.sentAt.get(`${id}:3`) ?? NaN);
    });
    const sorted = [...latency].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
    const headlines = bot.matching(/turned red/).length;
    const alsoOn = bot.matching(/ also on: /).length;
    const first = latency[0] as number;
    console.log(
      `\nBurst of ${BURST} reds, one failure (console; group_window 30m): ${headlines} headline(s), ${alsoOn} also-on line(s)\n` +
        `  time to first mention: p50 ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms ` +
        `(target p95 <= 2000 ms: ${at(0.95) <= 2000 ? 'met' : 'missed'})\n` +
        `  baseline, the first red (waits for nothing): ${first.toFixed(0)} ms; p95 / baseline ${(at(0.95) / first).toFixed(1)}×`,
    );
    // Every builder of the burst is named, and the failure is announced once.
    expect(headlines).toBeLessThan(BURST);
  } finally {
    expect(await bot.stop()).toBe(0);
  }
});
