/**
 * Log-reading figures (issue: test-log intelligence):
 * - parser throughput over a generated 200 MiB regrtest-shaped log, against `grep -c` over the
 *   same file in the same run (the ratio is what to watch: the machine is noisy);
 * - peak memory (RSS) while parsing a 1 GiB log and a log with 64 MiB lines, against a 20 MiB log;
 * - requests and bytes the tail-first reader fetches from the lab master for a build whose log is
 *   about 50 MiB.
 * Each parse runs in a child process (bench/parse-file.mjs over the built code), so RSS is its own.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { RequestBudget } from '../src/buildbot/budget.js';
import { BuildbotRest } from '../src/buildbot/rest.js';
import { analyzeBuildLog } from '../src/logs/reader.js';
import { startLab } from '../test/support/lab.js';
import { generateLog } from './generate-log.js';

const dir = mkdtempSync(join(tmpdir(), 'bbwatch-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1024 * 1024;

interface ParseRun {
  ms: number;
  bytes: number;
  maxRssKiB: number;
  result: string;
}

function parseInChild(path: string): Promise<ParseRun> {
  const script = new URL('./parse-file.mjs', import.meta.url).pathname;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [script, path], { maxBuffer: 1 << 20 }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout) as ParseRun),
    ),
  );
}

function grepMs(path: string): number {
  const t0 = performance.now();
  execFileSync('grep', ['-c', 'failed', path]);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

it('parser throughput against grep -c on a 200 MiB log', async () => {
  const path = join(dir, 'big.log');
  await generateLog(path, 200);
  const parse: number[] = [];
  const grep: number[] = [];
  let result = '';
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const run = await parseInChild(path);
    parse.push(run.ms);
    result = run.result;
    bytes = run.bytes;
    grep.push(grepMs(path));
  }
  const p = median(parse);
  const g = median(grep);
  console.log(
    `\nParser: ${(bytes / MiB).toFixed(0)} MiB in ${p.toFixed(0)} ms = ${(bytes / MiB / (p / 1000)).toFixed(0)} MiB/s ` +
      `(median of 3); grep -c: ${g.toFixed(0)} ms = ${(bytes / MiB / (g / 1000)).toFixed(0)} MiB/s; ` +
      `parser/grep time ratio ${(p / g).toFixed(2)} (target: at least 300 MiB/s, within 3× of grep)`,
  );
  expect(result).toBe('FAILURE then SUCCESS');
});

it('peak memory is independent of log size and line length', async () => {
  const rows: string[] = [];
  for (const [label, mib, longLine] of [
    ['20 MiB log', 20, 0],
    ['1 GiB log', 1024, 0],
    ['200 MiB log with 64 MiB lines', 200, 64 * MiB],
  ] as const) {
    const path = join(dir, `mem-${mib}-${longLine}.log`);
    await generateLog(path, mib, { longLineBytes: longLine });
    const run = await parseInChild(path);
    rows.push(
      `  ${label}: peak RSS ${(run.maxRssKiB / 1024).toFixed(0)} MiB (${run.ms.toFixed(0)} ms, result ${run.result})`,
    );
    rmSync(path);
    expect(run.result).toBe('FAILURE then SUCCESS');
  }
  console.log(
    `\nPeak memory while parsing (target: under 150 MiB, independent of size):\n${rows.join('\n')}`,
  );
});

it('tail-first reading of a ~50 MiB log on the lab master', async () => {
  const lab = await startLab({ branches: ['3.x'], platforms: ['AMD64 Debian root:stable'] });
  try {
    const build = await lab.runBuild('AMD64 Debian root 3.x', 'big:100');
    const rest = new BuildbotRest({
      baseUrl: lab.url,
      budget: new RequestBudget(100, 10_000),
      timeoutMs: 60_000,
      log: pino({ level: 'silent' }),
    });
    const info = await lab.api<{ logs: Array<{ num_lines: number; logid: number }> }>(
      `builds/${build.buildid}/steps/test/logs/stdio`,
    );
    const rawBytes = (await (await fetch(`${lab.url}api/v2/logs/${info.logs[0]?.logid}/raw`)).arrayBuffer())
      .byteLength;
    rest.stats = { requests: 0, bytes: 0 };
    const t0 = performance.now();
    const result = await analyzeBuildLog(rest, build, { step: 'test', log: 'stdio' });
    const ms = performance.now() - t0;
    console.log(
      `\nTail-first read of a ${(rawBytes / MiB).toFixed(1)} MiB log (${result.totalLines} lines): ` +
        `${rest.stats.requests} requests, ${(rest.stats.bytes / 1024).toFixed(1)} KiB fetched = ` +
        `${((rest.stats.bytes / rawBytes) * 100).toFixed(3)}% of the log, ${result.linesRead} lines read, ${ms.toFixed(0)} ms; ` +
        `result ${result.analysis.result}`,
    );
    expect(result.analysis.result).toBe('SUCCESS');
  } finally {
    await lab.close();
  }
});
