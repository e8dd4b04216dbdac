import type { Logger } from 'pino';
import { formatDuration } from '../duration.js';
import { errorMessage } from '../errors.js';
import type { Message } from '../messages/message.js';
import type { Transition } from '../state/fleet.js';
import type { Mute, SubscriptionStore } from '../store/subscriptions.js';

export type { Mute } from '../store/subscriptions.js';

/** How long a mute lasts: the requested duration (or the default), never longer than `max`. */
export function muteLength(requestedMs: number | undefined, defaultMs: number, maxMs: number): number {
  const ms = requestedMs ?? defaultMs;
  return Math.min(Math.max(ms, 1000), maxMs);
}

/** The mute that holds back an announcement for `room` about `builder`: the room's first, then the builder's. */
export function holdingMute(
  mutes: readonly Mute[],
  room: string,
  builder: string | undefined,
  now: number,
): Mute | undefined {
  const live = mutes.filter((m) => now < m.until);
  return (
    live.find((m) => m.kind === 'room' && m.target === room) ??
    (builder === undefined
      ? undefined
      : live.find((m) => m.kind === 'builder' && m.target.toLowerCase() === builder.toLowerCase()))
  );
}

const VERB: Partial<Record<Transition['event'], string>> = {
  failure: 'turned red',
  exception: 'stopped with an exception',
  recovery: 'recovered',
  newfailure: 'still red, new failure',
  flaky: 'orange: flaky test',
};

/** `AMD64 Debian root 3.x #12 turned red`: one held-back announcement in a summary. */
export function heldText(t: Transition): string {
  return `${t.builder.name} #${t.build.number} ${VERB[t.event] ?? t.event}`;
}

/** Items a summary lists before "… and N more". */
const SUMMARY_ITEMS = 10;

/** `While muted (1 h): 3 announcements held back:` and the items, or that nothing was. */
export function summaryLines(what: string, items: readonly string[]): string[] {
  if (items.length === 0) return [`${what}: no announcements were held back.`];
  const n = items.length;
  const lines = [`${what}: ${n} announcement${n === 1 ? '' : 's'} held back:`];
  for (const item of items.slice(0, SUMMARY_ITEMS)) lines.push(`  ${item}`);
  if (n > SUMMARY_ITEMS) lines.push(`  … and ${n - SUMMARY_ITEMS} more`);
  return lines;
}

/** What commands may do with mutes and snoozes. */
export interface MuteView {
  readonly defaultMs: number;
  readonly maxMs: number;
  /** Mutes the room (or moves the end of its mute); returns when it ends. */
  mute(
    room: string,
    ms: number | undefined,
    by: string | undefined,
  ): Promise<{ until: number; extended: boolean }>;
  /** Ends the room's mute; the summary of what it held back, or undefined when it was not muted. */
  unmute(room: string): Promise<string[] | undefined>;
  snooze(
    builder: string,
    ms: number | undefined,
    by: string | undefined,
  ): Promise<{ until: number; extended: boolean }>;
  /** Ends a builder's snooze (each room that missed something is told); how many were held back. */
  unsnooze(builder: string): Promise<number | undefined>;
  /** The room's mute and every builder snooze in force. */
  status(room: string): { room: Mute | undefined; snoozes: Mute[] };
  now(): number;
}

export interface MuteServiceOptions {
  store: SubscriptionStore;
  defaultMs: number;
  maxMs: number;
  /** Sends a summary once (keyed by the mute's id) to a room. */
  send: (muteId: number, room: string, message: Message) => Promise<void>;
  log: Logger;
  now?: () => number;
}

/** Longest single wait of the expiry timer; it re-checks after that. */
const MAX_TIMER_MS = 60_000;

/**
 * Room mutes and builder snoozes, kept in SQLite: while one is in force, announcements it covers
 * are recorded as held back instead of sent; when it ends (a command, or its time is up, even
 * while the bot was stopped) the rooms hear how many were held back, and which.
 */
