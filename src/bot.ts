import { MasterWatcher } from './buildbot/watcher.js';
import { Bus, Events } from './bus.js';
import type { Adapter, AdapterServices, IncomingMessage } from './chat/adapter.js';
import type { Command } from './chat/command.js';
import { completions } from './chat/complete.js';
import { Dispatcher } from './chat/dispatcher.js';
import type { Config } from './config/load.js';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';
import type { ChangeSummary } from './messages/announcement.js';
import { type ChangeLookup, Notifier } from './notify/notifier.js';
import { BuildbotControl } from './buildbot/control.js';
import { FollowUps } from './control/followups.js';
import { ControlService } from './control/service.js';
import { Analyzer } from './logs/analyzer.js';
import { TestHistory } from './logs/history.js';
import type { LogFacts } from './messages/announcement.js';
import { Fleet, type Transition } from './state/fleet.js';
import { ControlStore } from './store/control.js';
import { TestStore } from './store/tests.js';
import { trackFleet } from './state/tracker.js';
import { BuildStore } from './store/builds.js';
import { openDb } from './store/db.js';
import { MetaStore } from './store/meta.js';
import { Outbox } from './store/outbox.js';
import { MuteService } from './notify/mute.js';
import { Subscriptions } from './notify/subscriptions.js';
import { SubscriptionStore } from './store/subscriptions.js';
import { WorkerMonitor, workerDestinations } from './workers/monitor.js';
import { lineText } from './messages/message.js';
import { ReportStore } from './store/reports.js';
import { Ops, startHttp } from './ops/ops.js';
import { DigestScheduler, Reports } from './digest/reports.js';

export interface BotParts {
  config: Config;
  adapters: readonly Adapter[];
  commands: readonly Command[];
  log: Logger;
}

