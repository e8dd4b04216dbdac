/**
 * Fault injection (issue 8, part 3): a scripted run of builds on the real lab master, with one
 * fault injected at a random point, repeated with several seeds per fault. After each run the
 * announcements the bot printed are compared with the transitions the master's own build history
 * says happened (classified with the bot's published rule, src/state/transitions.ts): none
 * missing, none doubled, order kept per builder. A summary table is printed at the end.
 *
 * The bot always talks to the master through the fault proxy (test/support/faultproxy.ts); the
 * test drives the master directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../src/state/transitions.js';
import { type BotProcess, labConfig, startBot, writeConfig } from '../support/bot.js';
import { type FaultProxy, startFaultProxy } from '../support/faultproxy.js';
import { IrcTestClient, plain } from '../support/irc/client.js';
import { type IrcLab, startIrcLab } from '../support/irc/lab.js';
import { type Proxy, startProxy } from '../support/proxy.js';
import { type BuildJson, type Lab, type Scenario, startLab } from '../support/lab.js';
import { seededRandom } from '../support/random.js';

const BUILDERS = ['AMD64 Debian root 3.x', 'PPC64LE RHEL8 3.x'];
/** Scripted builds per run (plus one last build that tells when the bot has caught up). */
const BUILDS = 8;

type FaultName =
  | 'master restart'
  | 'HTTP 500'
  | 'HTTP 429'
  | 'hanging responses'
  | 'stream cut'
  | 'silent stream'
  | 'IRC server restart'
  | 'bot SIGKILL';

interface Row {
  fault: FaultName;
  runs: number;
  expected: number;
  received: number;
  doubled: number;
  missing: number;
  /** Faults actually injected: restarts, kills, streams cut, requests answered 500/429 or left hanging. */
  injected: number;
  /** Builds the bot found through REST (back-fill or poll) rather than on the stream. */
  backfilled: number;
}

const rows = new Map<FaultName, Row>();

let lab: Lab;
let proxy: FaultProxy;
/** For the IRC fault: the real IRC network, and a TCP proxy between it and the bot (started on first use). */
let irc: IrcLab | undefined;
let ircProxy: Proxy | undefined;

beforeAll(async () => {
  lab = await startLab({
    branches: ['3.x'],
    platforms: ['AMD64 Debian root:stable,tier-1', 'PPC64LE RHEL8:unstable,tier-3'],
  });
  // History the first bot imports silently; every builder starts green.
  for (const b of BUILDERS) await lab.runBuild(b, 'pass');
  proxy = await startFaultProxy(lab.httpPort);
});