export class MuteService implements MuteView {
  defaultMs: number;
  maxMs: number;
  private mutes: Mute[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly now: () => number;

  private constructor(
    private readonly opts: MuteServiceOptions,
    mutes: Mute[],
  ) {
    this.defaultMs = opts.defaultMs;
    this.maxMs = opts.maxMs;
    this.now = opts.now ?? Date.now;
    this.mutes = mutes;
  }

  /** The mutes in force, from the store. */
  static async load(opts: MuteServiceOptions): Promise<MuteService> {
    return new MuteService(opts, await opts.store.activeMutes());
  }

  /** Lengths from a reloaded config; mutes already set keep theirs. */
  configure(defaultMs: number, maxMs: number): void {
    this.defaultMs = defaultMs;
    this.maxMs = maxMs;
  }

  /** Ends what expired while the bot was away, and keeps ending mutes on time. */
  start(): Promise<void> {
    return this.expire();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Holds back an announcement for `room` if a mute covers it; true when it did. */
  async hold(
    room: string,
    builder: string | undefined,
    text: string,
    store: SubscriptionStore = this.opts.store,
  ): Promise<boolean> {
    const m = holdingMute(this.mutes, room, builder, this.now());
    if (!m) return false;
    await store.hold(m.id, room, text, this.now());
    this.opts.log.info({ room, builder, muteId: m.id, text }, 'announcement held back (muted)');
    return true;
  }

  /** Whether a mute covers the transition for `room` (a decision, in memory). */
  covers(t: Transition, room: string): boolean {
    return holdingMute(this.mutes, room, t.builder.name, this.now()) !== undefined;
  }

  /** Holds back a transition's announcement for `room`, writing with `store` (a transaction's). */
  holdTransition(t: Transition, room: string, store?: SubscriptionStore): Promise<boolean> {
    return this.hold(room, t.builder.name, heldText(t), store);
  }

  mute(room: string, ms: number | undefined, by: string | undefined) {
    return this.begin('room', room, ms, by);
  }

  snooze(builder: string, ms: number | undefined, by: string | undefined) {
    return this.begin('builder', builder, ms, by);
  }

  async unmute(room: string): Promise<string[] | undefined> {
    const m = this.find('room', room);
    if (!m) return undefined;
    const held = await this.end(m, false);
    return summaryLines(`While muted (${formatDuration(this.now() - m.startedAt)})`, held.get(room) ?? []);
  }

  async unsnooze(builder: string): Promise<number | undefined> {
    const m = this.find('builder', builder);
    if (!m) return undefined;
    const held = await this.end(m, true);
    return [...held.values()].reduce((n, items) => n + items.length, 0);
  }

  status(room: string): { room: Mute | undefined; snoozes: Mute[] } {
    return { room: this.find('room', room), snoozes: this.mutes.filter((m) => m.kind === 'builder') };
  }

  /** Ends every mute whose time is up (sending its summaries); schedules the next check. */
  async expire(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    for (const m of [...this.mutes]) {
      if (m.until <= now) {
        try {
          await this.end(m, true);
        } catch (err) {
          this.opts.log.error({ muteId: m.id, err: errorMessage(err) }, 'ending a mute failed');
        }
      }
    }
    this.schedule();
  }

  private find(kind: Mute['kind'], target: string): Mute | undefined {
    const now = this.now();
    return this.mutes.find(
      (m) => m.kind === kind && m.target.toLowerCase() === target.toLowerCase() && now < m.until,
    );
  }

  private async begin(kind: Mute['kind'], target: string, ms: number | undefined, by: string | undefined) {
    const now = this.now();
    const until = now + muteLength(ms, this.defaultMs, this.maxMs);
    const existing = this.find(kind, target);
    if (existing) {
      await this.opts.store.setUntil(existing.id, until);
      existing.until = until;
    } else {
      const id = await this.opts.store.addMute(kind, target, now, until, by);
      this.mutes.push({ id, kind, target, startedAt: now, until, ...(by ? { setBy: by } : {}) });
    }
    this.opts.log.info({ kind, target, until, by }, kind === 'room' ? 'room muted' : 'builder snoozed');
    this.schedule();
    return { until, extended: existing !== undefined };
  }

  /** Ends a mute; with `tell`, each room concerned gets its summary through the outbox. */
  private async end(m: Mute, tell: boolean): Promise<Map<string, string[]>> {
    await this.opts.store.endMute(m.id, this.now());
    this.mutes = this.mutes.filter((x) => x.id !== m.id);
    const held = await this.opts.store.held(m.id);
    this.opts.log.info({ kind: m.kind, target: m.target, muteId: m.id, held: held.size }, 'mute ended');
    if (tell) {
      const length = formatDuration(Math.min(this.now(), m.until) - m.startedAt);
      if (m.kind === 'room') {
        await this.opts.send(m.id, m.target, summary(`Mute ended after ${length}`, held.get(m.target) ?? []));
      } else {
        for (const [room, items] of held) {
          await this.opts.send(m.id, room, summary(`Snooze of ${m.target} ended after ${length}`, items));
        }
      }
    }
    return held;
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.mutes.length === 0) return;
    const next = Math.min(...this.mutes.map((m) => m.until));
    const delay = Math.min(Math.max(0, next - this.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => void this.expire(), delay);
    this.timer.unref();
  }
}

function summary(what: string, items: readonly string[]): Message {
  const [title = what, ...rest] = summaryLines(what, items);
  return { kind: 'announcement', tone: 'neutral', title: [title], lines: rest.map((l) => [l.trimStart()]) };
}
