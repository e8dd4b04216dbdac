import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildDetails, type LogFacts } from '../../src/messages/announcement.js';
import { lineText } from '../../src/messages/message.js';
import type { Transition } from '../../src/state/fleet.js';

const red = {
  master: 'lab',
  buildid: 7,
  builderid: 3,
  number: 21,
  results: 2,
  stateString: 'failed test (failure)',
  startedAt: 1,
  completeAt: 2,
};
const t: Transition = {
  master: 'lab',
  event: 'failure',
  builder: {
    master: 'lab',
    builderid: 3,
    name: 'PPC64LE Fedora Stable 3.x',
    tags: ['3.x'],
    description: null,
    active: true,
  },
  build: red,
  previous: undefined,
  streak: undefined,
  sinceLastGood: [red],
  origin: 'stream',
};
const facts = (tracker: LogFacts['tracker']): LogFacts => ({
  failed: [
    { name: 'test_posix', flakyRecently: 0, known: [] },
    { name: 'test_ssl', flakyRecently: 0, known: ['gh-1'] },
  ],
  flaky: [],
  envChanged: [],
  partial: false,
  logUrl: undefined,
  flakyDays: 7,
  tracker,
});

describe('tracker suggestions in the details message', () => {
  it('lists the candidates apart from known issues, with the command that confirms the first', () => {
    const m = buildDetails({
      transition: t,
      tests: facts({
        tests: [
          {
            test: 'test_posix',
            suggestions: [
              'maybe gh-12345 "test_posix: TestPosixSpawn fails on PPC64 Fedora 3.x" (open, updated 3 d ago)',
              'maybe gh-42 "test_posix: x" (closed, updated 400 d ago)',
            ],
            firstIssue: 'gh-12345',
          },
        ],
      }),
      changes: [],
      changesKnown: true,
      buildUrl: 'http://master.invalid/#/builders/3/builds/21',
      showMaster: false,
    });
    const lines = m.lines.map(lineText);
    expect(lines).toContain('Failed: test_posix, test_ssl (known: gh-1)');
    expect(lines).toContain(
      'test_posix: maybe gh-12345 "test_posix: TestPosixSpawn fails on PPC64 Fedora 3.x" (open, updated 3 d ago) — confirm: !known test_posix gh-12345',
    );
    expect(lines).toContain('  maybe gh-42 "test_posix: x" (closed, updated 400 d ago)');
  });

  it('offers an action per suggestion, the command !known runs; none without suggestions', () => {
    const input = (tracker: LogFacts['tracker']) => ({
      transition: t,
      tests: facts(tracker),
      changes: [],
      changesKnown: true,
      buildUrl: 'http://master.invalid/#/builders/3/builds/21',
      showMaster: false,
    });
    const one = buildDetails(
      input({
        tests: [
          {
            test: 'test_posix',
            suggestions: ['maybe gh-12345 "a" (open)', 'maybe gh-42 "b" (closed)'],
            firstIssue: 'gh-12345',
            issues: ['gh-12345', 'gh-42'],
          },
        ],
      }),
    );
    expect(one.actions).toEqual([
      { label: "It's gh-12345", command: 'known test_posix gh-12345' },
      { label: "It's gh-42", command: 'known test_posix gh-42' },
    ]);
    // Two tests with suggestions: each button says which test it is about.
    const two = buildDetails(
      input({
        tests: [
          { test: 'test_posix', suggestions: ['maybe gh-1 "a"'], firstIssue: 'gh-1', issues: ['gh-1'] },
          { test: 'test_os', suggestions: ['maybe gh-2 "b"'], firstIssue: 'gh-2', issues: ['gh-2'] },
        ],
      }),
    );
    expect(two.actions).toEqual([
      { label: "test_posix: it's gh-1", command: 'known test_posix gh-1' },
      { label: "test_os: it's gh-2", command: 'known test_os gh-2' },
    ]);
    const none = buildDetails(
      input({ tests: [{ test: 'test_posix', suggestions: [], firstIssue: undefined, issues: [] }] }),
    );
    expect(none).not.toHaveProperty('actions');
  });

  it('links a new issue when none matches', () => {
    const url = 'https://github.com/python/cpython/issues/new?title=x';
    const m = buildDetails({
      transition: t,
      tests: facts({
        tests: [{ test: 'test_posix', suggestions: [], firstIssue: undefined }],
        file: { url, command: '!file PPC64LE Fedora Stable 3.x 21' },
      }),
      changes: [],
      changesKnown: true,
      buildUrl: 'http://master.invalid/#/builders/3/builds/21',
      showMaster: false,
    });
    const line = m.lines.find((l) => lineText(l).startsWith('test_posix: no existing issue'));
    expect(line && lineText(line)).toBe(
      'test_posix: no existing issue — file one (full report: !file PPC64LE Fedora Stable 3.x 21)',
    );
    expect(line?.some((s) => typeof s !== 'string' && s.href === url)).toBe(true);
  });
});

describe('the culprit hint in the details message', () => {
  it('names the likely culprit and the other builders after the suggestions', () => {
    const m = buildDetails({
      transition: t,
      tests: {
        ...facts(undefined),
        culprit: [
          'likely culprit: abc1234567 Jane Doe: gh-12345: Fix the frobnicator',
          '(the same failure on PPC64 Debian 3.x)',
        ],
      },
      changes: [],
      changesKnown: true,
      buildUrl: 'http://master.invalid/#/builders/3/builds/21',
      showMaster: false,
    });
    const lines = m.lines.map(lineText);
    const at = lines.indexOf('likely culprit: abc1234567 Jane Doe: gh-12345: Fix the frobnicator');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('(the same failure on PPC64 Debian 3.x)');
  });
});

describe('the tracker config', () => {
  const base = 'masters: [{ name: lab, url: "http://127.0.0.1:8010/" }]\n';

  it('takes the token from the environment as a secret, with GitHub defaults', () => {
    const c = parseConfig(`${base}tracker:\n  token: "\${GH_TOKEN}"\n`, 'test', { GH_TOKEN: 'ghp_secret' });
    expect(c.tracker?.token).toBe('ghp_secret');
    expect(c.secrets).toContain('ghp_secret');
    expect(c.tracker).toMatchObject({
      repo: 'python/cpython',
      api_url: 'https://api.github.com/',
      search: true,
      wait: 3000,
      labels: ['tests', 'type-bug'],
    });
  });

  it('is off without the section, and refuses a repository that is not owner/name', () => {
    expect(parseConfig(base, 'test', {}).tracker).toBeUndefined();
    expect(() => parseConfig(`${base}tracker: { repo: "cpython" }\n`, 'test', {})).toThrow(
      /tracker\.repo.*owner\/name/s,
    );
  });
});
