/**
 * IRC figures, on the real IRC lab (InspIRCd + Anope, the server's stock flood control on) and
 * the real lab master, in one run:
 * - failure announcement latency over BENCH_ROUNDS (default 100) red builds: from the master's own
 *   `finished` event (a plain SSE client in this process, the baseline) to the line arriving at a
 *   client in the channel, median and 99th percentile, for bbwatch with its default settings
 *   (`announce.details: followup`: the headline at once, the test log's findings after it; IRC
 *   flood burst 4, then 1 line/s), for a second bbwatch with `details: inline` (one message once
 *   the log is read), and for Buildbot's own IRC notifier (`reporters.IRC`, nick bb-words, which
 *   the lab master runs when BB_IRC_PORT is set), all in the same run;
 * - a burst: every builder turning red at once, until the last line of the last announcement.
 * Rounds are paced so that each bot's flood bucket is full again when the next one starts (see below).
 * Nothing here asserts a time: the figures are printed.
 */
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeConfig } from '../test/support/bot.js';
import { startIrcBot } from '../test/support/irc/bot.js';
import { IrcTestClient, plain } from '../test/support/irc/client.js';
import { type IrcLab, startIrcLab } from '../test/support/irc/lab.js';
import { type Lab, startLab } from '../test/support/lab.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const BUILDER = 'AMD64 Debian root 3.x';
let irc: IrcLab;
let lab: Lab;

