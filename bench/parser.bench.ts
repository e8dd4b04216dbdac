/**
 * Log-reading figures (issue: test-log intelligence; issue 14: local logs read like remote ones):
 * - `bbwatch analyze` (the built CLI, as a user runs it) of a generated 200 MiB regrtest-shaped log
 *   whose summary is at the end (read tail first) and of one without a summary (streamed whole),
 *   against `grep -c` over the same file in the same run (the ratio is what to watch: the machine
 *   is noisy), with its peak RSS and the bytes it read; and the parser's own throughput on the
 *   full stream;
 * - peak memory (RSS) while streaming a 1 GiB log and a log with 64 MiB lines, against a 20 MiB log;
 * - requests and bytes the tail-first reader fetches from the lab master for a build whose log is
 *   about 50 MiB.
 * Each run is a child process (bench/parse-file.mjs or the CLI over the built code), so RSS is its own.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
const RSS_HOOK = fileURLToPath(new URL('./rss-on-exit.mjs', import.meta.url));

interface ParseRun {
  ms: number;
  bytes: number;
  bytesRead: number;
  maxRssKiB: number;
  result: string;
}

/** `stream`: the whole file through the parser; `file`: read as `bbwatch analyze FILE` reads it. */
function parseInChild(mode: 'stream' | 'file', path: string): Promise<ParseRun> {
  const script = fileURLToPath(new URL('./parse-file.mjs', import.meta.url));
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [script, mode, path], { maxBuffer: 1 << 20 }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout) as ParseRun),
    ),
  );
}

/** `bbwatch analyze --json FILE` as a user runs it: wall time from spawn to exit, and its peak RSS. */
function analyzeInChild(path: string): Promise<{ ms: number; maxRssKiB: number; result: unknown }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', RSS_HOOK, CLI, 'analyze', '--json', path],
      { maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const ms = performance.now() - t0;
        // Exit 3: no summary in the log (the full-stream case); anything else is a failed run.
        if (err && err.code !== 3) return reject(err);
        const rss = /maxRSS (\d+)/.exec(stderr)?.[1];
        if (!rss) return reject(new Error(`no peak RSS from the CLI: ${stderr}`));
        resolve({ ms, maxRssKiB: Number(rss), result: (JSON.parse(stdout) as { result: unknown }).result });
      },
    ),
  );
}

/**
 * CPU time (user + system, ms) of this process's finished children, from /proc (Linux; 10 ms
 * ticks): less sensitive to a busy machine than wall time. Undefined where /proc is missing.
 */
function childrenCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of proc(5), cutime and cstime; this array starts at field 3.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Wall time of `run`, and the CPU time of the child processes it waited for. */
async function timed(run: () => unknown): Promise<{ ms: number; cpuMs: number | undefined }> {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const cpu1 = childrenCpuMs();
  return { ms, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

it('bbwatch analyze of a 200 MiB log against grep -c: summary at the end, and missing', async () => {
  const rows: string[] = [];
  for (const summary of [true, false]) {
    const path = join(dir, summary ? 'summary-at-end.log' : 'no-summary.log');
    await generateLog(path, 200, { summary });
    const cli: Array<{ ms: number; cpuMs: number | undefined }> = [];
    const grep: Array<{ ms: number; cpuMs: number | undefined }> = [];
    let rss = 0;
    let result: unknown;
    // Alternated, median of 3: both see the same page cache and the same neighbours.
    for (let i = 0; i < 3; i++) {
      cli.push(
        await timed(async () => {
          const run = await analyzeInChild(path);
          rss = Math.max(rss, run.maxRssKiB);
          result = run.result;
        }),
      );
      grep.push(await timed(() => execFileSync('grep', ['-c', 'failed', path])));
    }
    const read = await parseInChild('file', path);
    const stream = summary ? await parseInChild('stream', path) : undefined;
    rmSync(path);
    const c = median(cli.map((r) => r.ms));
    const g = median(grep.map((r) => r.ms));
    const cCpu = cli.every((r) => r.cpuMs !== undefined) ? median(cli.map((r) => r.cpuMs as number)) : NaN;
    const gCpu = grep.every((r) => r.cpuMs !== undefined) ? median(grep.map((r) => r.cpuMs as number)) : NaN;
    rows.push(
      `  ${summary ? 'summary at the end (read tail first)' : 'summary missing (full stream)'}: ` +
        `${c.toFixed(0)} ms, peak RSS ${(rss / 1024).toFixed(0)} MiB, read ${fmtBytes(read.bytesRead)} of ` +
        `${fmtBytes(read.bytes)}; grep -c ${g.toFixed(0)} ms; bbwatch/grep time ratio ${(c / g).toFixed(2)} ` +
        `(target: ${summary ? 'at most 1, peak RSS under 100 MiB' : 'at most 3'})` +
        (Number.isNaN(cCpu) || Number.isNaN(gCpu)
          ? ''
          : `; CPU time ${cCpu.toFixed(0)} ms against ${gCpu.toFixed(0)} ms, ratio ${(cCpu / gCpu).toFixed(2)}`),
    );
    if (stream) {
      rows.push(
        `  the parser alone on the full stream of that log: ${(stream.bytes / MiB / (stream.ms / 1000)).toFixed(0)} MiB/s ` +
          `(${stream.ms.toFixed(0)} ms in process, without Node's start-up)`,
      );
      expect(stream.result).toBe('FAILURE then SUCCESS');
    }
    expect(result).toBe(summary ? 'FAILURE then SUCCESS' : null);
    expect(read.bytesRead < read.bytes).toBe(summary);
  }
  console.log(`\nbbwatch analyze FILE (median of 3, each run a fresh process):\n${rows.join('\n')}`);
});

function fmtBytes(n: number): string {
  return n >= MiB ? `${(n / MiB).toFixed(0)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

it('peak memory is independent of log size and line length', async () => {
  const rows: string[] = [];
  for (const [label, mib, longLine] of [
    ['20 MiB log', 20, 0],
    ['1 GiB log', 1024, 0],
    ['200 MiB log with 64 MiB lines', 200, 64 * MiB],
  ] as const) {
    const path = join(dir, `mem-${mib}-${longLine}.log`);
    await generateLog(path, mib, { longLineBytes: longLine });
    const run = await parseInChild('stream', path);
    rows.push(
      `  ${label}: peak RSS ${(run.maxRssKiB / 1024).toFixed(0)} MiB (${run.ms.toFixed(0)} ms, result ${run.result})`,
    );
    rmSync(path);
    expect(run.result).toBe('FAILURE then SUCCESS');
  }
  console.log(
    `\nPeak memory while streaming a log through the parser (target: under 150 MiB, independent of size):\n${rows.join('\n')}`,
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
