/**
 * `bbwatch analyze FILE` reads a local log the way the bot reads one on the master: tail first, in
 * byte windows that grow from the end, plus the head; the whole file only when the summary is not
 * in the tail. What it finds must be what streaming the whole file finds.
 */
import { appendFileSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeLogFile, FileChangedError, FileLog } from '../../src/logs/file-log.js';
import { LineSplitter } from '../../src/logs/lines.js';
import { jsonReport } from '../../src/logs/report.js';
import {
  analyzeStream,
  analyzeTailFirst,
  type LineSink,
  MAX_LINE,
  MAX_TAIL,
  type TailSource,
} from '../../src/logs/tail-first.js';
import { chatter, fixtureText, regrtestFixtures, withChatter } from '../support/regrtest-logs.js';

const dir = mkdtempSync(join(tmpdir(), 'bbwatch-file-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** As `bbwatch analyze` reads: its report shows the tracebacks. */
const READ = { wantTracebacks: true };
/** More lines of chatter than the tail window may grow to: a log without a summary is streamed. */
const BIG = MAX_TAIL + 10_000;

let n = 0;
function file(content: string | Uint8Array): string {
  const path = join(dir, `log-${n++}.log`);
  writeFileSync(path, content);
  return path;
}

/** The report of the whole content streamed through the parser, as `bbwatch analyze -` reads stdin. */
async function streamed(content: string | Uint8Array) {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return jsonReport((await analyzeStream((onChunk) => Promise.resolve(onChunk(bytes)))).analysis);
}

async function tailFirst(content: string | Uint8Array) {
  const result = await analyzeLogFile(file(content), READ);
  return { ...result, report: jsonReport(result.analysis) };
}

/**
 * A report with each traceback cut to its first line: a test that failed twice (a timeout, then
 * again when re-run) has two dumps; the stream keeps the first, the tail the last it needed. Both
 * are that test's, and they say the same thing first; everything else must be equal.
 */
function sameBarTracebacks(report: ReturnType<typeof jsonReport>): unknown {
  const r = report as { tracebacks?: Record<string, string[]> };
  return {
    ...r,
    tracebacks: Object.fromEntries(Object.entries(r.tracebacks ?? {}).map(([t, lines]) => [t, lines[0]])),
  };
}

describe('read tail first without tracebacks (as for an announcement), a log still says how each test failed', () => {
  // The summary says that a test failed; its own result line says whether it crashed or timed out.
  const how = (r: ReturnType<typeof jsonReport>) => ({
    failed: r.failed,
    flaky: r.flaky,
    envChanged: r.envChanged,
    crashed: r.crashed,
    timedOut: r.timedOut,
    details: r.details,
  });
  it.each(regrtestFixtures)('%s', async (name) => {
    const big = withChatter(fixtureText(name), BIG);
    const read = await analyzeLogFile(file(big));
    expect(how(jsonReport(read.analysis))).toEqual(how(await streamed(big)));
  });
});

describe('a local log read tail first gives what the whole file streamed gives', () => {
  it.each(regrtestFixtures)('%s', async (name) => {
    const text = fixtureText(name);
    const small = await tailFirst(text);
    expect(sameBarTracebacks(small.report)).toEqual(sameBarTracebacks(await streamed(text)));
    expect(small.bytesRead).toBe(small.size);

    // The same run made big: read from the end, or streamed when the summary is not in the tail.
    const big = withChatter(text, BIG);
    const read = await tailFirst(big);
    expect(sameBarTracebacks(read.report)).toEqual(sameBarTracebacks(await streamed(big)));
    if (read.streamed) expect(read.bytesRead).toBeGreaterThanOrEqual(read.size);
    else expect(read.bytesRead).toBeLessThan(read.size);
  });

  it('reads a few KiB of a big log whose summary is at its end', async () => {
    const read = await tailFirst(withChatter(fixtureText('logs/3.11.2-debian/mixed-par.log'), BIG));
    expect(read.size).toBeGreaterThan(1_000_000);
    expect(read.streamed).toBe(false);
    expect(read.bytesRead).toBeLessThan(64 * 1024);
    expect(read.report).toMatchObject({
      result: 'FAILURE then FAILURE',
      seed: 2024,
      workers: 2,
      failed: ['test_hard'],
      flaky: ['test_flaky'],
      envChanged: ['test_envchange'],
    });
    expect(read.report.cases).toEqual({
      test_flaky: ['test_timing'],
      test_hard: ['test_error', 'test_handshake'],
    });
  });

  it('streams the whole file when the log has no summary (a run cut short)', async () => {
    const read = await tailFirst(withChatter(fixtureText('logs/3.11.2-debian/crash-par.log'), BIG));
    expect(read.streamed).toBe(true);
    expect(read.bytesRead).toBeGreaterThanOrEqual(read.size);
    expect(read.report).toMatchObject({
      result: null,
      partial: true,
      seed: 5,
      failed: ['test_crasher'],
      crashed: ['test_crasher'],
    });
  });

  it('streams the whole file when the summary is followed by more lines than the tail may hold', async () => {
    const text = `${fixtureText('logs/3.11.2-debian/hard-par.log')}${chatter(BIG).join('\n')}\n`;
    const read = await tailFirst(text);
    expect(read.streamed).toBe(true);
    expect(read.report).toEqual(await streamed(text));
    expect(read.report).toMatchObject({ result: 'FAILURE then FAILURE', failed: ['test_hard'] });
  });
});

describe('what a file may hold', () => {
  const mixed = fixtureText('logs/3.11.2-debian/mixed-par.log');

  it('lines longer than 4 KiB in the tail are cut as the stream cuts them', async () => {
    const at = mixed.indexOf('== Tests result');
    const text = `${mixed.slice(0, at)}${'x'.repeat(3 * 1024 * 1024)}\n${'é'.repeat(5000)}\n${mixed.slice(at)}`;
    const read = await tailFirst(withChatter(text, BIG));
    expect(read.streamed).toBe(false);
    expect(read.report).toEqual(await streamed(withChatter(text, BIG)));
    expect(read.report).toMatchObject({ result: 'FAILURE then FAILURE', failed: ['test_hard'] });
  });

  it('CRLF line ends read the same as LF', async () => {
    const crlf = await tailFirst(withChatter(mixed, BIG).replace(/\n/g, '\r\n'));
    expect(crlf.streamed).toBe(false);
    expect(crlf.report).toEqual((await tailFirst(withChatter(mixed, BIG))).report);
  });

  it('invalid UTF-8 reads as the stream reads it', async () => {
    const bytes = Buffer.from(withChatter(mixed, BIG));
    // Broken sequences in a chatter line, in a traceback line and in the summary's last line.
    for (const needle of ['test_case_5 (', 'ValueError: bad', 'Tests result: FAILURE then']) {
      const at = bytes.lastIndexOf(needle);
      bytes.set([0xff, 0xc3, 0xe2, 0x82], at + needle.length - 3);
    }
    const read = await tailFirst(bytes);
    expect(read.report).toEqual(await streamed(bytes));
    expect(read.report.failed).toEqual(['test_hard']);
  });

  it('a last line without a newline still counts', async () => {
    const text = withChatter(fixtureText('logs/3.11.2-debian/flaky-par.log'), BIG).trimEnd();
    expect(text.endsWith('Tests result: FAILURE then SUCCESS')).toBe(true);
    const read = await tailFirst(text);
    expect(read.streamed).toBe(false);
    expect(read.report).toMatchObject({
      result: 'FAILURE then SUCCESS',
      partial: false,
      flaky: ['test_flaky'],
    });
    expect(read.report).toEqual(await streamed(text));
  });

  it('an empty file, or one of empty lines, has no summary and reads nothing past its end', async () => {
    const empty = await tailFirst('');
    expect(empty).toMatchObject({ size: 0, bytesRead: 0, streamed: false });
    expect(empty.report).toMatchObject({ result: null, summaryFound: false, failed: [] });
    const blank = await tailFirst('\n'.repeat(100_000));
    expect(blank.report).toEqual(await streamed('\n'.repeat(100_000)));
    expect(blank.report).toMatchObject({ result: null, summaryFound: false });
  });

  it.each([
    ['with its summary at the end', 'logs/3.11.2-debian/mixed-par.log', false],
    ['without a summary', 'logs/3.11.2-debian/crash-par.log', true],
  ])(
    'a log %s, appended to while it is read, is read as it was when the read began',
    async (_, name, streams) => {
      const original = withChatter(fixtureText(name), BIG);
      const path = file(original);
      // Lines that would change the analysis if they were read: a test that altered the environment
      // (a bounded number of times: a reader that chased the end would otherwise never finish).
      let appends = 0;
      const grow = () => {
        if (appends++ < 40)
          appendFileSync(path, `${chatter(50).join('\n')}\nWarning -- files was modified by test_appended\n`);
      };
      const fh = await open(path, 'r');
      try {
        const log = new FileLog(fh, (await fh.stat()).size);
        // The file grows before every read the analysis makes, and between the chunks of the stream.
        const growing: TailSource = {
          get atStart() {
            return log.atStart;
          },
          extend: (count) => (grow(), log.extend(count)),
          parseTail: (sink) => (grow(), log.parseTail(sink)),
          parseHead: (sink, count) => (grow(), log.parseHead(sink, count)),
          stream: (onChunk) => (grow(), log.stream((chunk) => (grow(), onChunk(chunk)))),
        };
        const read = await analyzeTailFirst(growing, READ);
        expect(read.streamed).toBe(streams);
        expect(jsonReport(read.analysis)).toEqual(await streamed(original));
        expect(statSync(path).size).toBeGreaterThan(original.length + 4096);
      } finally {
        await fh.close();
      }
    },
  );

  it('a file that shrinks while it is read gives an error, not a wrong analysis', async () => {
    const path = file(withChatter(fixtureText('logs/3.11.2-debian/crash-par.log'), BIG));
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      const log = new FileLog(fh, size);
      truncateSync(path, Math.floor(size / 2));
      await expect(log.extend(16)).rejects.toThrow(FileChangedError);
      await expect(log.stream(() => undefined)).rejects.toThrow('the file shrank while it was read');
    } finally {
      await fh.close();
    }
  });
});

describe('lines read from the end are the lines of the stream', () => {
  /** Pieces of lines: regrtest's, long ones, bare CR redraws, invalid UTF-8, and nothing at all. */
  const piece = fc.oneof(
    fc.constantFrom(
      '0:00:01 load avg: 1.00 [ 1/478] test_grammar passed',
      'Result: FAILURE then SUCCESS',
      '',
      'running: test_x (1 min)\r0:01:00 load avg: 1.0 [2/3] test_y passed',
      'caf\xe9 ✓',
    ),
    fc.string({ maxLength: 30 }),
    fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b).toString('latin1')),
    fc.integer({ min: MAX_LINE - 10, max: 3 * MAX_LINE }).map((len) => 'y'.repeat(len)),
  );
  const content = fc
    .tuple(
      fc.array(fc.tuple(piece, fc.constantFrom('\n', '\r\n')), { maxLength: 40 }),
      fc.option(piece, { nil: undefined }),
    )
    .map(([lines, last]) => {
      const parts = lines.map(([text, end]) => Buffer.from(`${text}${end}`, 'latin1'));
      if (last !== undefined) parts.push(Buffer.from(last, 'latin1'));
      return Buffer.concat(parts);
    });

  it('in windows of any size, taken any number at a time', async () => {
    /** A sink that keeps every line (no skip: a parser would pass over some). */
    const recorder = () => {
      const lines: string[] = [];
      const sink: LineSink = { line: (l) => lines.push(l), taggedLine: (l) => lines.push(l) };
      return { lines, sink };
    };
    await fc.assert(
      fc.asyncProperty(
        content,
        fc.record({
          first: fc.integer({ min: 1, max: 300 }),
          max: fc.integer({ min: 1, max: 3000 }),
          kept: fc.integer({ min: 0, max: 5000 }),
        }),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 50 }),
        async (bytes, windows, counts, headCount) => {
          const all: string[] = [];
          const split = new LineSplitter((l) => all.push(l), MAX_LINE);
          split.push(bytes);
          split.end();

          const fh = await open(file(bytes), 'r');
          try {
            const log = new FileLog(fh, bytes.length, {
              ...windows,
              max: Math.max(windows.first, windows.max),
            });
            let want = 0;
            let tail: string[] = [];
            for (let i = 0; !log.atStart || i === 0; i++) {
              want += counts[i % counts.length] as number;
              await log.extend(want);
              const read = recorder();
              expect(await log.parseTail(read.sink)).toBe(read.lines.length);
              tail = read.lines;
              expect(tail.length === want || log.atStart).toBe(true);
              expect(tail).toEqual(all.slice(all.length - tail.length));
              if (i === 1) {
                const head = recorder();
                expect(await log.parseHead(head.sink, headCount)).toBe(head.lines.length);
                expect(head.lines).toEqual(all.slice(0, Math.min(headCount, all.length - tail.length)));
              }
            }
            expect(tail).toEqual(all);
          } finally {
            await fh.close();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
