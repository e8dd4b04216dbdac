import { describe, expect, it } from 'vitest';
import { buildAlsoOn, buildGroupAnnouncement } from '../../src/messages/group.js';
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

  it('stays bounded: ten builders listed, the rest counted; long and hostile text cut and cleaned', () => {
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
    expect(lineText(m.lines[10] ?? [])).toBe('… and 15 more');
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
