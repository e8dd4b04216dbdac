import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ForceScheduler } from '../../src/buildbot/control.js';
import { checkBranch, isRevision, resolveRepository } from '../../src/control/refs.js';
import { chooseScheduler, forceParams } from '../../src/control/service.js';

const BASE = 'https://github.com/';
const PATTERN = '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$';

describe('resolveRepository', () => {
  it('resolves a path inside the realm', () => {
    expect(resolveRepository('sandbox/myfixes', BASE, PATTERN)).toBe('https://github.com/sandbox/myfixes');
    expect(resolveRepository('python/cpython', 'https://hg.python.org/repos', PATTERN)).toBe(
      'https://hg.python.org/repos/python/cpython',
    );
  });

  it.each([
    ['..', /\.\. segments/],
    ['a/../../etc', /\.\. segments/],
    ['https://evil.example/x', /not a URL/],
    ['//evil.example/x', /not a URL/],
    ['file:///etc/passwd', /not a URL/],
    ['/etc/passwd', /absolute/],
    ['a//b', /empty segment/],
    ['sandbox/my fixes', /spaces or control/],
    ['sandbox/x\u0000', /spaces or control/],
    ['sandbox/myfixes;rm -rf /', /spaces or control/],
    ['sandbox/myfixes;rm', /not an allowed repository path/],
    ['x'.repeat(300), /too long/],
  ])('refuses %j', (path, why) => {
    expect(() => resolveRepository(path, BASE, PATTERN)).toThrow(why);
  });

  it('refuses any repository when the master has no base', () => {
    expect(() => resolveRepository('sandbox/x', undefined, PATTERN)).toThrow(/takes no repository/);
  });

  it('never leaves the base, whatever the path', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (path) => {
        try {
          expect(resolveRepository(path, BASE, PATTERN).startsWith(BASE)).toBe(true);
        } catch (err) {
          expect((err as Error).name).toBe('UsageError');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('checkBranch (git check-ref-format rules)', () => {
  it.each(['main', '3.14', 'feature/x-y_z', 'gh-1234-fix', 'v1.0'])('accepts %s', (b) =>
    expect(checkBranch(b)).toBe(b),
  );
  it.each([
    ['my branch', /space/],
    ['a~b', /'~'/],
    ['a^b', /'\^'/],
    ['a:b', /':'/],
    ['a?b', /'\?'/],
    ['a*b', /'\*'/],
    ['a[b', /'\['/],
    ['a\\b', /'\\'/],
    ['x..y', /'\.\.'/],
    ['a@{1}', /'@\{'/],
    ['@', /'@'/],
    ['a//b', /'\/\/'/],
    ['/a', /starts or ends/],
    ['a/', /starts or ends/],
    ['a.', /ends with '\.'/],
    ['.hidden', /starts with '\.'/],
    ['a/b.lock', /\.lock/],
    ['-rf', /starts with '-'/],
    ['', /empty/],
  ])('refuses %j', (b, why) => expect(() => checkBranch(b)).toThrow(why));

  it('tells revisions from branches', () => {
    expect(isRevision('3f2a9c1e0b')).toBe(true);
    expect(isRevision('main')).toBe(false);
  });
});

const schedulers: ForceScheduler[] = [
  {
    name: 'force',
    builder_names: ['A 3.x', 'B 3.x'],
    all_fields: [{ name: 'reason', fullName: 'reason', type: 'fixed', default: '' }],
  },
  {
    name: 'custom',
    builder_names: ['A custom', 'B custom'],
    all_fields: [
      {
        name: '',
        fullName: '',
        type: 'nested',
        fields: [
          {
            name: 'repository',
            fullName: 'repository',
            type: 'text',
            default: 'https://github.com/python/cpython',
          },
          { name: 'branch', fullName: 'branch', type: 'text', default: 'main' },
          { name: 'revision', fullName: 'revision', type: 'fixed', default: '' },
        ],
      },
      { name: 'reason', fullName: 'reason', type: 'text', default: 'force build' },
    ],
  },
];

describe('force scheduler and parameters', () => {
  it('picks the scheduler that covers the builders and takes a repository when one is given', () => {
    expect(chooseScheduler(schedulers, ['A custom', 'B custom'], true).name).toBe('custom');
    expect(chooseScheduler(schedulers, ['A 3.x'], false).name).toBe('force');
    expect(() => chooseScheduler(schedulers, ['A 3.x'], true)).toThrow(/takes no repository/);
    expect(() => chooseScheduler(schedulers, ['A 3.x', 'A custom'], false)).toThrow(/No force scheduler/);
  });

  it('fills only the parameters the scheduler takes', () => {
    const custom = schedulers[1] as ForceScheduler;
    expect(forceParams(custom, ['A custom'], 'https://github.com/sandbox/x', 'mybranch', 'why')).toEqual({
      builderNames: ['A custom'],
      repository: 'https://github.com/sandbox/x',
      branch: 'mybranch',
      reason: 'why',
    });
    // A fixed reason is the master's to set.
    expect(forceParams(schedulers[0] as ForceScheduler, ['A 3.x'], undefined, undefined, 'why')).toEqual({
      builderNames: ['A 3.x'],
    });
  });

  it('says which required parameters it cannot fill', () => {
    const needy: ForceScheduler = {
      name: 'needy',
      builder_names: ['A'],
      all_fields: [{ name: 'ticket', fullName: 'ticket', type: 'text', required: true, default: '' }],
    };
    expect(() => forceParams(needy, ['A'], undefined, undefined, 'r')).toThrow(/needs ticket/);
  });
});
