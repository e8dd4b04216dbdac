/**
 * What failed, on the real lab master (Buildbot 3.7 and 4.3): a C compiler error, a test step
 * Buildbot kills for silence, a full disk and an exception on the master are each announced with
 * what broke (and, for the hang, the test that was running); a test that crashed its worker, one
 * that regrtest's --timeout stopped, and a run whose only failure left is a changed environment
 * (its failed test passed on re-run) are announced with those words and the right test names. By
 * a bot that sends one message (`details: inline`) and one that sends the headline first
 * (`details: followup`, the default); `!why` says the same. A plain test failure reads as before.
 * Routing: a bot whose console asked for test failures only (`failure`) hears none of the reds that
 * are not a test's; one that asked for `worker` (which brings `infra`) hears those only: the compile
 * and disk reds at once, the silence kill once its log is read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, labConfig, startBot, writeConfig } from '../support/bot.js';
import { LAB_VERSIONS, type Lab, type Scenario, startLab } from '../support/lab.js';

const A = 'AMD64 Debian root 3.x';
const B = 'PPC64LE RHEL8 3.x';
/** Buildbot kills the lab's test step after this many seconds without output. */
const SILENCE = 5;
const COMPILE_ERROR =
  "./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'; did you mean 'SSL_read'? [-Werror=implicit-function-declaration]";

