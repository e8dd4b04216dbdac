import type { SubscriptionFilters } from '../config/rule-args.js';
import { NOTIFY_EVENTS, type NotifyEvent, type NotifyRule } from '../config/schema.js';
import type { Subscription, SubscriptionStore } from '../store/subscriptions.js';

export type { SubscriptionFilters } from '../config/rule-args.js';

/**
 * The events a rule hears besides those it lists, and why: `worker` brings `infra` (a worker that
 * went away, its full disk, its compiler or checkout failing are the same people's business).
 */
export function impliedEvents(events: readonly NotifyEvent[]): Map<NotifyEvent, NotifyEvent> {
  return events.includes('worker') && !events.includes('infra')
    ? new Map<NotifyEvent, NotifyEvent>([['infra', 'worker']])
    : new Map();
}

/** A rule's events with the ones they imply. */
function withImplied(events: readonly NotifyEvent[]): NotifyEvent[] {
  return [...events, ...impliedEvents(events).keys()];
}

/**
 * The rules in force: the config's rules, minus the events a room turned `off` at runtime (even
 * those the config gives it), plus one rule per event a room turned `on` (with its filters). A
 * runtime `on` adds to what the config gives; it never narrows a config rule. A rule hears the
 * events its events imply ({@link impliedEvents}) unless the room turned them off.
 */
export function mergeRules(config: readonly NotifyRule[], runtime: readonly Subscription[]): NotifyRule[] {
  const off = new Set(runtime.filter((s) => !s.enabled).map((s) => `${s.room}\0${s.event}`));
  // A room's own runtime setting of an event (on, with its filters, or off) wins over an implied one.
  const own = new Set(runtime.map((s) => `${s.room}\0${s.event}`));
  const out: NotifyRule[] = [];
  for (const rule of config) {
    const all = withImplied(rule.events);
    const events = all.filter((e) => !off.has(`${rule.to}\0${e}`));
    if (events.length === 0) continue;
    const same = events.length === rule.events.length && all.length === rule.events.length;
    out.push(same ? rule : { ...rule, events });
  }
  for (const s of runtime) {
    if (!s.enabled) continue;
    out.push({
      to: s.room,
      events: withImplied([s.event]).filter((e) => e === s.event || !own.has(`${s.room}\0${e}`)),
      ...(s.branches ? { branches: s.branches } : {}),
      ...(s.tags ? { tags: s.tags } : {}),
      ...(s.builders ? { builders: s.builders } : {}),
    });
  }
  return out;
}

/** One line of `!notify list`: an event a room hears (or turned off), and where that comes from. */
export interface SubscriptionLine {
  event: NotifyEvent;
  source: 'config' | 'runtime';
  /** False for a config event turned off at runtime. */
  active: boolean;
  filters: string;
  setBy?: string;
  /** For an event heard because another implies it (`infra` with `worker`): that event. */
  via?: NotifyEvent;
}

/** `branches 3.x, 3.14; tags stable; builders /Debian/`, or '' for every builder. */
export function describeFilters(rule: {
  masters?: string[] | undefined;
  branches?: string[] | undefined;
  tags?: string[] | undefined;
  builders?: string | undefined;
}): string {
  const parts: string[] = [];
  if (rule.masters?.length) parts.push(`masters ${rule.masters.join(', ')}`);
  if (rule.branches?.length) parts.push(`branches ${rule.branches.join(', ')}`);
  if (rule.tags?.length) parts.push(`tags ${rule.tags.join(', ')}`);
  if (rule.builders) parts.push(`builders /${rule.builders}/`);
  return parts.join('; ');
}

/**
 * What `!notify list` shows for one room: config rules and runtime subscriptions, with their source.
 * The order is stable and documented (README, `!notify`): the config's events first, in the
 * config's order, then the runtime ones in the order of {@link NOTIFY_EVENTS}, never by when they
 * were set (two rules set within the same clock tick would otherwise swap places run to run).
 */
