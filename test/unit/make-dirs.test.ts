import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirs } from '../../src/make-dirs.js';

const root = mkdtempSync(join(tmpdir(), 'bbwatch-dirs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('makeDirs', () => {
  it('makes every missing directory of a path, and accepts one that exists', () => {
    const deep = join(root, 'a', 'b', 'c');
    makeDirs(deep);
    expect(existsSync(deep)).toBe(true);
    makeDirs(deep);
    expect(existsSync(deep)).toBe(true);
  });

  it('fails at once with the directory it cannot make, under /proc too (where Node loops forever)', () => {
    expect(() => makeDirs('/proc/bbwatch-nope/state')).toThrow(/ENOENT.*'\/proc\/bbwatch-nope'/);
  });
});
