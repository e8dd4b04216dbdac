import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRegrtest } from '../../src/logs/regrtest.js';
import { errorLine, failureReason, normaliseErrorLine } from '../../src/triage/reason.js';
import { fixtureText } from '../support/regrtest-logs.js';

/** Genuine regrtest logs (test/fixtures/triage/generate.sh): one failure, run as two workers, and another. */
function reasonOf(log: string, worker: string) {
  const a = parseRegrtest(readFileSync(new URL(`../fixtures/triage/${log}`, import.meta.url), 'utf8'));
  const test = a.failed[0] as string;
  return failureReason(test, a.cases[test] ?? [], a.tracebacks[test] ?? [], [worker]);
}

describe('failure reasons', () => {
  it('gives one reason for the same failure on two workers with other temp paths, PIDs and addresses', () => {
    const one = reasonOf('same-1.log', 'cstratak-fedora-ppc64le');
    const two = reasonOf('same-2.log', 'edelsohn-debian-ppc64');
    // The raw lines differ: the masking is what makes them one.
    expect(one.error).not.toBe(two.error);
    expect(one.error).toContain('/tmp/test_python_');
    expect(one.key).toBe(two.key);
    expect(one.test).toBe('test_spawnish.test_spawn_file_actions');
    expect(one.normalised).toBe(
      'AssertionError: posix_spawn of <tmp> failed in child <n>: <object object at <hex>> on <worker>',
    );
  });

  it('gives two reasons for two different assertion messages of the same test', () => {
    const one = reasonOf('same-1.log', 'cstratak-fedora-ppc64le');
    const other = reasonOf('other.log', 'cstratak-fedora-ppc64le');
    expect(other.test).toBe(one.test);
    expect(other.key).not.toBe(one.key);
  });

  it('gives one reason for the same failure under Python 3.12 and 3.13, parallel and sequential', () => {
    const reasons = ['logs/3.12.1/hard-par.log', 'logs/3.13.0/hard-par.log', 'logs/3.13.0/hard-seq.log'].map(
      (f) => {
        const a = parseRegrtest(fixtureText(f));
        return failureReason('test_hard', a.cases.test_hard ?? [], a.tracebacks.test_hard ?? []);
      },
    );
    expect(new Set(reasons.map((r) => r.key)).size).toBe(1);
    expect(reasons[0]?.error).toMatch(/^(AssertionError|ValueError): /);
  });

  it('masks Windows and macOS temporary paths, bare hashes and ports', () => {
    expect(
      normaliseErrorLine(
        "PermissionError: [WinError 5] Access is denied: 'C:\\Users\\Buildbot\\AppData\\Local\\Temp\\tmpk2j3\\x'",
      ),
    ).toBe("PermissionError: [WinError <n>] Access is denied: '<tmp>'");
    expect(normaliseErrorLine('OSError: /var/folders/x1/abc/T/tmp9 at 127.0.0.1:51234 id 3f2a9c1e0b')).toBe(
      'OSError: <tmp> at <n>.<n>:<n> id <hex>',
    );
    // A word is not a hash.
    expect(normaliseErrorLine('ValueError: deadbeefcafe')).toBe('ValueError: deadbeefcafe');
  });

  it('finds the exception line under carets and context, or the last meaningful line', () => {
    expect(
      errorLine([
        'Traceback (most recent call last):',
        '  File "x.py", line 1, in f',
        '    ~~~^^^',
        'KeyError: 3',
        '',
      ]),
    ).toBe('KeyError: 3');
    expect(
      errorLine([
        'Fatal Python error: Segmentation fault',
        '',
        'Current thread 0x1 (most recent call first):',
        '  File "x.py", line 1',
      ]),
    ).toBe('Current thread 0x1 (most recent call first):');
    expect(errorLine([])).toBeUndefined();
  });

  it('stays fast and bounded on a 6 MiB line without spaces', () => {
    const line = `AssertionError: ${'/tmp/a'.repeat(1_000_000)}`;
    const r = failureReason('test_x', [], ['Traceback (most recent call last):', line]);
    expect(r.normalised.length).toBeLessThanOrEqual(500);
  });
});
