/**
 * Writes a regrtest-shaped log of about `mib` MiB: a parallel run's progress lines, verbose
 * unittest output, warnings, a traceback now and then, and a real summary at the end (which the
 * parser must find after all that). `longLineBytes` > 0 adds a line that long every so often;
 * `summary: false` leaves the summary out (a run cut short: the reader must stream it all).
 */
import { createWriteStream } from 'node:fs';

export async function generateLog(
  path: string,
  mib: number,
  opts: { longLineBytes?: number; summary?: boolean } = {},
): Promise<number> {
  const out = createWriteStream(path);
  const target = mib * 1024 * 1024;
  let written = 0;
  let n = 0;
  const write = (text: string) =>
    new Promise<void>((resolve) => {
      written += Buffer.byteLength(text);
      if (out.write(text)) resolve();
      else out.once('drain', resolve);
    });
  await write(
    'Using random seed: 2319473\n0:00:00 load avg: 0.52 Run 478 tests in parallel using 8 worker processes\n',
  );
  const long = opts.longLineBytes ? `${'x'.repeat(opts.longLineBytes)}\n` : '';
  while (written < target) {
    n++;
    let block = '';
    for (let i = 0; i < 20; i++) {
      const t = `test_module_${(n * 20 + i) % 997}`;
      block += `0:${String(n % 60).padStart(2, '0')}:00 load avg: 1.${i % 10}0 [${n % 478}/478] ${t} passed\n`;
      block += `${t.replace('test_', 'test_case_')} (test.${t}.SomeTests.${t.replace('test_', 'test_case_')}) ... ok\n`;
    }
    block +=
      'Warning -- Unraisable exception\ntest test_socket failed -- Traceback (most recent call last):\n';
    block += '  File "/home/buildbot/cpython/Lib/test/test_socket.py", line 7021, in testConnect\n';
    block +=
      '    sock.connect(("localhost", port))\nConnectionRefusedError: [Errno 111] Connection refused\n';
    if (long && n % 50 === 0) block += long;
    await write(block);
  }
  if (opts.summary !== false)
    await write(
      '\n== Tests result: FAILURE then SUCCESS ==\n\n477 tests OK.\n\n1 re-run test:\n    test_socket\n\n' +
        'Total duration: 38 min 44 sec\nTotal tests: run=42,576 failures=1 skipped=1,689\n' +
        'Total test files: run=478/478 rerun=1\nResult: FAILURE then SUCCESS\n',
    );
  await new Promise<void>((resolve) => out.end(resolve));
  return written;
}
