import { describe, expect, it } from 'vitest';
import { foldRecoveries, type RecoveryFoldInput } from '../../src/notify/recovery-fold.js';
import type { GroupMember } from '../../src/store/groups.js';

const build = (builder: string, number: number): GroupMember => ({
  master: 'lab',
  buildid: builder.length * 1000 + number,
  builder,
  number,
  branch: '3.x',
  url: `http://master.invalid/${builder}/${number}`,
});
const HOUR = 3_600_000;
/** Three builders red for one failure (A twice: red again within the window). */
const members = [build('A', 10), build('B', 20), build('C', 30), build('A', 12)];
const input = (over: Partial<RecoveryFoldInput>): RecoveryFoldInput => ({
  members,
  named: [],
  gathered: [],
  firstAt: 1_000_000,
  holdMs: HOUR,
  now: 1_000_000,
  force: false,
  ...over,
});

describe('when the recoveries of a group are named', () => {
  it.each([
    ['some still red, within the hold: waits until the hold ends', input({ gathered: [build('B', 21)] })],
    [
      "a recovery older than the builder's last red build does not count",
      input({ gathered: [build('A', 11), build('B', 21), build('C', 31)] }),
    ],
  ])('%s', (_, given) => {
    expect(foldRecoveries(given)).toEqual({ kind: 'wait', until: 1_000_000 + HOUR });
  });

  it('every builder green again: at once, all of them named once, the total counted by builder', () => {
    expect(
      foldRecoveries(
        input({ named: [build('C', 31)], gathered: [build('B', 21), build('A', 13), build('B', 22)] }),
      ),
    ).toEqual({
      kind: 'send',
      builders: ['B', 'A'],
      stillRed: [],
      total: 3,
      recovered: [build('C', 31), build('B', 21), build('A', 13), build('B', 22)],
    });
  });

  it('the hold over: those waiting are named, with who is still red', () => {
    const fold = foldRecoveries(input({ gathered: [build('B', 21)], now: 1_000_000 + HOUR }));
    expect(fold).toMatchObject({ kind: 'send', builders: ['B'], stillRed: ['A', 'C'], total: 3 });
  });

  it('forced (a shutdown, or the builder red again): named at once', () => {
    const fold = foldRecoveries(input({ gathered: [build('C', 31)], force: true }));
    expect(fold).toMatchObject({ kind: 'send', builders: ['C'], stillRed: ['A', 'B'] });
  });
});
