/**
 * Figures for the closing note and for regressions, measured against the real lab master:
 * - start-up: from spawning `bbwatch` to its `ready` log line (first start imports history; a
 *   restart reads SQLite and back-fills);
 * - latency: from the master's own `finished` event (seen by a plain SSE client in this process,
 *   the baseline) to the announcement line on the bot's stdout, over WS and over SSE.
 * Nothing here asserts a time: the figures are printed, and compared with the baseline in the same run.
 */
import { readFileSync } from 'node:fs';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { labConfig, startBot, writeConfig } from '../test/support/bot.js';
import { type Lab, startLab } from '../test/support/lab.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
let lab: Lab;

beforeAll(async () => {
  lab = await startLab(); // the full 14-builder lab fleet
});
afterAll(async () => {
  await lab?.close();
});

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return `median ${at(0.5).toFixed(0)} ms, p90 ${at(0.9).toFixed(0)} ms, min ${sorted[0]?.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms (n=${values.length})`;
}

function rssMiB(pid: number | undefined): string {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return `${(kb / 1024).toFixed(1)} MiB`;
  } catch {
    return 'n/a';
  }
}

it('start-up time to ready', async () => {
  const builders = await lab.builders();
  for (const b of builders.slice(0, 6)) await lab.runBuild(b.name, 'pass');
  const config = writeConfig(labConfig(lab.url, 'ws'));
  const rows: string[] = [];
  for (const label of ['first start (imports history)', 'restart (state in SQLite)', 'restart again']) {
    const t0 = performance.now();
    const bot = await startBot(config);
    const wall = performance.now() - t0;
    const ready = bot.logs.find((l) => l.msg === 'ready');
    rows.push(
      `  ${label}: ${wall.toFixed(0)} ms from spawn to ready (process's own clock: ${String(ready?.startupMs)} ms), RSS ${rssMiB(bot.child.pid)}`,
    );
    expect(await bot.stop()).toBe(0);
  }
  console.log(`\nStart-up with the lab master (${builders.length} builders):\n${rows.join('\n')}`);
});

it.each(['ws', 'sse'] as const)(
  'latency from the master finished event to the console line, over %s',
  async (stream) => {
    const builder = stream === 'ws' ? 'AMD64 Fedora Stable 3.x' : 'AMD64 Fedora Stable 3.14';
    await lab.runBuild(builder, 'pass');
    const bot = await startBot(writeConfig(labConfig(lab.url, stream)));
    // The baseline: the master's own event, as a plain SSE client receives it.
    const masterSeen = new Map<number, number>();
    const source = new EventSource(`${lab.url}sse/listen/builders/*/builds/*/finished`);
    await new Promise<void>((resolve) =>
      source.addEventListener('handshake', () => resolve(), { once: true }),
    );
    source.addEventListener('event', (ev) => {
      const { message } = JSON.parse(ev.data) as { message: { buildid: number } };
      masterSeen.set(message.buildid, performance.now() + performance.timeOrigin);
    });
    const latencies: number[] = [];
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const build = await lab.runBuild(builder, i % 2 === 0 ? 'fail' : 'pass');
        const line = await bot.waitForLine(new RegExp(`${builder} #${build.number} (turned red|recovered)`));
        const seen = masterSeen.get(build.buildid);
        if (seen !== undefined) latencies.push(line.at - seen);
      }
    } finally {
      source.close();
      expect(await bot.stop()).toBe(0);
    }
    console.log(`\nLatency over ${stream}, master finished event → console line: ${stats(latencies)}`);
    expect(latencies.length).toBeGreaterThan(0);
  },
);
