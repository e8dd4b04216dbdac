/**
 * The grouping decision of issue 17 item 3 (src/triage/grouping.ts): a red build joins the open
 * group it shares a failure reason with, or opens its own. Reasons come from genuine regrtest logs
 * (test/fixtures/triage: one failure on two workers, and another assertion of the same test).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRegrtest } from '../../src/logs/regrtest.js';
import { groupDecision, type OpenGroup } from '../../src/triage/grouping.js';
import { reasonKeys } from '../../src/triage/targets.js';

const WORKERS = ['cstratak-fedora-ppc64le', 'edelsohn-debian-ppc64'];
const keysOf = (name: string) =>
  reasonKeys(
    parseRegrtest(readFileSync(new URL(`../fixtures/triage/${name}`, import.meta.url), 'utf8')),
    WORKERS,
  );
const same1 = keysOf('same-1.log');
const same2 = keysOf('same-2.log');
const other = keysOf('other.log');
const hard = reasonKeys(
  parseRegrtest(
    readFileSync(new URL('../fixtures/regrtest/logs/3.13.0/hard-par.log', import.meta.url), 'utf8'),
  ),
);

const MIN = 60_000;
const WINDOW = 10 * MIN;
const T = 1_700_000_000_000;
const group = (id: string, keys: readonly string[], openedAt: number): OpenGroup => ({
  id,
  keys,
  openedAt,
  builders: [`builder of ${id}`],
});

describe('groupDecision', () => {
  it('reads the inputs it is given: one reason shared by two workers, others apart', () => {
    expect(same1).toHaveLength(1);
    expect(same2).toEqual(same1);
    expect(other).not.toEqual(same1);
    expect(hard.length).toBeGreaterThan(0);
  });

  it('the same failure on a second worker joins the group of the first', () => {
    expect(
      groupDecision(
        { builder: 'PPC64 Debian 3.14', keys: same2, completedAt: T + MIN },
        [group('g1', same1, T)],
        WINDOW,
      ),
    ).toEqual({
      kind: 'join',
      group: 'g1',
      shared: same2,
    });
  });

  it('another assertion of the same test is another failure: a group of its own', () => {
    expect(
      groupDecision(
        { builder: 'AMD64 Fedora', keys: other, completedAt: T + MIN },
        [group('g1', same1, T)],
        WINDOW,
      ),
    ).toEqual({
      kind: 'new',
    });
  });

  it('a build that failed outside its tests (no reasons) is never grouped', () => {
    expect(
      groupDecision(
        { builder: 'x', keys: [], completedAt: T },
        [group('g1', same1, T), group('g2', [], T)],
        WINDOW,
      ),
    ).toEqual({
      kind: 'new',
    });
  });

  it('a group closes a window after its first build; a late-known build within it still joins', () => {
    const open = [group('g1', same1, T)];
    const at = (completedAt: number) =>
      groupDecision({ builder: 'b', keys: same2, completedAt }, open, WINDOW).kind;
    expect(at(T + WINDOW)).toBe('join');
    expect(at(T + WINDOW + 1)).toBe('new');
    expect(at(T - 5 * MIN)).toBe('join'); // finished before the group opened, learned of after
    expect(at(T - WINDOW - 1)).toBe('new');
  });

  it('joins the group it shares the most with; between equals the oldest, whatever the order given', () => {
    const both = [...same2, ...hard];
    const groups = [
      group('g-same', same1, T + 2 * MIN),
      group('g-hard', hard, T),
      group('g-both', [...same1, ...hard], T + 3 * MIN),
    ];
    const build = { builder: 'b', keys: both, completedAt: T + 4 * MIN };
    expect(groupDecision(build, groups, WINDOW)).toEqual({ kind: 'join', group: 'g-both', shared: both });
    const equals = [group('g-late', same1, T + 2 * MIN), group('g-early', same1, T + MIN)];
    const one = { builder: 'b', keys: same2, completedAt: T + 4 * MIN };
    expect(groupDecision(one, equals, WINDOW)).toEqual({ kind: 'join', group: 'g-early', shared: same2 });
    expect(groupDecision(one, [...equals].reverse(), WINDOW)).toEqual({
      kind: 'join',
      group: 'g-early',
      shared: same2,
    });
  });
});
