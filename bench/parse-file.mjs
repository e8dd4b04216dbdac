// Child process for the parser benchmark: streams one file through the built parser and prints
// time, bytes and peak RSS as JSON (run by bench/parser.bench.ts after `npm run build`).
import { statSync } from 'node:fs';
import { fromFile } from '../dist/src/tools/analyze.js';

const path = process.argv[2];
const t0 = performance.now();
const analysis = await fromFile(path);
const ms = performance.now() - t0;
process.stdout.write(
  `${JSON.stringify({ ms, bytes: statSync(path).size, maxRssKiB: process.resourceUsage().maxRSS, result: analysis.result, flaky: analysis.flaky })}\n`,
);