afterAll(async () => {
  await ircProxy?.close();
  await irc?.close();
  await proxy?.close();
  await lab?.close();
  const table = [
    'fault              | runs | expected | received | doubled | missing | injected | back-filled',
    '-------------------|------|----------|----------|---------|---------|----------|------------',
    ...[...rows.values()].map(
      (r) =>
        `${r.fault.padEnd(18)} | ${String(r.runs).padStart(4)} | ${String(r.expected).padStart(8)} | ` +
        `${String(r.received).padStart(8)} | ${String(r.doubled).padStart(7)} | ${String(r.missing).padStart(7)} | ` +
        `${String(r.injected).padStart(8)} | ${String(r.backfilled).padStart(11)}`,
    ),
  ];
  console.log(`fault injection results\n${table.join('\n')}`);
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

/** `<builder> #<n> <event>`, the comparable form of an announcement or a transition. */
type Key = string;

const HEADLINE =
  /^\d\d:\d\d:\d\d (.+) #(\d+) (turned red|recovered \((?:green|orange)\)|stopped with an exception)/;
/** The details message that follows a red announcement (`announce.details: followup`, the default). */
const DETAILS = /^\d\d:\d\d:\d\d (.+) #(\d+): /;
const EVENT: Record<string, string> = {
  'turned red': 'failure',
  'recovered (green)': 'recovery',
  'recovered (orange)': 'recovery',
  'stopped with an exception': 'exception',
};

/**
 * The announcements each bot process printed (or, for the IRC fault, each listener in the channel
 * saw from the bot), in order, tagged with the process's (listener's) index.
 */
function announcements(ctx: RunCtx): Array<{ key: Key; builder: string; bot: number }> {
  const out: Array<{ key: Key; builder: string; bot: number }> = [];
  const sources = ctx.listeners
    ? ctx.listeners.map((l) => l.from('bbwatch').map((line) => `00:00:00 ${plain(line.text)}`))
    : ctx.bots.map((b) => b.stdout.map((l) => l.text));
  sources.forEach((lines, i) => {
    for (const text of lines) {
      const m = HEADLINE.exec(text);
      if (m) out.push({ key: `${m[1]} #${m[2]} ${EVENT[m[3] as string]}`, builder: m[1] as string, bot: i });
      const d = m ? undefined : DETAILS.exec(text);
      if (d) out.push({ key: `${d[1]} #${d[2]} details`, builder: d[1] as string, bot: i });
    }
  });
  return out;
}

/** What the master's history says should have been announced: builds not in `before`, per builder, in order. */
async function expectedTransitions(before: Set<number>): Promise<Map<string, Key[]>> {
  const result = new Map<string, Key[]>();
  for (const b of await lab.builders()) {
    if (!BUILDERS.includes(b.name)) continue;
    const { builds } = await lab.api<{ builds: BuildJson[] }>(`builders/${b.builderid}/builds?order=number`);
    const done = builds.filter((x) => x.complete);
    const keys: Key[] = [];
    done.forEach((build, i) => {
      if (before.has(build.buildid)) return;
      const previous = done.slice(0, i).reverse();
      const event = classify(build, previous);
      if (event) keys.push(`${b.name} #${build.number} ${event}`);
      // A red announcement is followed by its details (the failing tests, the changes).
      if (event === 'failure' || event === 'exception') keys.push(`${b.name} #${build.number} details`);
    });
    result.set(b.name, keys);
  }
  return result;
}

async function completedBuildIds(): Promise<Set<number>> {
  const { builds } = await lab.api<{ builds: BuildJson[] }>('builds');
  return new Set(builds.filter((b) => b.complete).map((b) => b.buildid));
}

interface Plan {
  builds: Array<{ builder: string; scenario: Scenario }>;
  /** The fault comes after this many builds were forced (with `delayMs` more). */
  at: number;
  delayMs: number;
}

function plan(rand: () => number): Plan {
  const builds = Array.from({ length: BUILDS }, () => ({
    builder: pick(rand, BUILDERS),
    // Mostly pass/fail so that transitions happen often; some orange.
    scenario: pick(rand, ['pass', 'fail', 'fail', 'pass', 'warn'] as const) as Scenario,
  }));
  return { builds, at: 1 + Math.floor(rand() * (BUILDS - 2)), delayMs: Math.floor(rand() * 1_500) };
}

interface FaultSpec {
  name: FaultName;
  seeds: number[];
  /**
   * Injects the fault. `during` runs while build number `plan.at` is running (concurrently with
   * it); `between` runs after it finished, before the next one is forced.
   */
  mode: 'during' | 'between';
  /** How many builds the fault lasts (for the proxy faults). */
  span?: number;
  /** The bot's event stream, when the fault needs one (else WebSocket and SSE alternate). */
  stream?: 'ws';
  /** Announced on the IRC lab (and counted there) rather than on the console. */
  irc?: true;
  inject(ctx: RunCtx): Promise<void>;
  end?(ctx: RunCtx): Promise<void>;
}

interface RunCtx {
  rand: () => number;
  bots: BotProcess[];
  config: string;
  /** Restarts and kills (the proxy counts its own faults). */
  injected: number;
  /** proxy.stats.faulted when the proxy fault was set. */
  faultedAtInject: number;
  /** IRC fault: the clients in #lab, one per server run. */
  listeners?: IrcTestClient[];
}

const current = (ctx: RunCtx): BotProcess => ctx.bots[ctx.bots.length - 1] as BotProcess;

/**
 * Ends a proxy fault once it has bitten (the proxy faults the first request after setFault(); the
 * bot's next request may come only after a back-off, so a window measured in builds could miss it).
 */
async function endProxyFault(ctx: RunCtx): Promise<void> {
  await current(ctx).until(
    'the proxy to inject its fault',
    () => proxy.stats.faulted - ctx.faultedAtInject >= 1,
    60_000,
  );
  proxy.clearFault();
}

const FAULTS: FaultSpec[] = [
  {
    name: 'master restart',
    seeds: [11, 12],
    mode: 'between',
    async inject(ctx) {
      await lab.restartMaster();
      ctx.injected++;
    },
  },
  {
    name: 'HTTP 500',
    seeds: [21, 22],
    mode: 'during',
    span: 3,
    async inject(ctx) {
      ctx.faultedAtInject = proxy.stats.faulted;
      proxy.setFault({ kind: 'status', status: 500, fraction: 0.6 }, ctx.rand);
      proxy.cutStreams(); // the stream reconnects into the faults, and the back-fill meets them
    },
    end: endProxyFault,
  },
  {
    name: 'HTTP 429',
    seeds: [31, 32],
    mode: 'during',
    span: 3,
    async inject(ctx) {
      ctx.faultedAtInject = proxy.stats.faulted;
      proxy.setFault({ kind: 'status', status: 429, fraction: 0.6, retryAfterS: 1 }, ctx.rand);
      proxy.cutStreams();
    },
    end: endProxyFault,
  },
  {
    name: 'hanging responses',
    seeds: [41, 42],
    mode: 'during',
    span: 2,
    async inject(ctx) {
      ctx.faultedAtInject = proxy.stats.faulted;
      proxy.setFault({ kind: 'hang', fraction: 0.4 }, ctx.rand);
      proxy.cutStreams();
    },
    end: endProxyFault,
  },
  {
    name: 'stream cut',
    seeds: [51, 52, 53],
    mode: 'during',
    async inject() {
      proxy.cutStreams();
    },
  },
  {
    // A WebSocket that stays open but says nothing: found dead by its unanswered pings
    // (stream_silence, 3 s here), reopened, and what finished meanwhile back-filled.
    name: 'silent stream',
    seeds: [71, 72],
    mode: 'during',
    stream: 'ws',
    async inject() {
      proxy.silenceStreams();
    },
  },
  {
    // The IRC server goes down (InspIRCd and Anope stopped), builds go on, it comes back: the bot
    // reconnects, logs in, rejoins and delivers what waited. The bot's way back is held until a
    // listener is in the channel again, so that nothing is said to an empty room.
    name: 'IRC server restart',
    seeds: [81, 82],
    mode: 'during',
    irc: true,
    async inject(ctx) {
      const network = irc as IrcLab;
      ircProxy?.block();
      await network.stop();
      ctx.injected++;
      await sleep(500 + Math.floor(ctx.rand() * 2_000));
      await network.start();
      ctx.listeners?.push(
        await IrcTestClient.connect({ port: network.port, nick: 'listener', channels: ['#lab'] }),
      );
      ircProxy?.unblock();
    },
  },
  {
    name: 'bot SIGKILL',
    seeds: [61, 62, 63],
    mode: 'during',
    async inject(ctx) {
      const bot = current(ctx);
      await bot.stop('SIGKILL');
      ctx.injected++;
      ctx.bots.push(await startBot(ctx.config));
    },
  },
];

describe('fault injection: announcements match the master history', () => {
  const cases = FAULTS.flatMap((fault) => fault.seeds.map((seed, i) => ({ fault, seed, i })));
  it.each(cases.map((c) => [c.fault.name, c.seed, c] as const))(
    '%s, seed %i',
    async (_name, _seed, { fault, seed, i }) => {
      const rand = seededRandom(seed);
      const p = plan(rand);
      const stream = fault.stream ?? (i % 2 === 0 ? 'ws' : 'sse');
      proxy.clearFault();
      const before = await completedBuildIds();
      let listeners: IrcTestClient[] | undefined;
      let yaml = labConfig(proxy.url, stream)
        // The default split announcements (headline, then details), so that both are checked.
        .replace(/ {2}details: inline.*\n/, '')
        .replace('    timeout: 5s\n', '    timeout: 5s\n    stream_silence: 3s\n');
      if (fault.irc) {
        irc ??= await startIrcLab();
        ircProxy ??= await startProxy(irc.port);
        listeners = [await IrcTestClient.connect({ port: irc.port, nick: 'listener', channels: ['#lab'] })];
        yaml = yaml
          .replace(
            'chat:\n  console: true\n',
            `chat:
  irc:
    host: 127.0.0.1
    port: ${ircProxy.port}
    tls: false
    nick: bbwatch
    sasl:
      account: bbwatch
      password: botpass
    channels: ["#lab"]
    reconnect: { min: 300ms, max: 2s }
    flood: { burst: 10, interval: 100ms }
`,
          )
          .replace('  - to: console\n', '  - to: "irc:#lab"\n');
      }
      const config = writeConfig(yaml);
      const ctx: RunCtx = {
        rand,
        bots: [await startBot(config)],
        config,
        injected: 0,
        faultedAtInject: 0,
        ...(listeners ? { listeners } : {}),
      };
      const stats0 = { ...proxy.stats };
      try {
        await current(ctx).waitForLog('following live events');
        if (fault.irc) await current(ctx).waitForLog('joined IRC channel', { channel: '#lab' });
        let pending: Promise<void> | undefined;
        for (let n = 0; n < p.builds.length; n++) {
          const { builder, scenario } = p.builds[n] as Plan['builds'][number];
          if (n === p.at && fault.mode === 'between') {
            await sleep(p.delayMs / 3);
            await fault.inject(ctx);
          }
          if (n === p.at && fault.mode === 'during') {
            pending = sleep(p.delayMs).then(() => fault.inject(ctx));
          }
          if (fault.end && n === p.at + (fault.span ?? 1)) {
            await pending;
            await fault.end(ctx);
          }
          await lab.runBuild(builder, scenario);
        }
        await pending;
        await fault.end?.(ctx);
        // A last build: once the bot has it, everything before it has been back-filled or streamed.
        const last = await lab.runBuild(BUILDERS[0] as string, 'pass');
        const bot = current(ctx);
        await bot.waitForBuild(last.buildid, 90_000);

        const expected = await expectedTransitions(before);
        const expectedCount = [...expected.values()].reduce((s, k) => s + k.length, 0);
        // Give the outbox a moment to print what the last records caused.
        await bot
          .until('every expected announcement', () => announcements(ctx).length >= expectedCount, 20_000)
          .catch(() => undefined);
        await sleep(300);
        const got = announcements(ctx);
        const seen = new Set<Key>();
        const doubled: typeof got = [];
        for (const a of got) {
          if (seen.has(a.key)) doubled.push(a);
          seen.add(a.key);
        }
        const all = [...expected.values()].flat();
        const missing = all.filter((k) => !seen.has(k));
        const row = rows.get(fault.name) ?? {
          fault: fault.name,
          runs: 0,
          expected: 0,
          received: 0,
          doubled: 0,
          missing: 0,
          injected: 0,
          backfilled: 0,
        };
        row.runs++;
        row.expected += expectedCount;
        row.received += got.length;
        row.doubled += doubled.length;
        row.missing += missing.length;
        const injected =
          ctx.injected +
          (fault.name === 'stream cut' ? proxy.stats.streamsCut - stats0.streamsCut : 0) +
          (fault.name === 'silent stream' ? proxy.stats.streamsSilenced - stats0.streamsSilenced : 0) +
          (fault.mode === 'during' && fault.end ? proxy.stats.faulted - stats0.faulted : 0);
        row.injected += injected;
        const ours = new Set([...(await completedBuildIds())].filter((id) => !before.has(id)));
        row.backfilled += new Set(
          ctx.bots.flatMap((b) =>
            b.logs
              .filter(
                (l) =>
                  l.msg === 'build recorded' &&
                  (l.origin === 'backfill' || l.origin === 'poll') &&
                  ours.has(l.buildid as number),
              )
              .map((l) => l.buildid),
          ),
        ).size;
        rows.set(fault.name, row);

        const detail = `seed ${seed} (${stream}), plan ${JSON.stringify(p)}, proxy ${JSON.stringify(proxy.stats)}`;
        expect(injected, `no fault was injected, ${detail}`).toBeGreaterThan(0);
        // What the bots logged about the missing builds, for the post-mortem of a failure: whether
        // they were recorded at all, how (stream, back-fill), in which order, and what was decided.
        const missingNumbers = new Set(missing.map((k) => Number(/#(\d+) /.exec(k)?.[1])));
        const trail = ctx.bots.flatMap((b, i) =>
          b.logs
            .filter(
              (l) =>
                missingNumbers.has(Number(l.number)) ||
                /stream|back-fill|live event|following|cannot reach|connected/.test(String(l.msg)),
            )
            .map((l) => `bot ${i}: ${JSON.stringify(l)}`),
        );
        expect(missing, `missing announcements, ${detail}\n${trail.slice(-60).join('\n')}`).toEqual([]);
        expect(
          got.filter((a) => !all.includes(a.key)).map((a) => a.key),
          `unexpected announcements, ${detail}`,
        ).toEqual([]);
        if (fault.name === 'bot SIGKILL' || fault.name === 'IRC server restart') {
          // The two documented duplicates (README, Guarantees): the killed process printed it, and
          // died before marking it sent; or the IRC server relayed it, and the connection was cut
          // before its PONG confirmed it. The next process (the listener after the restart) sees
          // it again. It must be the last line of the one before.
          for (const d of doubled) {
            const first = got.find((a) => a.key === d.key);
            const lastOfKilled = got.filter((a) => a.bot === first?.bot).pop();
            expect(lastOfKilled?.key, `duplicate not at the fault, ${detail}`).toBe(d.key);
            expect(d.bot, `duplicate not from the next process or listener, ${detail}`).toBe(
              (first?.bot ?? 0) + 1,
            );
          }
        } else {
          expect(
            doubled.map((a) => a.key),
            `doubled announcements, ${detail}`,
          ).toEqual([]);
        }
        // Order per builder: the first copies, in order, are exactly the history's transitions.
        // (Details follow their own headline, but may come after a later one: they wait for the log.)
        const headline = (k: Key) => !k.endsWith(' details');
        for (const [builder, keys] of expected) {
          const order: Key[] = [];
          for (const a of got) {
            if (a.builder === builder && headline(a.key) && !order.includes(a.key)) order.push(a.key);
          }
          expect(order, `order for ${builder}, ${detail}`).toEqual(keys.filter(headline));
          for (const k of keys.filter((k) => !headline(k))) {
            const head = got.findIndex(
              (a) =>
                a.key === k.replace(/ details$/, ' failure') ||
                a.key === k.replace(/ details$/, ' exception'),
            );
            const details = got.findIndex((a) => a.key === k);
            expect(details, `details before their headline: ${k}, ${detail}`).toBeGreaterThan(head);
          }
        }
      } finally {
        proxy.clearFault();
        for (const bot of ctx.bots) await bot.stop();
        for (const listener of ctx.listeners ?? []) await listener.quit().catch(() => undefined);
      }
    },
    120_000,
  );
});
