import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap grow past what survived the last full collection: 100 % (twice the live
 * size). V8's default grows it by up to 4× for a process that allocates fast, and the bot does
 * under load (each event costs REST requests, queries and log lines, nearly all short-lived): with
 * 2,000 builders at 50 events/s, about 30 MiB live became a 160 MiB heap and a 240 MiB peak RSS
 * (`npm run bench`, bench/load.bench.ts). Twice the live size keeps the peak near 170 MiB for a few
 * more (short, incremental) full collections, with no measurable change in event-to-send latency.
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * Sets the long-running bot's heap growth, unless `node` was started with a growth setting of its
 * own (`node --heap-growing-percent=N`). V8 reads the setting at each full collection, so setting
 * it once the process runs takes effect from the next one.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
