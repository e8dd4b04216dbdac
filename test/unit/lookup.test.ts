import { describe, expect, it } from 'vitest';
import { resolveBuilders } from '../../src/state/lookup.js';

/** CPython's builder names and tags (buildbot.python.org), on two masters. */
const FLEET = [
  { master: 'python', name: 'AMD64 Debian root 3.x', tags: ['3.x', 'stable'] },
  { master: 'python', name: 'AMD64 Debian root 3.13', tags: ['3.13', 'stable'] },
  { master: 'python', name: 'AMD64 Fedora Stable Refleaks custom', tags: ['custom'] },
  { master: 'lab', name: 'AMD64 Debian root 3.x', tags: ['3.x'] },
];
const names = (r: { builders: typeof FLEET }) => r.builders.map((b) => `${b.master}:${b.name}`);

describe('the one builder resolver', () => {
  it('prefers an exact name in any case, on every master that has it, or on the one named', () => {
    for (const also of ['contains', 'group', 'none'] as const) {
      expect(names(resolveBuilders(FLEET, 'amd64 debian root 3.x', also))).toEqual([
        'python:AMD64 Debian root 3.x',
        'lab:AMD64 Debian root 3.x',
      ]);
      expect(resolveBuilders(FLEET, 'LAB:AMD64 Debian root 3.x', also)).toMatchObject({ exact: true });
      expect(names(resolveBuilders(FLEET, 'lab: AMD64 Debian root 3.x', also))).toEqual([
        'lab:AMD64 Debian root 3.x',
      ]);
    }
  });

  it('otherwise takes what the name contains, a group (tag or name suffix), or nothing, as asked', () => {
    expect(names(resolveBuilders(FLEET, 'debian root 3.1', 'contains'))).toEqual([
      'python:AMD64 Debian root 3.13',
    ]);
    expect(names(resolveBuilders(FLEET, 'python:stable', 'group'))).toEqual([
      'python:AMD64 Debian root 3.x',
      'python:AMD64 Debian root 3.13',
    ]);
    expect(names(resolveBuilders(FLEET, 'custom', 'group'))).toEqual([
      'python:AMD64 Fedora Stable Refleaks custom',
    ]);
    // A group is one word: text with spaces that is no exact name names nothing.
    expect(names(resolveBuilders(FLEET, 'Refleaks custom', 'group'))).toEqual([]);
    expect(resolveBuilders(FLEET, 'debian root 3.1', 'none')).toEqual({ builders: [], exact: false });
  });
});
