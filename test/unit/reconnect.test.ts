/**
 * After a platform outage, what waited goes out when the adapter says it is connected again, not
 * at the notifier's next retry. The whole core runs in-process (startBot) with a stand-in chat
 * platform that goes away and comes back, under fake timers: the retry timer cannot fire unless
 * the test moves the clock, so a delivery before that is the reconnect's doing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import { type RunningBot, startBot } from '../../src/bot.js';
import { Events } from '../../src/bus.js';
import type { Adapter, AdapterServices, IncomingMessage } from '../../src/chat/adapter.js';
import { parseConfig } from '../../src/config/load.js';
import { lineText, type Message } from '../../src/messages/message.js';
import { build, builder, silentLog } from '../support/fleet.js';

/** A chat platform that can be away: sends fail until it is back. */
class StandInPlatform implements Adapter {
  readonly platform = 'console';
  readonly lineLimit = 20;
  up = false;
  readonly attempts: Array<{ up: boolean; at: number }> = [];
  readonly delivered: Message[] = [];
  private services: AdapterServices | undefined;
  private readonly waiters: Array<() => void> = [];

  async start(_onMessage: (m: IncomingMessage) => Promise<void>, services: AdapterServices): Promise<void> {
    this.services = services;
  }

  async stop(): Promise<void> {}

  isConnected(): boolean {
    return this.up;
  }

  async send(_room: string, message: Message): Promise<void> {
    this.attempts.push({ up: this.up, at: Date.now() });
    this.wake();
    if (!this.up) throw new Error('the platform is away');
    this.delivered.push(message);
    this.wake();
  }

  /** The platform is back and the adapter tells the core, as a real one does on reconnecting. */
  comeBack(): void {
    this.up = true;
    this.services?.connected?.();
  }

  /** Resolves once `check` holds, re-checked after every send. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const test = () => (check() ? resolve() : this.waiters.push(test));
      this.waiters.push(test);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

let bot: RunningBot | undefined;
let platform: StandInPlatform;

beforeEach(async () => {
  // setImmediate and promises stay real: the core's own work runs; only the clock is the test's.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  platform = new StandInPlatform();
  const dir = mkdtempSync(join(tmpdir(), 'bbwatch-reconnect-'));
  const config = parseConfig(
    `masters:
  - name: lab
    url: http://127.0.0.1:9/
    stream: poll
storage: ${join(dir, 'state.sqlite')}
chat:
  console: true
notify:
  - to: console
    events: [recovery]
`,
    'test',
    {},
  );
  bot = await startBot({ config, adapters: [platform], commands: COMMANDS, log: silentLog });
  bot.ready.catch(() => undefined); // no master: the announcement is made from events below
});

afterEach(async () => {
  vi.useRealTimers();
  await bot?.stop();
});

/** A builder turns green while the platform is away: one announcement waits for it. */
async function recoveryDuringOutage(): Promise<void> {
  const b = builder(1, 'AMD64 Debian root 3.x');
  bot?.bus.emit(Events.BuildersLoaded, { master: 'lab', builders: [b] });
  bot?.bus.emit(Events.BuildFinished, {
    master: 'lab',
    build: build(1, 10, 2, 120),
    origin: 'history',
    receivedAt: Date.now(),
  });
  bot?.bus.emit(Events.BuildFinished, {
    master: 'lab',
    build: build(1, 11, 0, 1),
    origin: 'stream',
    receivedAt: Date.now(),
  });
  await platform.until(() => platform.attempts.length === 1);
  expect(platform.attempts[0]?.up).toBe(false);
}

describe('a chat platform that comes back', () => {
  it('gets what waited as soon as its adapter says it is connected, before the next retry', async () => {
    await recoveryDuringOutage();
    const failedAt = Date.now();
    await vi.advanceTimersByTimeAsync(1000); // the retry is due 2 s after the failure
    expect(platform.attempts).toHaveLength(1);

    platform.comeBack();
    await platform.until(() => platform.delivered.length === 1);
    expect(Date.now() - failedAt).toBe(1000); // the clock did not move: no timer fired
    expect(platform.attempts.map((a) => a.up)).toEqual([false, true]);
    expect(lineText(platform.delivered[0]?.title ?? [])).toMatch(/^AMD64 Debian root 3\.x #11 .*green/);
  });

  it('without that word it waits for the retry tick (what the event saves)', async () => {
    await recoveryDuringOutage();
    const failedAt = Date.now();
    platform.up = true; // back, but nobody says so
    await vi.advanceTimersByTimeAsync(1999);
    expect(platform.delivered).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await platform.until(() => platform.delivered.length === 1);
    expect(Date.now() - failedAt).toBe(2000);
  });
});