beforeAll(async () => {
  // The IRC network first: bb-words retries a failed connect only after 45-60 s.
  irc = await startIrcLab({
    fakelag: true,
    accounts: ['alice:alicepass', 'mallory:mallorypass', 'bbwatch:botpass', 'bbinline:inlinepass'],
  });
  lab = await startLab({ branches: ['3.x'], env: { BB_IRC_PORT: String(irc.port), BB_IRC_CHANNEL: '#lab' } });
});
afterAll(async () => {
  await Promise.all([lab?.close(), irc?.close()]);
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2
    ? (sorted[Math.floor(mid)] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${median(values).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms, worst ${sorted.at(-1)?.toFixed(0)} ms, best ${sorted[0]?.toFixed(0)} ms (n=${values.length})`;
}

function ircConfig(nick: string, password: string, details: 'followup' | 'inline'): string {
  return `masters:
  - name: lab
    url: ${lab.url}
    stream: ws
storage: ./state.sqlite
chat:
  irc:
    host: 127.0.0.1
    port: ${irc.port}
    tls: false
    nick: ${nick}
    sasl: { account: ${nick}, password: ${password} }
    channels: ["#lab"]
announce:
  details: ${details}
  # Every builder is announced on its own here: the latency of each headline is what is measured.
  group_window: 0
notify:
  - to: "irc:#lab"
    events: [failure]
`;
}

it('failure announcement latency: bbwatch and Buildbot own IRC notifier, from the master event to the channel', async () => {
  const builders = (await lab.builders()).filter((b) => !b.name.endsWith(' custom')).map((b) => b.name);
  await Promise.all(builders.map((b) => lab.runBuild(b, 'pass')));
  const listener = await IrcTestClient.connect({ port: irc.port, nick: 'listener', channels: ['#lab'] });
  await listener.until('bb-words in #lab', () =>
    listener.lines.some(
      (l) =>
        (l.command === 'JOIN' && l.nick === 'bb-words') ||
        (l.command === '353' && /[@+ ]?bb-words\b/.test(l.params.at(-1) ?? '')),
    ),
  );
  const bot = await startIrcBot(writeConfig(ircConfig('bbwatch', 'botpass', 'followup')));
  const inline = await startIrcBot(writeConfig(ircConfig('bbinline', 'inlinepass', 'inline')));
  await inline.waitForLog('joined IRC channel');
  await bot.waitForLog('joined IRC channel');
  const masterSeen = new Map<number, number>();
  const source = new EventSource(`${lab.url}sse/listen/builders/*/builds/*/finished`);
  await new Promise<void>((resolve) => source.addEventListener('handshake', () => resolve(), { once: true }));
  source.addEventListener('event', (ev) => {
    const { message } = JSON.parse(ev.data) as { message: { buildid: number } };
    masterSeen.set(message.buildid, Date.now());
  });
  const ours: number[] = [];
  const theirs: number[] = [];
  const inlined: number[] = [];
  /** bbwatch (followup): the master's event until the failing tests are in the channel. */
  const toDetails: number[] = [];
  /** Where bbwatch's time goes: event → transition recorded, transition → headline in the channel. */
  const toTransition: number[] = [];
  const toChannel: number[] = [];
  /** Of which: the transition until the IRC adapter wrote the headline to its socket. */
  const toSocket: number[] = [];
  /** Of which: the transition until the build's test log was analysed (the core's log analysis). */
  const toAnalysed: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      await lab.runBuild(BUILDER, 'pass');
      const from = listener.lines.length;
      const red = await lab.runBuild(BUILDER, 'fail');
      const mine = await listener.waitFor(
        'bbwatch',
        new RegExp(`^${BUILDER} #${red.number} turned red`),
        from,
      );
      const bb = await listener.waitFor('bb-words', new RegExp(`#${red.number}\\b.*failed`), from);
      const one = await listener.waitFor(
        'bbinline',
        new RegExp(`^${BUILDER} #${red.number} turned red`),
        from,
      );
      const details = await listener.waitFor('bbwatch', new RegExp(`^${BUILDER} #${red.number}: `), from);
      const seen = masterSeen.get(red.buildid);
      // Paced as red builds are in a real channel (minutes apart): the next round starts once each
      // bot's flood bucket (1 line/s) has earned back the lines this one cost, so that a round
      // measures the latency of one announcement, not the queue left by the previous one.
      await new Promise<void>((resolve) => setTimeout(resolve, 500));
      const spent = Math.max(listener.from('bbwatch', from).length, listener.from('bbinline', from).length);
      const rested = Date.now() - (seen ?? Date.now());
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, spent * 1000 - rested)));
      if (seen === undefined) continue;
      ours.push(mine.at - seen);
      theirs.push(bb.at - seen);
      inlined.push(one.at - seen);
      toDetails.push(details.at - seen);
      const transition = await bot.until('the transition log line', () =>
        bot.logs.find((l) => l.msg === 'transition' && l.number === red.number && l.builder === BUILDER),
      );
      toTransition.push(transition.time - seen);
      toChannel.push(mine.at - transition.time);
      const written = bot.logs.find(
        (l) => l.msg === 'announced' && l.buildid === red.buildid && l.event === 'failure',
      );
      if (written) toSocket.push(written.time - transition.time);
      const analysed = bot.logs.find((l) => l.msg === 'log analysed' && l.buildid === red.buildid);
      if (analysed) toAnalysed.push(analysed.time - transition.time);
    }
    // A burst: every branch builder red at once.
    await lab.runBuild(BUILDER, 'pass');
    const from = listener.lines.length;
    const t0 = Date.now();
    const reds = await Promise.all(builders.map((b) => lab.runBuild(b, 'fail')));
    await listener.until(
      'every burst announcement',
      () =>
        reds.every((r) =>
          listener.from('bbwatch', from).some((l) => plain(l.text).includes(` #${r.number} turned red`)),
        ),
      120_000,
    );
    await new Promise((r) => setTimeout(r, 8_000)); // the rest of the last announcement
    const lines = listener.from('bbwatch', from);
    const last = (lines.at(-1)?.at ?? t0) - t0;
    console.log(
      `\nBurst: ${builders.length} builders red at once: ${lines.length} bbwatch lines, the last ${last} ms after forcing; ` +
        `bb-words said ${listener.from('bb-words', from).length} lines.`,
    );
  } finally {
    source.close();
    await listener.quit();
    expect(await bot.stop()).toBe(0);
    expect(await inline.stop()).toBe(0);
  }
  console.log(
    `\nFailure announcement, master finished event → line in the channel (${ROUNDS} failures, one at a time):\n` +
      `  bbwatch (default, details: followup), the headline: ${stats(ours)}\n` +
      `  bbwatch (default), the failing tests after it:      ${stats(toDetails)}\n` +
      `  bbwatch (details: inline), the one message:          ${stats(inlined)}\n` +
      `  bb-words (Buildbot's own IRC notifier):              ${stats(theirs)}\n` +
      `  bbwatch, event → transition recorded: ${stats(toTransition)}\n` +
      `  bbwatch, transition → headline in the channel (composing: changes, test log; sending): ${stats(toChannel)}\n` +
      `    of which transition → headline written to the IRC socket: ${stats(toSocket)}\n` +
      `  bbwatch, transition → test log analysed: ${stats(toAnalysed)}\n` +
      `  each round, bbwatch / bb-words (ms): ${ours.map((o, k) => `${o}/${theirs[k]}`).join(' ')}\n` +
      `  bbwatch headline − bb-words line, per round (both as the listener received them; no baseline): ${stats(ours.map((o, k) => o - (theirs[k] ?? 0)))}\n` +
      `  ratio bbwatch / bb-words: median ${(median(ours) / Math.max(1, median(theirs))).toFixed(2)}×, p99 ${(percentile(ours, 99) / Math.max(1, percentile(theirs, 99))).toFixed(2)}×; ` +
      `inline / bb-words: median ${(median(inlined) / Math.max(1, median(theirs))).toFixed(1)}×`,
  );
  expect(ours.length).toBeGreaterThan(0);
});
