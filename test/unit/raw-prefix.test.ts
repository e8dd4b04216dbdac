import { describe, expect, it } from 'vitest';
import { isPrefixedRaw, RawPrefixStripper } from '../../src/buildbot/raw-prefix.js';

/** What comes out of the stripper for `text` pushed in chunks of `size` bytes. */
function strip(text: string, prefixed: boolean, size = Infinity): string {
  const out: Buffer[] = [];
  const s = new RawPrefixStripper((c) => out.push(Buffer.from(c)), prefixed);
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += Math.min(size, bytes.length)) s.push(bytes.subarray(i, i + size));
  s.end();
  return Buffer.concat(out).toString('utf8');
}

// Buildbot 4.3's prefix for the lab's builder, then the log's first lines (as /raw serves them).
const PREFIX = 'Builder: AMD64 Debian root 3.x\nBuild number: 12\nWorker name: w1\n';
const LOG =
  "/lab/regrtest_step.sh 'AMD64 Debian root 3.x'\n in dir /w/build (timeout 1200 secs)\nRun 3 tests sequentially\n";

describe('raw log prefix (Buildbot 4.x)', () => {
  it('tells 4.x downloads from 3.x ones by their file name', () => {
    expect(isPrefixedRaw('attachment; filename=AMD64 Debian root 3.x_build_12_step_test_log_stdio')).toBe(
      true,
    );
    expect(isPrefixedRaw('attachment; filename=stdio')).toBe(false);
    expect(isPrefixedRaw(null)).toBe(false);
  });

  it.each([1, 2, 7, 64, Infinity])('drops the prefix and nothing else, in chunks of %s bytes', (size) => {
    expect(strip(PREFIX + LOG, true, size)).toBe(LOG);
  });

  it('drops the lines Buildbot knew (a build without a worker has no Worker line)', () => {
    expect(strip('Builder: b\nBuild number: 3\n' + LOG, true, 5)).toBe(LOG);
  });

  it('without the 4.x file name, drops only the whole three-line prefix', () => {
    expect(strip(PREFIX + LOG, false, 3)).toBe(LOG);
    expect(strip('Builder: b\nBuild number: 3\n' + LOG, false)).toBe('Builder: b\nBuild number: 3\n' + LOG);
    expect(strip('Builder: b\n', false)).toBe('Builder: b\n');
  });

  it('passes a log that does not start with the prefix untouched', () => {
    expect(strip(LOG, true, 4)).toBe(LOG);
    expect(strip('Build number: x\n' + LOG, true)).toBe('Build number: x\n' + LOG);
    const long = 'x'.repeat(10_000) + '\n' + LOG;
    expect(strip(long, true, 1000)).toBe(long);
  });

  it('an empty log leaves nothing (4.x sends the prefix alone)', () => {
    expect(strip(PREFIX, true, 10)).toBe('');
    expect(strip('', true)).toBe('');
    expect(strip('no newline at all', true, 3)).toBe('no newline at all');
  });
});
