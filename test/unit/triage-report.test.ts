import { describe, expect, it } from 'vitest';
import { parseRegrtest, qualifiedCases } from '../../src/logs/regrtest.js';
import { reproCommands } from '../../src/logs/repro.js';
import {
  type FileReportInput,
  issueTitle,
  MAX_URL_BYTES,
  newIssueUrl,
  versionLabel,
} from '../../src/triage/report.js';
import { fixtureText } from '../support/regrtest-logs.js';

const BUILD = 'https://buildbot.python.org/all/#/builders/123/builds/1234';

/** A report from a genuine regrtest log (the lab's hard failure, Python 3.13, parallel). */
function input(extra: Partial<FileReportInput> = {}): FileReportInput {
  const a = parseRegrtest(fixtureText('logs/3.13.0/hard-par.log'));
  return {
    repo: 'python/cpython',
    webUrl: 'https://github.com/',
    builder: 'PPC64LE Fedora Stable 3.14',
    buildNumber: 1234,
    buildUrl: BUILD,
    logUrl: 'https://buildbot.python.org/all/api/v2/logs/99/raw',
    worker: 'cstratak-fedora-ppc64le',
    branch: '3.14',
    revision: '3f2a9c1e0b7d4e5f',
    tests: a.failed.map((t) => ({ test: t, cases: qualifiedCases(a, t) })),
    flaky: false,
    traceback: a.tracebacks[a.failed[0] as string],
    seed: a.seed,
    repro: reproCommands(a, a.failed),
    reproCommand: '!repro PPC64LE Fedora Stable 3.14 1234',
    labels: ['tests', 'type-bug', '3.14'],
    ...extra,
  };
}

function parse(url: string) {
  const u = new URL(url);
  return {
    where: `${u.origin}${u.pathname}`,
    title: u.searchParams.get('title'),
    body: u.searchParams.get('body') ?? '',
    labels: u.searchParams.get('labels'),
  };
}

describe('the new-issue URL', () => {
  it('parses back into the title, the body and the labels a triager files', () => {
    const url = newIssueUrl(input());
    const got = parse(url);
    expect(got.where).toBe('https://github.com/python/cpython/issues/new');
    expect(got.title).toBe(
      'test_hard: HardTests.test_error, HardTests.test_handshake fails on PPC64LE Fedora Stable 3.14',
    );
    expect(got.labels).toBe('tests,type-bug,3.14');
    expect(got.body).toContain(`Build: ${BUILD}`);
    expect(got.body).toContain('Builder: PPC64LE Fedora Stable 3.14 (worker: cstratak-fedora-ppc64le)');
    expect(got.body).toContain('Built: branch 3.14, revision 3f2a9c1e0b7d4e5f');
    expect(got.body).toContain('- `test_hard`: `HardTests.test_error`, `HardTests.test_handshake`');
    expect(got.body).toContain('Random seed: 4321');
    expect(got.body).toContain('./python -m test --randseed 4321 -v test_hard');
    expect(got.body).toContain('!repro PPC64LE Fedora Stable 3.14 1234');
    // The traceback's exception line is in the body, inside a code block.
    expect(got.body).toMatch(
      /```\n(.*\n)*(ValueError: bad value in error test|AssertionError: handshake failed)/,
    );
    expect(Buffer.byteLength(url)).toBeLessThanOrEqual(MAX_URL_BYTES);
  });

  it('stays under 8 KB with a 6 MiB traceback line, cutting the traceback but keeping the link', () => {
    const huge = `AssertionError: ${'x'.repeat(6 * 1024 * 1024)}`;
    const many = Array.from(
      { length: 2000 },
      (_, i) => `  File "/tmp/x.py", line ${i}, in f${'y'.repeat(200)}`,
    );
    const url = newIssueUrl(input({ traceback: [...many, huge] }));
    expect(Buffer.byteLength(url)).toBeLessThanOrEqual(MAX_URL_BYTES);
    const got = parse(url);
    expect(got.body).toContain(`Build: ${BUILD}`);
    expect(got.body).toContain('AssertionError: xxx');
    expect(got.body).toContain('…');
    expect(got.title).toContain('fails on PPC64LE');
  });

  it('fits a smaller bound (Discord takes 2,000 characters) by cutting the traceback from the top', () => {
    const frames = Array.from(
      { length: 80 },
      (_, i) => `  File "/home/buildbot/Lib/test/test_x.py", line ${i}, in helper_${i}`,
    );
    const url = newIssueUrl(input({ traceback: [...frames, 'AssertionError: the end'] }), undefined, 2000);
    expect(url.length).toBeLessThanOrEqual(2000);
    const body = parse(url).body;
    expect(body).toContain(`Build: ${BUILD}`);
    expect(body).toContain('AssertionError: the end');
    expect(body).not.toContain('helper_0\n');
  });

  it('stays under 8 KB with hundreds of failing tests and a huge builder name', () => {
    const tests = Array.from({ length: 500 }, (_, i) => ({
      test: `test_mod${i}`,
      cases: Array(60).fill(`test_case_${'z'.repeat(100)}`),
    }));
    const url = newIssueUrl(input({ tests, builder: 'B'.repeat(100_000) }));
    expect(Buffer.byteLength(url)).toBeLessThanOrEqual(MAX_URL_BYTES);
    expect(parse(url).body).toContain(`Build: ${BUILD}`);
  });

  it("keeps a traceback's backticks from closing its code block", () => {
    const body = parse(newIssueUrl(input({ traceback: ['AssertionError: ```not closed``` here'] }))).body;
    expect(body).toContain('````\nAssertionError: ```not closed``` here\n````');
  });

  it('names the flaky case and the class when the case has one', () => {
    expect(
      issueTitle({
        tests: [{ test: 'test_posix', cases: ['TestPosixSpawn.test_x'] }],
        builder: 'PPC64 Fedora 3.x',
        flaky: false,
      }),
    ).toBe('test_posix: TestPosixSpawn.test_x fails on PPC64 Fedora 3.x');
    expect(
      issueTitle({ tests: [{ test: 'test_ssl', cases: [] }], builder: 'AMD64 Windows11 3.x', flaky: true }),
    ).toBe('test_ssl fails randomly on AMD64 Windows11 3.x');
  });

  it('labels a version branch, and 3.x only when told which version it is', () => {
    expect(versionLabel('3.14', {})).toBe('3.14');
    expect(versionLabel('3.x', {})).toBeUndefined();
    expect(versionLabel('3.x', { '3.x': '3.15' })).toBe('3.15');
    expect(versionLabel('PR', {})).toBeUndefined();
  });
});