describe.each(LAB_VERSIONS)('Buildbot %s', (version) => {
  let lab: Lab;
  let inline: BotProcess;
  let followup: BotProcess;
  /** Consoles that asked for test failures only, and for worker alerts only. */
  let tests: BotProcess;
  let ops: BotProcess;
  /** The red builds' numbers, by scenario, for the routing checks. */
  const reds: Record<string, { builder: string; number: number }> = {};

  beforeAll(async () => {
    lab = await startLab({
      version,
      branches: ['3.x'],
      platforms: ['AMD64 Debian root:stable,tier-1', 'PPC64LE RHEL8:unstable,tier-3'],
      env: { LAB_SILENCE_TIMEOUT: String(SILENCE) },
    });
    for (const b of [A, B]) await lab.runBuild(b, 'pass'); // history, imported silently
    const base = labConfig(lab.url, 'ws');
    const events = 'events: [failure, exception, recovery]';
    // These two hear every red: a test's (failure) and any other (infra).
    const config = base.replace(events, 'events: [failure, exception, recovery, infra]');
    // The inline bot may also force builds (its follow-ups say what broke too).
    const forcing = `${config.replace(
      '    poll_interval: 2s\n',
      '    poll_interval: 2s\n    auth: { username: bot, password: "botpass" }\n',
    )}permissions:\n  force: [console]\n`;
    [inline, followup, tests, ops] = await Promise.all([
      startBot(writeConfig(forcing)),
      startBot(writeConfig(config.replace(/ {2}details: inline.*\n/, ''))),
      startBot(writeConfig(base.replace(events, 'events: [failure, recovery]'))),
      startBot(writeConfig(base.replace(events, 'events: [worker]'))),
    ]);
  });
  afterAll(async () => {
    expect(await inline?.stop()).toBe(0);
    expect(await followup?.stop()).toBe(0);
    expect(await tests?.stop()).toBe(0);
    expect(await ops?.stop()).toBe(0);
    await lab?.close();
  });

  /** Polls `check` until it holds (the lab's REST answers), for up to 30 s. */
  async function until(check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out polling the lab');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  /** An announcement's block: its title line and the indented lines up to its link. */
  async function block(bot: BotProcess, title: RegExp): Promise<string[]> {
    const first = await bot.waitForLine(title);
    const at = bot.stdout.indexOf(first);
    await bot.until('the whole block', () => bot.stdout.slice(at + 1).some((l) => /^ {2}http/.test(l.text)));
    const lines = [first.text];
    for (const l of bot.stdout.slice(at + 1)) {
      if (!l.text.startsWith('  ')) break;
      lines.push(l.text);
      if (/^ {2}http/.test(l.text)) break;
    }
    return lines;
  }

  /** Runs a red build after a green one on `builder` (so that it is announced), returns its number. */
  async function turnRed(builder: string, scenario: Scenario): Promise<number> {
    const green = await lab.runBuild(builder, 'pass');
    await Promise.all([inline, followup, tests, ops].map((bot) => bot.waitForBuild(green.buildid)));
    const red = await lab.runBuild(builder, scenario);
    reds[scenario] = { builder, number: red.number };
    return red.number;
  }

  describe('failures that are not test failures', () => {
    it('a compile error: the headline names the step and the compiler error line', async () => {
      const n = await turnRed(A, 'compile');
      const one = await block(inline, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${A} #${n} turned red: `));
      expect(one[0]).toMatch(new RegExp(`turned red: failed compile: ${escape(COMPILE_ERROR)}$`));
      expect(one).not.toContain('  No failing test in the log summary.');
      expect(one).toContainEqual(expect.stringMatching(/^ {2}Log: http.*\/steps\/\d+\/logs\/stdio$/));

      // Headline first: Buildbot's words at once, what broke in the details.
      await followup.waitForLine(
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${A} #${n} turned red: failed compile \\(failure\\)$`),
      );
      await followup.waitForLine(
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${A} #${n}: failed compile: ${escape(COMPILE_ERROR)}$`),
      );

      const from = inline.stdout.length;
      inline.send(`!why ${A}`);
      await inline.waitForLine(new RegExp(`^${A} #${n}: failed compile: ${escape(COMPILE_ERROR)}$`), from);
      await inline.waitForLine(
        /^ {5}2561 \| {5}if \(SSL_read_ex\(self->ssl, mem, len, &count\) <= 0\) \{$/,
        from,
      );
      await inline.waitForLine(/^ {4}make: \*\*\* \[Makefile:3067: Modules\/_ssl\.o\] Error 1$/, from);
    });

    it('a silence kill: the headline says after how long, and which test was running', async () => {
      const n = await turnRed(B, 'hang');
      const words = `test killed after ${SILENCE} s without output while running test_threading_lab`;
      const one = await block(inline, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${B} #${n} turned red: `));
      expect(one[0]).toMatch(new RegExp(`turned red: ${words}$`));
      // The kill explains the short log: no guess about it.
      expect(one.some((l) => /ends early/.test(l))).toBe(false);

      await followup.waitForLine(
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${B} #${n} turned red: failed test \\(failure\\)$`),
      );
      await followup.waitForLine(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${B} #${n}: ${words}$`));

      const from = inline.stdout.length;
      inline.send(`!why ${B}`);
      await inline.waitForLine(new RegExp(`^${B} #${n}: ${words}$`), from);
      // What the step printed last, before the silence.
      await inline.waitForLine(/^ {4}0:00:\d\d load avg: [\d.]+ \[\d\/4\] test_threading_lab$/, from);
    });

    it('a full disk, and an exception on the master, say so', async () => {
      const disk = await turnRed(A, 'disk');
      await inline.waitForLine(
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d ${A} #${disk} turned red: disk full during compile: head: error writing 'standard output': No space left on device$`,
        ),
      );
      const purple = await lab.runBuild(A, 'exception');
      await inline.waitForLine(
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d ${A} #${purple.number} stopped with an exception: exception in test: builtins\\.RuntimeError: lab scenario 'exception': the test step raised on the master$`,
        ),
      );
    });

    it("a forced build's follow-up says what broke", async () => {
      await lab.setScenario('compile', B);
      const from = inline.stdout.length;
      inline.send(`!force ${B}`);
      const done = await inline.waitForLine(
        new RegExp(`^console: ${B} #\\d+ finished: red \\(failed compile \\(failure\\)\\)$`),
        from,
        60_000,
      );
      const next = inline.stdout[inline.stdout.indexOf(done) + 1]?.text;
      expect(next).toBe(`  failed compile: ${COMPILE_ERROR}`);
    });

    it('a crash: the failed test says it crashed its worker, and how', async () => {
      const from = followup.stdout.length;
      const n = await turnRed(A, 'crash');
      const words = 'test_ctypes_lab (crashed: Exit code -6)';
      const one = await block(inline, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${A} #${n} turned red: `));
      expect(one[0]).toMatch(/ turned red: failed test \(failure\)$/);
      expect(one).toContain(`  Failed: ${words}`);
      expect(one.filter((l) => /test_(?!ctypes_lab)\w+_lab/.test(l))).toEqual([]);

      await followup.waitForLine(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${A} #${n}: 1 failed test$`), from);
      await followup.waitForLine(new RegExp(`^ {2}Failed: ${escape(words)}$`), from);

      const asked = inline.stdout.length;
      inline.send(`!why ${A}`);
      await inline.waitForLine(new RegExp(`^${A} #${n} \\(FAILURE\\): 1 failing test$`), asked);
      await inline.waitForLine(new RegExp(`^ {2}${escape(words)}$`), asked);
    });

    it("a timeout: regrtest's --timeout names the test and after how long", async () => {
      const from = followup.stdout.length;
      const n = await turnRed(B, 'timeout');
      const words = 'test_socket_lab (timed out after 0:00:03)';
      const one = await block(inline, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${B} #${n} turned red: `));
      expect(one[0]).toMatch(/ turned red: failed test \(failure\)$/);
      expect(one).toContain(`  Failed: ${words}`);
      expect(one.filter((l) => /test_(?!socket_lab)\w+_lab/.test(l))).toEqual([]);

      await followup.waitForLine(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${B} #${n}: 1 failed test$`), from);
      await followup.waitForLine(new RegExp(`^ {2}Failed: ${escape(words)}$`), from);

      const asked = inline.stdout.length;
      inline.send(`!why ${B}`);
      await inline.waitForLine(new RegExp(`^${B} #${n} \\(FAILURE\\): 1 failing test$`), asked);
      await inline.waitForLine(new RegExp(`^ {2}${escape(words)}$`), asked);
      // faulthandler's dump, the end of it.
      await inline.waitForLine(/^ {4}File ".*", line \d+ in \w+$/, asked);
    });

    it('a test failure still says what it said before', async () => {
      const n = await turnRed(B, 'fail');
      const one = await block(inline, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${B} #${n} turned red: `));
      expect(one.map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''))).toEqual([
        `${B} #${n} turned red: failed test (failure)`,
        '  Failed: test_ssl_lab',
        expect.stringMatching(
          /^ {2}Log: http:\/\/127\.0\.0\.1:\d+\/#\/builders\/\d+\/builds\/\d+\/steps\/\d+\/logs\/stdio$/,
        ),
        expect.stringMatching(/^ {2}Had been passing for (at least )?\d+ s \(since #\d+\)\.$/),
        `  No new changes since #${n - 1} (forced or rebuilt).`,
        expect.stringMatching(/^ {2}http/),
      ]);
      await followup.waitForLine(
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${B} #${n} turned red: failed test \\(failure\\)$`),
      );
      await followup.waitForLine(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${B} #${n}: 1 failed test$`));
    });

    it('a lost worker: the build Buildbot retries is not announced; the red retry names it, and a follow-up follows both', async () => {
      const green = await lab.runBuild(A, 'pass');
      await inline.waitForBuild(green.buildid);
      const builderid = (await lab.builders()).find((b) => b.name === A)?.builderid;
      // A test step that prints a line every 5 s, forced from chat.
      await lab.setScenario('slow:120', A);
      const from = inline.stdout.length;
      inline.send(`!force ${A}`);
      const started = await inline.waitForLine(new RegExp(`^console: ${A} #(\\d+) started$`), from, 60_000);
      const n = Number(/#(\d+) started$/.exec(started.text)?.[1]);
      await until(async () => {
        const { steps } = await lab.api<{ steps: Array<{ name: string; started_at: number | null }> }>(
          `builders/${builderid}/builds/${n}/steps`,
        );
        return steps.some((st) => st.name === 'test' && st.started_at !== null);
      });
      // The worker goes away during the test step: Buildbot ends the build RETRY and runs the
      // request again when a worker is back, this time failing.
      await lab.setScenario('fail', A);
      await lab.stopWorker();
      const lost = await lab.waitForBuild(A, n);
      expect(lost.results).toBe(5);
      await lab.startWorker();

      const told = await inline.waitForLine(
        new RegExp(`^console: ${A} #${n} finished: retry \\(.+\\)$`),
        from,
      );
      expect(inline.stdout[inline.stdout.indexOf(told) + 1]?.text).toBe(
        '  Buildbot runs the request again; its build follows.',
      );
      await inline.waitForLine(new RegExp(`^console: ${A} #${n + 1} started$`), from, 60_000);
      await inline.waitForLine(
        new RegExp(`^console: ${A} #${n + 1} finished: red \\(failed test \\(failure\\)\\)$`),
        from,
        60_000,
      );
      const one = await block(inline, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${A} #${n + 1} turned red: `));
      expect(one).toContainEqual(
        expect.stringMatching(new RegExp(`^ {2}Retried before this build: #${n} \\(.+\\)\\.$`)),
      );
      expect(one).toContain('  Failed: test_ssl_lab');
      // Neither bot announced the retried build itself.
      for (const bot of [inline, followup])
        expect(bot.matching(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${A} #${n}\\b`))).toEqual([]);
    });

    it('a changed environment after a re-run: the summary wins, nothing is called failed', async () => {
      // test_ssl_lab fails, then passes on re-run; test_os_lab changed the environment, which
      // --fail-env-changed makes a red build ("FAILURE then ENV CHANGED"). Last: test_ssl_lab's flaky
      // run is history after it, which the test failure above would name ("flaky 1× in 7 d").
      const n = await turnRed(A, 'envrerun');
      const one = await block(inline, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${A} #${n} turned red: `));
      expect(one[0]).toMatch(/ turned red: failed test \(failure\)$/);
      expect(one).toContain('  Flaky (passed on re-run): test_ssl_lab');
      expect(one).toContain('  Env changed: test_os_lab');
      expect(one.filter((l) => /^ {2}(Failed|No failing test)/.test(l))).toEqual([]);

      await followup.waitForLine(
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d ${A} #${n}: 0 failed tests, 1 passed on re-run, 1 changed the environment$`,
        ),
      );

      const asked = inline.stdout.length;
      inline.send(`!why ${A}`);
      await inline.waitForLine(
        new RegExp(`^${A} #${n} \\(FAILURE then ENV CHANGED\\): the environment changed$`),
        asked,
      );
      await inline.waitForLine(/^ {2}test_ssl_lab \(passed on re-run\)$/, asked);
      await inline.waitForLine(/^ {2}Env changed: test_os_lab$/, asked);
    });

    it('routing: the test channel hears only test failures; the worker channel, only the rest', async () => {
      const title = (scenario: string) => {
        const red = reds[scenario];
        if (!red) throw new Error(`no ${scenario} red was run`);
        return new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${red.builder} #${red.number} turned red: `);
      };
      // The worker channel: the compile and disk reds as their state string decides them, the
      // silence kill once its log says so (the test channel heard that one at once).
      await ops.waitForLine(title('compile'));
      await ops.waitForLine(title('disk'));
      await ops.waitForLine(title('hang'));
      await tests.waitForLine(title('hang'));
      await tests.waitForLine(title('fail'));
      // A destination's announcements go out in the order they were recorded: the test channel's
      // red of 'fail' came after the compile and disk reds, so those were never recorded for it.
      expect(tests.matching(title('compile'))).toEqual([]);
      expect(tests.matching(title('disk'))).toEqual([]);
      // And the worker channel's last word is a compile red recorded after the test reds.
      const last = await turnRed(B, 'compile');
      await ops.waitForLine(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${B} #${last} turned red: failed compile: `));
      for (const scenario of ['fail', 'crash', 'timeout', 'envrerun'])
        expect(ops.matching(title(scenario))).toEqual([]);
    });
  });
});
