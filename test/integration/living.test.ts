/**
 * Runtime subscriptions, mute and snooze, worker alerts: the real CLI with the console adapter
 * against the lab master (commands typed on stdin, announcements read from stdout), including a
 * bot restart and the lab worker stopped and started again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, labConfig, startBot, writeConfig } from '../support/bot.js';
import { type Lab, startLab } from '../support/lab.js';

const BUILDER = 'AMD64 Debian root 3.x';
let lab: Lab;

beforeAll(async () => {
  lab = await startLab({ branches: ['3.x'], platforms: ['AMD64 Debian root:stable,tier-1'] });
  await lab.runBuild(BUILDER, 'pass'); // history the bot imports silently
});
afterAll(async () => {
  await lab?.close();
});

const EXTRA = `permissions:
  operate: [console]
workers:
  grace: 2s
`;

/** Types a command and returns the stdout lines of its reply (everything up to the next quiet moment). */
async function command(bot: BotProcess, line: string, first: RegExp): Promise<string[]> {
  const from = bot.stdout.length;
  bot.send(line);
  const hit = await bot.waitForLine(first, from);
  const at = bot.stdout.indexOf(hit);
  return bot.stdout.slice(at).map((l) => l.text);
}

describe('subscriptions and mutes', () => {
  let bot: BotProcess;
  let config: string;

  beforeAll(async () => {
    config = writeConfig(labConfig(lab.url, 'ws', EXTRA));
    bot = await startBot(config);
  });
  afterAll(async () => {
    expect(await bot?.stop()).toBe(0);
  });

  it('!notify on/off changes what the room hears, and survives a restart', async () => {
    const list = await command(bot, '!notify list', /^console is notified of:$/);
    expect(list.slice(1, 4)).toEqual([
      '  failure — config: every builder',
      '  exception — config: every builder',
      '  recovery — config: every builder',
    ]);
    await command(bot, '!notify off failure', /^console will no longer be notified of failure\.$/);

    const red = await lab.runBuild(BUILDER, 'fail');
    // Recorded as a transition with no destination: nothing is printed for it.
    await bot.waitForLog('transition', { number: red.number, event: 'failure', destinations: 0 });
    expect(bot.matching(new RegExp(`${BUILDER} #${red.number} turned red`))).toEqual([]);

    expect(await bot.stop()).toBe(0);
    bot = await startBot(config);
    const after = await command(bot, '!notify list', /^console is notified of:$/);
    expect(after[1]).toBe('  failure — config: every builder — turned off here by console');

    await command(bot, '!notify on failure 3.x', /^console will be notified of failure \(branches 3\.x\)\.$/);
    const green = await lab.runBuild(BUILDER, 'pass');
    await bot.waitForLine(new RegExp(`${BUILDER} #${green.number} recovered`));
    const red2 = await lab.runBuild(BUILDER, 'fail');
    await bot.waitForLine(new RegExp(`${BUILDER} #${red2.number} turned red`));
  });

  it('!mute holds announcements back and !unmute summarises them', async () => {
    const start = await lab.runBuild(BUILDER, 'pass');
    await bot.waitForBuild(start.buildid);
    const muted = await command(bot, '!mute 2h', /^console is muted for 2 h, until /);
    expect(muted[0]).toMatch(/until \d{4}-\d\d-\d\d \d\d:\d\d UTC\. !unmute ends it\.$/);

    const red = await lab.runBuild(BUILDER, 'fail');
    await bot.waitForLog('announcement held back (muted)', { room: 'console' });
    const green = await lab.runBuild(BUILDER, 'pass');
    await bot.waitForLog('transition', { number: green.number, destinations: 0 });
    expect(bot.matching(new RegExp(`${BUILDER} #(${red.number}|${green.number}) `))).toEqual([]);

    // The mute is in SQLite: a restart keeps it.
    expect(await bot.stop()).toBe(0);
    bot = await startBot(config);
    const red2 = await lab.runBuild(BUILDER, 'fail');
    await bot.waitForLog('transition', { number: red2.number, destinations: 0 });

    const summary = await command(bot, '!unmute', /^console is unmuted\.$/);
    expect(summary.slice(1, 5)).toEqual([
      expect.stringMatching(/^ {2}While muted \(\d+ s\): 3 announcements held back:$/),
      `    ${BUILDER} #${red.number} turned red`,
      `    ${BUILDER} #${green.number} recovered`,
      `    ${BUILDER} #${red2.number} turned red`,
    ]);
    const green2 = await lab.runBuild(BUILDER, 'pass');
    await bot.waitForLine(new RegExp(`${BUILDER} #${green2.number} recovered`));
  });

  it('a mute that runs out sends its summary by itself; !snooze holds one builder back', async () => {
    await command(bot, '!mute 2s', /^console is muted for 2 s/);
    await bot.waitForLine(/^\d\d:\d\d:\d\d Mute ended after 2 s: no announcements were held back\.$/);

    await command(bot, '!snooze Debian root 3.x 1h', new RegExp(`^${BUILDER} is snoozed everywhere for 1 h`));
    const red = await lab.runBuild(BUILDER, 'fail');
    await bot.waitForLog('transition', { number: red.number, destinations: 0 });
    await command(bot, `!snooze ${BUILDER} off`, /no longer snoozed \(1 announcement had been held back\)/);
    await bot.waitForLine(
      /^\d\d:\d\d:\d\d Snooze of AMD64 Debian root 3\.x ended after .*: 1 announcement held back:$/,
    );
  });
});

describe.each(['ws', 'sse', 'poll'] as const)('worker alerts over %s', (stream) => {
  let bot: BotProcess;

  beforeAll(async () => {
    bot = await startBot(writeConfig(labConfig(lab.url, stream, EXTRA)));
    await bot.waitForLog('workers loaded');
  });
  afterAll(async () => {
    expect(await bot?.stop()).toBe(0);
  });

  it('announces a worker gone past the grace period and its return, once each; !workers', async () => {
    await command(bot, '!notify on worker', /^console will be notified of worker\.$/);
    const all = await command(bot, '!workers', /^1 worker: 1 connected, 0 offline$/);
    expect(all[1]).toMatch(/^ {2}w1 connected \(\d+ builders?\)$/);
    expect(await command(bot, '!workers offline', /^1 worker: /)).toContain(
      '1 worker: 1 connected, 0 offline.',
    );

    await lab.stopWorker();
    // Heard live on the stream, not found by a REST poll (which is all polling has).
    if (stream !== 'poll') await bot.waitForLog('worker event', { worker: 'w1', signal: 'disconnected' });
    await bot.waitForLine(/^\d\d:\d\d:\d\d Worker w1 is offline: gone for \d+ s$/);
    const offline = await command(bot, '!workers offline', /^1 worker: 0 connected, 1 offline$/);
    expect(offline[1]).toMatch(/^ {2}w1 OFFLINE for \d+ s \(\d+ builders?\)$/);

    await lab.startWorker();
    await bot.waitForLine(/^\d\d:\d\d:\d\d Worker w1 is back online after \d+ s away$/);
    if (stream !== 'poll') await bot.waitForLog('worker event', { worker: 'w1', signal: 'connected' });
    expect(bot.matching(/Worker w1 is offline/)).toHaveLength(1);
    expect(bot.matching(/Worker w1 is back online/)).toHaveLength(1);
  });
});
