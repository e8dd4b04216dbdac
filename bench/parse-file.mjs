// Child process for the log benchmarks: reads one file with the built code (`npm run build`) and
// prints time, size, bytes read, result and peak RSS as JSON. Mode `stream`: the whole file through
// the parser (the full-stream path); `file`: as `bbwatch analyze FILE` reads it (tail first).
import { open } from 'node:fs/promises';
import { analyzeLogFile, FileLog } from '../dist/src/logs/file-log.js';
import { analyzeStream } from '../dist/src/logs/tail-first.js';

const [mode, path] = process.argv.slice(2);
const t0 = performance.now();
let analysis;
let bytesRead;
let size;
if (mode === 'file') {
  ({ analysis, bytesRead, size } = await analyzeLogFile(path, { wantTracebacks: true }));
} else {
  const fh = await open(path, 'r');
  size = (await fh.stat()).size;
  const log = new FileLog(fh, size);
  ({ analysis } = await analyzeStream((onChunk) => log.stream(onChunk)));
  bytesRead = log.bytesRead;
  await fh.close();
}
const ms = performance.now() - t0;
process.stdout.write(
  `${JSON.stringify({ ms, bytes: size, bytesRead, maxRssKiB: process.resourceUsage().maxRSS, result: analysis.result, flaky: analysis.flaky })}\n`,
);