export interface RunningBot {
  bus: Bus;
  fleet: Fleet;
  /** Resolves when every master's history is loaded and its live feed followed. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Wires the core together: storage, fleet state, watchers, notifier, dispatcher, adapters. */
export async function startBot({ config, adapters, commands, log }: BotParts): Promise<RunningBot> {
  const db = openDb(config.storage);
  const builds = new BuildStore(db);
  const meta = new MetaStore(db);
  const outbox = new Outbox(db);
  const bus = new Bus();
  const fleet = new Fleet(builds, config.masters);
  const watchers = new Map(config.masters.map((m) => [m.name, new MasterWatcher(m, { bus, meta, log })]));

  const testStore = new TestStore(db);
  const analyzer = new Analyzer({
    store: testStore,
    fleet,
    bus,
    log,
    maxAgeMs: config.announce.max_age,
    masters: new Map(
      config.masters.map((m) => [m.name, { rest: watcherOf(watchers, m.name).rest, logs: m.logs }]),
    ),
  });
  const tests = new TestHistory(testStore, analyzer);

  const reportStore = new ReportStore(db);
  const ops = new Ops({
    bus,
    masters: config.masters.map((m) => ({ name: m.name, budget: watcherOf(watchers, m.name).rest.budget })),
    adapters,
    outboxPending: () => outbox.count('pending'),
    analysisPending: () => reportStore.analysisPending(),
  });

  // Runtime subscriptions over the config's rules; mutes and snoozes hold announcements back.
  const subscriptionStore = new SubscriptionStore(db);
  const subscriptions = new Subscriptions(config.notify, subscriptionStore);
  const mutes = new MuteService({
    store: subscriptionStore,
    defaultMs: config.mute.default,
    maxMs: config.mute.max,
    log,
    send: (muteId, room, message) => notifier.send('', muteId, 'mute-summary', room, message),
  });
  const byPlatform = new Map(adapters.map((a) => [a.platform, a]));
  const notifier = new Notifier({
    outbox,
    rules: () => subscriptions.rules(),
    hold: (t, destination) => mutes.holdTransition(t, destination),
    fleet,
    log,
    showMaster: config.masters.length > 1,
    burstWindowMs: config.announce.burst_window,
    changes: changeLookup(watchers),
    tests: (t) => logFacts(t, tests, testStore),
    deliver: (destination, message) => {
      const platform = destination === 'console' ? 'console' : (destination.split(':')[0] ?? '');
      const adapter = byPlatform.get(platform);
      if (!adapter) return Promise.reject(new Error(`no ${platform} adapter is running`));
      return adapter.send(destination, message).then(
        () => ops.delivered(platform, true),
        (err: unknown) => {
          ops.delivered(platform, false);
          throw err;
        },
      );
    },
  });

  // A build and the announcements it makes are written in one transaction: never one without the other.
  trackFleet(bus, fleet, log, {
    maxAgeMs: config.announce.max_age,
    atomically: (fn) => db.transaction(fn)(),
  });
  bus.on(Events.BuilderTransition, (t) => {
    const n = notifier.record(t);
    log.info(
      { master: t.master, builder: t.builder.name, number: t.build.number, event: t.event, destinations: n },
      'transition',
    );
    if (n > 0) queueMicrotask(() => void notifier.flush());
  });
  bus.on(Events.WatcherState, (s) => log.debug(s, 'watcher state'));

  const controlStore = new ControlStore(db);
  const control = new ControlService({
    fleet,
    store: controlStore,
    log,
    masters: new Map(
      config.masters.map((m) => {
        const rest = watcherOf(watchers, m.name).rest;
        const client = new BuildbotControl({
          baseUrl: m.url,
          budget: rest.budget,
          timeoutMs: m.timeout,
          auth: m.auth,
          log,
          masterName: m.name,
        });
        return [m.name, { config: m, control: client, rest }];
      }),
    ),
  });
  const followUps = new FollowUps({
    store: controlStore,
    fleet,
    tests,
    bus,
    log,
    rests: new Map(config.masters.map((m) => [m.name, watcherOf(watchers, m.name).rest])),
    send: (master, buildid, event, destination, message) =>
      notifier.send(master, buildid, event, destination, message),
  });
  const workers = new WorkerMonitor({
    rests: new Map(config.masters.map((m) => [m.name, watcherOf(watchers, m.name).rest])),
    graceMs: config.workers.grace,
    showMaster: config.masters.length > 1,
    log,
    announce: (alert, message) => {
      for (const destination of workerDestinations(subscriptions.rules(), alert.master)) {
        if (mutes.hold(destination, undefined, lineText(message.title ?? []))) continue;
        const key = `worker-${alert.kind}:${Math.floor(alert.since / 1000)}`;
        notifier.send(alert.master, alert.workerid, key, destination, message);
      }
    },
  });
  bus.on(Events.WorkerChanged, (w) => workers.onSignal(w.master, w.workerid, w.name, w.signal));
  // Each (re)connect or poll: what the stream may have missed about workers (the first is the baseline).
  bus.on(Events.WatcherState, (s) => {
    if (s.status !== 'streaming' && s.status !== 'polling') return;
    workers
      .refresh(s.master)
      .catch((err: unknown) => log.warn({ master: s.master, err: errorMessage(err) }, 'workers not loaded'));
  });
  const reports = new Reports(reportStore, fleet, meta, config.masters.length > 1);
  // Scheduled digests go through the outbox once per destination and minute.
  const digests = new DigestScheduler(
    config.digest,
    reports,
    (to, minute, message) => notifier.send('', minute, 'digest', to, message),
    log,
  );
  const dispatcher = new Dispatcher({
    commands,
    fleet,
    tests,
    control,
    subscriptions,
    mutes,
    workers,
    reports,
    grants: config.permissions,
    log,
    onRefused: (command, message) =>
      controlStore.audit({
        platform: message.platform,
        room: message.room,
        identity: message.sender.identity,
        name: message.sender.name,
        command: command.name,
        args: [message.text.slice(0, 500)],
        outcome: 'refused',
        detail: `no '${command.permission}' permission`,
      }),
  });
  // Up before the adapters connect, so that /healthz can say what is still starting.
  const http = config.http ? await startHttp({ ...config.http, ops, log }) : undefined;
  const commandInfo = commands.map(({ run: _run, ...info }) => info);
  for (const adapter of adapters) {
    const services: AdapterServices = {
      state: {
        get: (key) => meta.get(`adapter:${adapter.platform}:${key}`),
        set: (key, value) => meta.set(`adapter:${adapter.platform}:${key}`, value),
      },
      log: log.child({ adapter: adapter.platform }),
      commands: commandInfo,
      complete: (kind, prefix, limit) => completions(fleet, commandInfo, kind, prefix, limit),
    };
    const onMessage = async (message: IncomingMessage) => {
      try {
        const answer = await dispatcher.handle(message, adapter.lineLimit);
        if (answer) await adapter.send(message.room, answer);
      } catch (err) {
        log.error(
          { platform: adapter.platform, room: message.room, err: errorMessage(err) },
          'reply not sent',
        );
      }
    };
    await adapter.start(onMessage, services);
  }
  // What a previous run recorded but could not confirm as sent goes out first; so do unread logs.
  void notifier.flush();
  void analyzer.drain();
  followUps.start();
  mutes.start();
  digests.start();

  const ready = Promise.all([...watchers.values()].map((w) => w.start())).then(() => undefined);
  return {
    bus,
    fleet,
    ready,
    async stop() {
      await Promise.all([...watchers.values()].map((w) => w.stop()));
      followUps.stop();
      mutes.stop();
      digests.stop();
      workers.stop();
      await analyzer.stop();
      // Deliver what is waiting (a burst included) before the adapters go; the rest stays queued.
      await notifier.drain(SHUTDOWN_DEADLINE_MS);
      for (const adapter of adapters) await adapter.stop().catch(() => undefined);
      await http?.close();
      db.close();
    },
  };
}

function watcherOf(watchers: ReadonlyMap<string, MasterWatcher>, name: string): MasterWatcher {
  const watcher = watchers.get(name);
  if (!watcher) throw new Error(`no watcher for master ${name}`);
  return watcher;
}

/** How long a shutdown may spend delivering pending announcements. */
const SHUTDOWN_DEADLINE_MS = 5_000;

/** Days of history behind "flaky N× recently" in announcements. */
const FLAKY_DAYS = 7;

/** The test-log facts of an announcement: failing and flaky tests with their recent history. */
async function logFacts(t: Transition, tests: TestHistory, store: TestStore): Promise<LogFacts | undefined> {
  const stored = await tests.analysis(t.master, t.build, false);
  const a = stored?.analysis;
  if (!a) return undefined;
  const since = Math.floor(Date.now() / 1000) - FLAKY_DAYS * 86_400;
  const counts = store.flakyCounts([...a.failed, ...a.flaky], since);
  const mention = (name: string) => ({
    name,
    // This build's own flaky outcome is not "recent history".
    flakyRecently: Math.max(0, (counts.get(name) ?? 0) - (a.flaky.includes(name) ? 1 : 0)),
    known: tests.knownFor(name, t.builder.name).map((k) => k.issue),
  });
  // Tests without a known issue first: they are the news.
  const byNews = (x: { known: string[] }, y: { known: string[] }) =>
    Number(x.known.length > 0) - Number(y.known.length > 0);
  return {
    failed: a.failed.map(mention).sort(byNews),
    flaky: a.flaky.map(mention).sort(byNews),
    envChanged: a.envChanged,
    partial: a.partial,
    logUrl: stored?.logUrl,
    flakyDays: FLAKY_DAYS,
  };
}

function changeLookup(watchers: ReadonlyMap<string, MasterWatcher>): ChangeLookup {
  return async (master, buildids) => {
    const watcher = watchers.get(master);
    if (!watcher) return [];
    const seen = new Set<number>();
    const out: Array<ChangeSummary & { when: number }> = [];
    for (const buildid of buildids) {
      for (const c of await watcher.rest.buildChanges(buildid)) {
        if (seen.has(c.changeid)) continue;
        seen.add(c.changeid);
        out.push({
          revision: c.revision,
          author: c.author ?? '',
          comments: c.comments ?? '',
          when: c.when_timestamp ?? 0,
        });
      }
    }
    return out.sort((a, b) => b.when - a.when).map(({ when: _when, ...change }) => change);
  };
}
