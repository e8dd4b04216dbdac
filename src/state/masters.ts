import type { Logger } from 'pino';
import { type Bus, Events, type WatcherState } from '../bus.js';
import { formatDuration } from '../duration.js';

/** What the bot knows of its link to one master, as the operator and the commands see it. */
export interface MasterLink {
  master: string;
  url: string;
  /** loading: not loaded yet; following: stream open or polling works; unreachable: neither. */
  state: 'loading' | 'following' | 'unreachable' | 'stopped';
  /** When this state began (ms since the epoch). */
  since: number;
  /** Why it is unreachable, in a few words. */
  reason?: string;
  /** The full error behind `reason`. */
  detail?: string;
  /** ws, sse or poll, while following. */
  feed?: string;
  builders?: number;
  /** When unreachable: the next try (ms since the epoch). */
  nextTryAt?: number;
  /** It was followed once since the bot started (so "unreachable" is an outage, not a bad start). */
  everFollowed: boolean;
}

/** Read access for commands: "unreachable since ..." instead of "still loading". */
export interface MastersView {
  links(): MasterLink[];
}

const FEED_NAME: Record<string, string> = { ws: 'WebSocket', sse: 'server-sent events', poll: 'polling' };

/**
 * Follows each watcher's state and says what changed, once, in words: "cpython: cannot reach
 * https://buildbot.python.org/all/ (DNS lookup failed); retrying, next try in 30 s" …
 * "cpython: connected, 97 builders, following over WebSocket". Repeated failures for the same
 * reason and stream reconnects that succeed are not news; they stay in the debug log.
 */
export class MasterHealth implements MastersView {
  private readonly state = new Map<string, MasterLink>();
  /** When each master's stream last ended, for "keeps dropping". */
  private readonly drops = new Map<string, number[]>();
  private readonly flapping = new Set<string>();

  constructor(
    masters: ReadonlyArray<{ name: string; url: string }>,
    bus: Bus,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    for (const m of masters)
      this.state.set(m.name, {
        master: m.name,
        url: m.url,
        state: 'loading',
        since: this.now(),
        everFollowed: false,
      });
    bus.on(Events.WatcherState, (s) => this.onState(s));
  }

  links(): MasterLink[] {
    return [...this.state.values()].map((l) => ({ ...l }));
  }

  link(master: string): MasterLink | undefined {
    const l = this.state.get(master);
    return l ? { ...l } : undefined;
  }

  private onState(s: WatcherState): void {
    const before = this.state.get(s.master);
    if (!before) return;
    if (s.status === 'connecting' && before.state === 'following' && before.feed !== 'poll')
      this.dropped(before);
    const next = nextLink(before, s, this.now());
    this.state.set(s.master, next);
    const line = changeLine(before, next, s.retryInMs);
    if (!line) return;
    const fields = {
      master: s.master,
      state: next.state,
      ...(next.reason ? { reason: next.reason } : {}),
      ...(next.detail ? { err: next.detail } : {}),
      ...(s.retryInMs !== undefined ? { retryInMs: s.retryInMs } : {}),
    };
    // An outage, and the return after one, are warnings: the two lines an operator must see.
    if (next.state === 'unreachable' || (next.state === 'following' && before.state === 'unreachable'))
      this.log.warn(fields, line);
    else this.log.info(fields, line);
  }

  /**
   * A stream that ends and reopens is routine once; the third time within 10 min it is news, said
   * once until the stream has stayed up for 30 min.
   */
  private dropped(link: MasterLink): void {
    const now = this.now();
    const recent = (this.drops.get(link.master) ?? []).filter((t) => now - t < 30 * 60_000);
    if (recent.length === 0) this.flapping.delete(link.master);
    recent.push(now);
    this.drops.set(link.master, recent);
    const inTen = recent.filter((t) => now - t < 10 * 60_000).length;
    if (inTen >= 3 && !this.flapping.has(link.master)) {
      this.flapping.add(link.master);
      this.log.warn(
        { master: link.master, drops: inTen },
        `${link.master}: the event stream keeps dropping (${inTen} times in 10 min); reconnecting and back-filling each time`,
      );
    }
  }
}

/** The link after a watcher state (pure). */
export function nextLink(before: MasterLink, s: WatcherState, now: number): MasterLink {
  switch (s.status) {
    case 'streaming':
    case 'polling': {
      const feed = s.status === 'polling' ? 'poll' : (s.transport ?? 'ws');
      const same = before.state === 'following';
      return {
        master: before.master,
        url: before.url,
        state: 'following',
        since: same ? before.since : now,
        feed,
        ...(s.builders !== undefined ? { builders: s.builders } : {}),
        everFollowed: true,
      };
    }
    case 'down': {
      const same = before.state === 'unreachable';
      return {
        master: before.master,
        url: before.url,
        state: 'unreachable',
        since: same ? before.since : now,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.detail ? { detail: s.detail } : {}),
        ...(s.retryInMs !== undefined ? { nextTryAt: now + s.retryInMs } : {}),
        ...(before.builders !== undefined ? { builders: before.builders } : {}),
        everFollowed: before.everFollowed,
      };
    }
    case 'stopped':
      return { ...before, state: 'stopped', since: now };
    case 'connecting':
      // Reconnecting after a stream ended is not news until it fails.
      return before;
  }
}

/** The operator's line for a change, or undefined when nothing changed that they need to hear. */
export function changeLine(before: MasterLink, after: MasterLink, retryInMs?: number): string | undefined {
  if (after.state === 'unreachable') {
    if (before.state === 'unreachable' && before.reason === after.reason) return undefined;
    const retry = retryInMs !== undefined ? `; retrying, next try in ${formatDuration(retryInMs)}` : '';
    return `${after.master}: cannot reach ${after.url} (${after.reason ?? 'unknown error'})${retry}`;
  }
  if (after.state === 'following') {
    if (before.state === 'following' && before.feed === after.feed) return undefined;
    const feed = FEED_NAME[after.feed ?? ''] ?? after.feed ?? 'events';
    const builders =
      after.builders !== undefined ? `, ${after.builders} builder${after.builders === 1 ? '' : 's'}` : '';
    const how = after.feed === 'poll' ? 'following by polling' : `following over ${feed}`;
    if (before.state === 'unreachable')
      return `${after.master}: connected again after ${formatDuration(Math.max(0, after.since - before.since))}${builders}, ${how}`;
    return `${after.master}: connected${builders}, ${how}`;
  }
  return undefined;
}

/** "cpython has been unreachable since 14:02 UTC (12 min): DNS lookup failed", for commands. */
export function unreachableNote(link: MasterLink, now: number): string {
  const at = new Date(link.since).toISOString().slice(11, 16);
  return `${link.master} has been unreachable since ${at} UTC (${formatDuration(Math.max(0, now - link.since))}): ${link.reason ?? 'unknown error'}`;
}
