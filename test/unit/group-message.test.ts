import { describe, expect, it } from 'vitest';
import { buildAlsoOn, buildGroupAnnouncement, buildGroupRecovered } from '../../src/messages/group.js';
import { lineText } from '../../src/messages/message.js';
import type { GroupMember } from '../../src/store/groups.js';

const member = (i: number, branch = '3.x'): GroupMember => ({
  master: 'lab',
  buildid: 100 + i,
  builder: `Builder ${i} ${branch}`,
  number: i,
  branch,
  url: `http://master.invalid/#/builders/${i}/builds/${i}`,
});
const reason = {
  key: 'test_ssl.test_foo\nAssertionError: <n> != <n>',
  test: 'test_ssl.test_foo',
  error: 'AssertionError: 1 != 2',
};

describe('a group message', () => {
  it('names the failure once, the builders one a line, the branches and since when', () => {
    const m = buildGroupAnnouncement({
      reason,
      members: [member(1), member(2, '3.14'), member(3)],
      revision: 'abcdef1234567890',
    });
    expect(lineText(m.title ?? [])).toBe(
      'test_ssl.test_foo failed on 3 builders (3.x, 3.14): AssertionError: 1 != 2 — since abcdef1234',
    );
    expect(m.lines.map(lineText)).toEqual([
      'Builder 1 3.x #1 http://master.invalid/#/builders/1/builds/1',
      'Builder 2 3.14 #2 http://master.invalid/#/builders/2/builds/2',
      'Builder 3 3.x #3 http://master.invalid/#/builders/3/builds/3',
    ]);
    expect(m.tone).toBe('failure');
  });

  it('says how a test crashed or timed out, as single announcements do', () => {
    const m = buildGroupAnnouncement({
      reason: { ...reason, how: 'timed out after 15 min' },
      members: [member(1), member(2)],
      revision: undefined,
    });
    expect(lineText(m.title ?? [])).toBe(
      'test_ssl.test_foo (timed out after 15 min) failed on 2 builders (3.x): AssertionError: 1 != 2',
    );
  });

  it('stays bounded: ten builders listed with links, the rest named on one line; long and hostile text cut and cleaned', () => {
    const m = buildGroupAnnouncement({
      reason: { ...reason, error: `ValueError: ${'x'.repeat(10_000)}\r\nPRIVMSG #evil :hi` },
      members: Array.from({ length: 25 }, (_, i) => member(i + 1)),
      revision: 'abc\r\ndef',
      master: 'lab',
    });
    const title = lineText(m.title ?? []);
    expect(title.length).toBeLessThan(300);
    expect(title).not.toMatch(/[\r\n]/);
    expect(title.startsWith('[lab] test_ssl.test_foo failed on 25 builders')).toBe(true);
    expect(m.lines).toHaveLength(11);
    expect(lineText(m.lines[10] ?? [])).toBe(
      `… and 15 more: ${Array.from({ length: 15 }, (_, i) => `${member(i + 11).builder} #${member(i + 11).number}`).join(', ')}`,
    );
  });
});

describe('builders of a group green again', () => {
  it('are marked in the group message with the build that brought them back; one red again is not', () => {
    const back = (i: number, number: number): GroupMember => ({ ...member(i), buildid: 900 + i, number });
    const m = buildGroupAnnouncement({
      reason,
      // Builder 3 failed again (#5) after its green #4: red, whatever came before.
      members: [member(1), member(2), member(3), { ...member(3), buildid: 205, number: 5 }],
      recovered: [back(1, 2), back(3, 4)],
      revision: undefined,
    });
    expect(m.lines.map(lineText)).toEqual([
      'Builder 1 3.x #1 http://master.invalid/#/builders/1/builds/1 — green again #2',
      'Builder 2 3.x #2 http://master.invalid/#/builders/2/builds/2',
      'Builder 3 3.x #3 http://master.invalid/#/builders/3/builds/3',
      'Builder 3 3.x #5 http://master.invalid/#/builders/3/builds/3',
    ]);
  });

  it('are named in one line, with who is still red or that all are green', () => {
    expect(
      lineText(
        buildGroupRecovered(['Builder 1 3.x', 'Builder 2 3.x'], reason, ['Builder 3 3.x'], 3).title ?? [],
      ),
    ).toBe('recovered: Builder 1 3.x, Builder 2 3.x (test_ssl.test_foo); still red: Builder 3 3.x');
    expect(lineText(buildGroupRecovered(['Builder 3 3.x'], reason, [], 3).title ?? [])).toBe(
      'recovered: Builder 3 3.x (test_ssl.test_foo); all 3 builders green again',
    );
  });

  it('a recovery line stays one short, clean line however many builders it names', () => {
    const names = Array.from({ length: 30 }, (_, i) => `Builder ${i}\r\nPRIVMSG #x :${'y'.repeat(200)}`);
    const title = lineText(buildGroupRecovered(names, reason, names, 60).title ?? []);
    expect(title).not.toMatch(/[\r\n]/);
    expect(title.length).toBeLessThan(1300);
    expect(title).toMatch(/, … 22 more \(test_ssl\.test_foo\); still red: .*, … 22 more$/);
  });
});

describe('an also-on line', () => {
  it('names the builders that joined and the failure, in one short line', () => {
    const m = buildAlsoOn(['PPC64LE RHEL8 3.x', 'ARM64 macOS 3.x'], reason);
    expect(lineText(m.title ?? [])).toBe('also on: PPC64LE RHEL8 3.x, ARM64 macOS 3.x (test_ssl.test_foo)');
    expect(m.lines).toEqual([]);
  });

  it('is bounded however many builders are given', () => {
    const names = Array.from({ length: 30 }, (_, i) => `Builder ${i} ${'y'.repeat(200)}`);
    const title = lineText(buildAlsoOn(names, reason).title ?? []);
    expect(title).toMatch(/, … 22 more \(test_ssl\.test_foo\)$/);
    expect(title.length).toBeLessThan(8 * 62 + 100);
  });
});
