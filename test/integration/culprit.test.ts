/**
 * The culprit hint end to end, on a real master (3.7 and 4.3): changes reach the master through its
 * change hook as a push brings them, and each one builds both 3.x builders at once. A green change,
 * then one that breaks the same test on both: the console shows the failure once (a headline and an
 * also-on line, under which the change is named as the likely culprit), and `!why` names it too;
 * with grouping off, the details message of the second builder names it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, labConfig, startBot, writeConfig } from '../support/bot.js';
import { LAB_VERSIONS, type Lab, type LabChange, startLab } from '../support/lab.js';

const BUILDERS = ['AMD64 Debian root 3.x', 'PPC64LE RHEL8 3.x'] as const;
const JANE = 'Jane Doe <jane@example.org>';
const GUIDO = 'Guido van Rossum <guido@example.org>';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(LAB_VERSIONS)('Buildbot %s', (version) => {
  let lab: Lab;
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    lab = await startLab({
      version,
      branches: ['3.x'],
      platforms: ['AMD64 Debian root:stable,tier-1', 'PPC64LE RHEL8:unstable,tier-3'],
    });
  });
  afterAll(async () => {
    for (const bot of bots) await bot.stop();
    await lab?.close();
  });

  /** Pushes a change to main and waits for its builds on both 3.x builders; their results. */
  async function push(change: Omit<LabChange, 'branch'>): Promise<Record<string, number | null>> {
    const { builds } = await lab.pushChange({ ...change, branch: 'main' });
    expect(Object.keys(builds).sort()).toEqual([...BUILDERS].sort());
    const out: Record<string, number | null> = {};
    for (const [name, b] of Object.entries(builds))
      out[name] = (await lab.waitForBuild(name, b.number)).results;
    return out;
  }

  /** The bot with details as follow-ups (the default) and the given group window. */
  async function bot(groupWindow: string): Promise<BotProcess> {
    const config = labConfig(lab.url, 'ws')
      .replace('group_window: 0', `group_window: ${groupWindow}`)
      .replace(/ {2}details: inline.*\n/, '');
    const started = await startBot(writeConfig(config));
    bots.push(started);
    return started;
  }

  it('two builders turned red by one change: one headline, one also-on line naming the change as the likely culprit, and !why names it too', async () => {
    const good = '5b0d2f1e8c3a4d6b7e9f0a1b2c3d4e5f6a7b8c9d';
    const bad = '3f2a9c1e0b7d8e6f5a4b3c2d1e0f9a8b7c6d5e4f';
    expect(
      await push({ revision: good, author: GUIDO, comments: 'gh-11111: Tidy the docs', scenario: 'pass' }),
    ).toEqual(Object.fromEntries(BUILDERS.map((b) => [b, 0])));
    const watching = await bot('30m');
    expect(
      await push({
        revision: bad,
        author: JANE,
        comments: 'gh-12345: Fix the frobnicator\n\nThe frobnicator frobs again.',
        scenario: 'fail',
      }),
    ).toEqual(Object.fromEntries(BUILDERS.map((b) => [b, 2])));

    const also = await watching.waitForLine(/^\d\d:\d\d:\d\d also on: /);
    const heads = watching.matching(/^\d\d:\d\d:\d\d .* turned red: failed test \(failure\)$/);
    expect(heads).toHaveLength(1);
    const first = BUILDERS.find((b) => heads[0]?.includes(` ${b} #`));
    const second = BUILDERS.find((b) => b !== first);
    expect(first).toBeDefined();
    expect(also.text.slice(9)).toBe(`also on: ${second} (test_ssl_lab.test_handshake)`);
    // The second builder's blamelist shares one change with the first's: named under that line,
    // or (a master slower than the second the line waits for it) on a line of its own after it.
    const culprit = `  likely culprit: ${bad.slice(0, 10)} Jane Doe: gh-12345: Fix the frobnicator`;
    const where = await watching.until('the likely culprit', () => {
      if (watching.stdout[watching.stdout.indexOf(also) + 1]?.text === culprit) return 'under';
      const own = watching.matching(
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d likely culprit of test_ssl_lab\\.test_handshake: ${bad.slice(0, 10)} Jane Doe: gh-12345: Fix the frobnicator$`,
        ),
      );
      return own.length === 1 ? 'own' : undefined;
    });
    expect(['under', 'own']).toContain(where);
    // The first builder's details name the change among its changes since green.
    const details = await watching.waitForLine(
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${escape(first ?? '')} #\\d+: 1 failed test$`),
    );
    const after = watching.stdout.slice(watching.stdout.indexOf(details) + 1).map((l) => l.text);
    expect(after).toContain(`    ${bad.slice(0, 10)} Jane Doe: gh-12345: Fix the frobnicator`);

    // Asked about either builder, `!why` names the change both blamelists share.
    for (const [asked, other] of [
      [first, second],
      [second, first],
    ]) {
      const from = watching.stdout.length;
      watching.send(`!why ${asked}`);
      await watching.waitForLine(new RegExp(`^ {2}\\(the same failure on ${escape(other ?? '')}\\)$`), from);
      expect(watching.stdout.slice(from).map((l) => l.text)).toContain(culprit);
    }
    // Still one headline and one also-on line for the two builders.
    expect(watching.matching(/^\d\d:\d\d:\d\d .* turned red/)).toHaveLength(1);
    expect(watching.matching(/also on: /)).toHaveLength(1);
    expect(await watching.stop()).toBe(0);
  });

  it('with grouping off, the second builder turned red by the change names it as the likely culprit in its details', async () => {
    const good = '8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c';
    const bad = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
    expect(
      await push({
        revision: good,
        author: GUIDO,
        comments: 'gh-11112: Revert the frobnicator',
        scenario: 'pass',
      }),
    ).toEqual(Object.fromEntries(BUILDERS.map((b) => [b, 0])));
    const watching = await bot('0');
    expect(
      await push({
        revision: bad,
        author: JANE,
        comments: 'gh-12346: Speed up the frobnicator',
        scenario: 'fail',
      }),
    ).toEqual(Object.fromEntries(BUILDERS.map((b) => [b, 2])));

    const heads = await watching.until('both headlines', () => {
      const found = watching.matching(/^\d\d:\d\d:\d\d .* turned red: failed test \(failure\)$/);
      return found.length === 2 ? found : undefined;
    });
    const [first, second] = heads.map((h) => BUILDERS.find((b) => h.includes(` ${b} #`)));
    expect(new Set([first, second])).toEqual(new Set(BUILDERS));
    // The builder that turned red second finds the first one red for the same reason.
    const details = await watching.waitForLine(
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${escape(second ?? '')} #\\d+: 1 failed test$`),
    );
    const at = watching.stdout.indexOf(details);
    const end = watching.stdout.findIndex((l, i) => i > at && /^ {2}http/.test(l.text));
    expect(watching.stdout.slice(at + 1, end + 1).map((l) => l.text)).toEqual([
      '  Failed: test_ssl_lab',
      `  likely culprit: ${bad.slice(0, 10)} Jane Doe: gh-12346: Speed up the frobnicator`,
      `  (the same failure on ${first})`,
      expect.stringMatching(
        /^ {2}Log: http:\/\/127\.0\.0\.1:\d+\/#\/builders\/\d+\/builds\/\d+\/steps\/\d+\/logs\/stdio$/,
      ),
      expect.stringMatching(/^ {2}Had been passing for .* \(since #\d+\)\.$/),
      expect.stringMatching(/^ {2}Changes since #\d+:$/),
      `    ${bad.slice(0, 10)} Jane Doe: gh-12346: Speed up the frobnicator`,
      expect.stringMatching(/^ {2}http:/),
    ]);
    expect(await watching.stop()).toBe(0);
  });
});