export function describeRoom(
  room: string,
  config: readonly NotifyRule[],
  runtime: readonly Subscription[],
): SubscriptionLine[] {
  const mine = runtime.filter((s) => s.room === room);
  const off = new Map(mine.filter((s) => !s.enabled).map((s) => [s.event, s]));
  const lines: SubscriptionLine[] = [];
  for (const rule of config) {
    if (rule.to !== room) continue;
    const implied = impliedEvents(rule.events);
    for (const event of [...rule.events, ...implied.keys()]) {
      const o = off.get(event);
      const via = implied.get(event);
      lines.push({
        event,
        source: 'config',
        active: !o,
        filters: describeFilters(rule),
        ...(o?.setBy ? { setBy: o.setBy } : {}),
        ...(via ? { via } : {}),
      });
    }
  }
  const runtimeOn = mine
    .filter((s) => s.enabled)
    .sort((a, b) => NOTIFY_EVENTS.indexOf(a.event) - NOTIFY_EVENTS.indexOf(b.event));
  const own = new Set(mine.map((s) => s.event));
  for (const s of runtimeOn) {
    const line = {
      source: 'runtime' as const,
      active: true,
      filters: describeFilters(s),
      ...(s.setBy ? { setBy: s.setBy } : {}),
    };
    lines.push({ event: s.event, ...line });
    // An implied event the room set itself (on or off) is listed as that.
    for (const [event, via] of impliedEvents([s.event]))
      if (!own.has(event)) lines.push({ event, ...line, via });
  }
  return lines;
}

/** What commands may do with subscriptions. */
export interface SubscriptionsView {
  list(room: string): SubscriptionLine[];
  on(
    room: string,
    events: readonly NotifyEvent[],
    filters: SubscriptionFilters,
    by: string | undefined,
  ): Promise<void>;
  off(room: string, events: readonly NotifyEvent[], by: string | undefined): Promise<void>;
}

/** Runtime subscriptions over the config's rules; `rules()` is what the notifier matches against. */
export class Subscriptions implements SubscriptionsView {
  private merged: NotifyRule[];

  private constructor(
    private config: readonly NotifyRule[],
    private readonly store: SubscriptionStore,
    /** The stored subscriptions, as last read: rules are matched in memory. */
    private stored: Subscription[],
    private readonly now: () => number,
  ) {
    this.merged = mergeRules(config, stored);
  }

  /** The runtime subscriptions from the store, over the config's rules. */
  static async load(
    config: readonly NotifyRule[],
    store: SubscriptionStore,
    now: () => number = Date.now,
  ): Promise<Subscriptions> {
    return new Subscriptions(config, store, await store.subscriptions(), now);
  }

  rules(): readonly NotifyRule[] {
    return this.merged;
  }

  /** New rules from a reloaded config; runtime subscriptions stay on top of them. */
  setDefaults(config: readonly NotifyRule[]): void {
    this.config = config;
    this.merged = mergeRules(config, this.stored);
  }

  list(room: string): SubscriptionLine[] {
    return describeRoom(room, this.config, this.stored);
  }

  async on(
    room: string,
    events: readonly NotifyEvent[],
    filters: SubscriptionFilters,
    by: string | undefined,
  ): Promise<void> {
    for (const event of events) {
      await this.store.setSubscription({
        room,
        event,
        enabled: true,
        ...filters,
        ...(by ? { setBy: by } : {}),
        setAt: this.now(),
      });
    }
    await this.reread();
  }

  async off(room: string, events: readonly NotifyEvent[], by: string | undefined): Promise<void> {
    for (const event of events) {
      await this.store.setSubscription({
        room,
        event,
        enabled: false,
        ...(by ? { setBy: by } : {}),
        setAt: this.now(),
      });
    }
    await this.reread();
  }

  private async reread(): Promise<void> {
    this.stored = await this.store.subscriptions();
    this.merged = mergeRules(this.config, this.stored);
  }
}
