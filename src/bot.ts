import { MasterHealth } from './state/masters.js';
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
import { howItEnded } from './logs/report.js';
import type { LogFacts, TrackerFacts } from './messages/announcement.js';
import { readBuildFacts } from './buildbot/build-facts.js';
import { qualifiedCases, type RegrtestAnalysis } from './logs/regrtest.js';
import { builderBranch } from './state/branches.js';
import { Triage } from './tracker/triage.js';
import { culpritHint, likelyCulprit } from './tracker/culprits.js';
import { suggestionText } from './triage/search.js';
import { Fleet, type Transition } from './state/fleet.js';
import { ControlStore } from './store/control.js';
import { TestStore } from './store/tests.js';
import { trackFleet } from './state/tracker.js';
import { BuildStore } from './store/builds.js';
import { openStore } from './store/open.js';
import { CachedState, MetaStore } from './store/meta.js';
import { StoreHealth } from './store/health.js';
import { Outbox } from './store/outbox.js';
import { GroupStore } from './store/groups.js';
import { groupReasons } from './triage/grouping.js';
import { MuteService } from './notify/mute.js';
import { Subscriptions } from './notify/subscriptions.js';
import { SubscriptionStore } from './store/subscriptions.js';
import { WorkerMonitor, workerDestinations } from './workers/monitor.js';
import { lineText } from './messages/message.js';
import { ReportStore } from './store/reports.js';
import { Ops, startHttp } from './ops/ops.js';
import { DigestScheduler, Reports } from './digest/reports.js';
import { planReload, type ReloadPlan } from './config/reload.js';
import { mountDashboard, publicLinks } from './web/index.js';

export interface BotParts {
  config: Config;
  adapters: readonly Adapter[];
  commands: readonly Command[];
  log: Logger;
  /** The store has not answered for a while (10 s): a leader gives up its lead (src/cli.ts). */
  onStoreStalled?: (reason: string) => void;
}

export interface RunningBot {
  bus: Bus;
  fleet: Fleet;
  /** Resolves when every master's history is loaded and its live feed followed. */
  ready: Promise<void>;
  /**
   * Takes over a reloaded config (SIGHUP): rules, permissions and the like at once; a chat
   * platform whose settings changed is reconnected (`makeAdapter` builds its new adapter); the
   * others keep their connections. Changes only a restart can apply are returned, not applied.
   */
  reload(
    next: Config,
    makeAdapter: (platform: string, config: Config) => Promise<Adapter | undefined>,
  ): Promise<ReloadPlan>;
  /**
   * Stops sending at once (the leader lock is lost: another process may lead now): no
   * announcement, reply or follow-up leaves this process after this returns.
   */
  halt(): void;
  /** Stops; with `drain` (the default), delivers what is pending for a few seconds first. */
  stop(opts?: { drain?: boolean }): Promise<void>;
}

/** Wires the core together: storage, fleet state, watchers, notifier, dispatcher, adapters. */
export async function startBot({
  config,
  adapters: initial,
  commands,
  log,
  onStoreStalled,
}: BotParts): Promise<RunningBot> {
  /** The config in force: replaced on reload, read through getters where a setting may change. */
  let live = config;
  /** The adapters running now; changed in place on reload (the operations view reads this array). */
  const adapters: Adapter[] = [...initial];
  /** Set when the leader lock is lost: nothing more is sent from this process. */
  let halted = false;
  const db = await openStore(config, log);
  if (config.announce.burst_window !== undefined)
    log.warn(
      'announce.burst_window no longer does anything: a red build is announced at once, and later builders failing the same way join its message (announce.group_window)',
    );
  const builds = new BuildStore(db);
  const meta = new MetaStore(db);
  const outbox = new Outbox(db);
  // A leader whose store stopped answering steps down, so that a standby may do better.
  const storeHealth = new StoreHealth(db, log, onStoreStalled ? { onStalled: onStoreStalled } : {});
  const bus = new Bus();
  const fleet = await Fleet.load(builds, config.masters);
  const watchers = new Map(
    config.masters.map((m) => [
      m.name,
      new MasterWatcher(m, {
        bus,
        meta,
        log,
        // The stream cursor moves past builds once they are written (and not when they could not be).
        settled: () =>
          tracker.settled(m.name).catch((err: unknown) => {
            storeHealth.failed(err);
            throw err;
          }),
      }),
    ]),
  );
  // Before the watchers start: it must hear their first state.
  const masterHealth = new MasterHealth(config.masters, bus, log);

  const testStore = new TestStore(db);
  const analyzer = new Analyzer({
    store: testStore,
    fleet,
    bus,
    log,
    get maxAgeMs() {
      return live.announce.max_age;
    },
    masters: new Map(
      config.masters.map((m) => [m.name, { rest: watcherOf(watchers, m.name).rest, logs: m.logs }]),
    ),
    // Asked only while analysing, once the watchers run: the monitor exists by then.
    workerNames: async () => (await workers.list()).workers.map((w) => w.name),
  });
  const tests = new TestHistory(testStore, analyzer);

  const reportStore = new ReportStore(db);
  const ops = new Ops({
    bus,
    masters: config.masters.map((m) => ({ name: m.name, budget: watcherOf(watchers, m.name).rest.budget })),
    adapters,
    outboxPending: () => storeHealth.state().outboxPending,
    analysisPending: () => storeHealth.state().analysisPending,
    store: () => storeHealth.state(),
    links: () => masterHealth.links(),
    ...(config.postgres ? { role: 'leader' as const } : {}),
  });

  const triage = new Triage({
    config: config.tracker,
    log,
    readFacts: (master, buildid) => readBuildFacts(watcherOf(watchers, master).rest, buildid),
    readChanges: changeLookup(watchers),
    ...(config.tracker?.search ? { observe: ops.trackerObserver() } : {}),
  });

  // Runtime subscriptions over the config's rules; mutes and snoozes hold announcements back.
  const subscriptionStore = new SubscriptionStore(db);
  const subscriptions = await Subscriptions.load(config.notify, subscriptionStore);
  const mutes = await MuteService.load({
    store: subscriptionStore,
    defaultMs: config.mute.default,
    maxMs: config.mute.max,
    log,
    send: (muteId, room, message) =>
      notifier.send({ kind: 'mute-summary', muteId, destination: room }, message),
  });
  const notifier = new Notifier({
    outbox,
    rules: () => subscriptions.rules(),
    holds: {
      covers: (t, destination) => mutes.covers(t, destination),
      hold: (t, destination, tx) =>
        mutes.holdTransition(t, destination, tx ? new SubscriptionStore(tx) : undefined),
    },
    fleet,
    log,
    showMaster: config.masters.length > 1,
    groupWindowMs: config.announce.group_window,
    recoveryHoldMs: config.announce.recovery_hold,
    groups: new GroupStore(db),
    // A red build's reasons, as grouping compares them: its failed tests and error lines, worker
    // names masked. Undefined when its log could not be read (it is then announced on its own).
    reasons: async (t) => {
      const stored = await tests.analysis(t.master, t.build, false);
      if (!stored || stored.status !== 'done') return undefined;
      if (!stored.analysis) return [];
      const names = ((await workers.list().catch(() => undefined))?.workers ?? []).map((w) => w.name);
      return groupReasons(stored.analysis, names);
    },
    editorFor: (destination) => {
      const adapter = adapters.find((a) => a.platform === platformOf(destination));
      if (!adapter?.edit) return undefined;
      return (room, ref, message) => {
        if (halted) return Promise.reject(new Error('not leading any more'));
        // The adapter in force now (a reload may have replaced it).
        const current = adapters.find((a) => a.platform === platformOf(room));
        if (!current?.edit) return Promise.reject(new Error(`no ${platformOf(room)} adapter can edit`));
        return current.edit(room, ref, message);
      };
    },
    details: config.announce.details,
    changes: changeLookup(watchers),
    // A builder joining a group: the commit its blamelist shares with the group's (named once).
    culprit: async (t) => {
      const a = (await tests.analysis(t.master, t.build, false))?.analysis;
      const builder = fleet
        .builders()
        .find((b) => b.master === t.master && b.builderid === t.builder.builderid);
      if (!a || !builder) return [];
      return (
        (await likelyCulprit({ fleet, tests, triage, workers }, builder, t.build.number, a))?.lines ?? []
      );
    },
    tests: (t) =>
      logFacts(t, tests, testStore, {
        triage,
        waitMs: config.tracker?.wait ?? 0,
        buildUrl: fleet.buildUrl(t.master, t.builder.builderid, t.build.number),
        culprit: (a) => {
          const builder = fleet
            .builders()
            .find((b) => b.master === t.master && b.builderid === t.builder.builderid);
          return builder
            ? culpritHint({ fleet, tests, triage, workers }, builder, t.build.number, a)
            : Promise.resolve([]);
        },
      }),
    deliver: (destination, message) => {
      if (halted) return Promise.reject(new Error('not leading any more'));
      const platform = platformOf(destination);
      const adapter = adapters.find((a) => a.platform === platform);
      if (!adapter) return Promise.reject(new Error(`no ${platform} adapter is running`));
      return adapter.send(destination, message).then(
        (ref) => {
          ops.delivered(platform, true);
          return ref;
        },
        (err: unknown) => {
          ops.delivered(platform, false);
          throw err;
        },
      );
    },
  });

  // A build and what it causes (its log queued for reading, its announcements) are written in one
  // transaction, never one without the other; the bus hears of them once committed.
  const tracker = trackFleet(bus, fleet, log, {
    db,
    get maxAgeMs() {
      return live.announce.max_age;
    },
    effects: async ({ master, origin, decision, announce }, tx) => {
      const queued = await analyzer.enqueue(master, decision.record, origin, tx);
      const n = announce ? await notifier.record(announce, tx) : 0;
      return () => {
        if (announce) {
          log.info(
            {
              master,
              builder: announce.builder.name,
              number: announce.build.number,
              event: announce.event,
              destinations: n,
            },
            'transition',
          );
        }
        if (queued) void analyzer.drain();
        if (n > 0) void notifier.flush();
      };
    },
  });
  // What a test log adds (newfailure, flaky) is announced as it is found.
  bus.on(Events.TestFinding, (t) => {
    notifier
      .record(t)
      .then((n) => {
        log.info(
          {
            master: t.master,
            builder: t.builder.name,
            number: t.build.number,
            event: t.event,
            destinations: n,
          },
          'transition',
        );
        if (n > 0) void notifier.flush();
      })
      .catch((err: unknown) => {
        storeHealth.failed(err);
        log.error({ master: t.master, event: t.event, err: errorMessage(err) }, 'announcement not recorded');
      });
  });
  bus.on(Events.AnalysisStored, () => void tests.refreshNames().catch(() => undefined));
  bus.on(Events.WatcherState, (s) => log.debug(s, 'watcher state'));

  const controlStore = new ControlStore(db);
  const control = new ControlService({
    fleet,
    store: controlStore,
    log,
    // A build may start before its request is registered: the follow-ups look once at once.
    onRequested: (master) => followUps.requested(master),
    masters: new Map(
      config.masters.map((m) => {
        const rest = watcherOf(watchers, m.name).rest;
        const client = new BuildbotControl({
          baseUrl: m.url,
          budget: rest.budget,
          timeoutMs: m.timeout,
          session: rest.session,
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
      notifier.send({ kind: 'follow-up', master, buildid, event, destination }, message),
  });
  const workers = new WorkerMonitor({
    rests: new Map(config.masters.map((m) => [m.name, watcherOf(watchers, m.name).rest])),
    graceMs: config.workers.grace,
    showMaster: config.masters.length > 1,
    log,
    announce: (alert, message) => {
      void (async () => {
        for (const destination of workerDestinations(subscriptions.rules(), alert.master)) {
          if (await mutes.hold(destination, undefined, lineText(message.title ?? []))) continue;
          await notifier.send(
            {
              kind: 'worker',
              master: alert.master,
              workerid: alert.workerid,
              event: `worker-${alert.kind}`,
              since: alert.since,
              destination,
            },
            message,
          );
        }
      })().catch((err: unknown) => {
        storeHealth.failed(err);
        log.error({ master: alert.master, err: errorMessage(err) }, 'worker alert not recorded');
      });
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
  const links = config.http?.public_url ? publicLinks(config.http.public_url) : undefined;
  const reports = new Reports(reportStore, fleet, meta, config.masters.length > 1, Date.now, links?.flaky());
  // Scheduled digests go through the outbox once per destination and minute.
  const newDigests = (schedules: Config['digest']) =>
    new DigestScheduler(
      schedules,
      reports,
      (to, minute, message) => notifier.send({ kind: 'digest', minute, destination: to }, message),
      log,
    );
  let digests = newDigests(config.digest);
  const dispatcher = new Dispatcher({
    commands,
    masters: masterHealth,
    fleet,
    tests,
    control,
    subscriptions,
    mutes,
    workers,
    reports,
    triage,
    ...(links ? { dashboard: links } : {}),
    grants: config.permissions,
    log,
    onRefused: (command, message) =>
      void controlStore
        .audit({
          platform: message.platform,
          room: message.room,
          identity: message.sender.identity,
          name: message.sender.name,
          command: command.name,
          args: [message.text.slice(0, 500)],
          outcome: 'refused',
          detail: `no '${command.permission}' permission`,
        })
        .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'refusal not audited')),
  });
  // Up before the adapters connect, so that /healthz can say what is still starting.
  const dashboard = config.http ? mountDashboard({ db, bus, fleet }) : undefined;
  const http = config.http
    ? await startHttp({ ...config.http, ops, log, routes: dashboard?.routes })
    : undefined;
  const commandInfo = commands.map(({ run: _run, ...info }) => info);
  const startAdapter = async (adapter: Adapter): Promise<void> => {
    const state = await CachedState.load(meta, adapter.platform, (err) =>
      log.warn(
        { adapter: adapter.platform, err: errorMessage(err) },
        'adapter state not stored yet; retrying',
      ),
    );
    const services: AdapterServices = {
      state,
      log: log.child({ adapter: adapter.platform }),
      commands: commandInfo,
      complete: (kind, prefix, limit) =>
        completions(fleet, commandInfo, kind, prefix, limit, { tests: (p) => tests.completeTest(p) }),
      connected: () => void notifier.retryNow(),
    };
    const onMessage = async (message: IncomingMessage) => {
      if (halted) return;
      try {
        const answer = await dispatcher.handle(message, adapter.lineLimit);
        if (answer && !halted) await adapter.send(message.room, answer);
      } catch (err) {
        log.error(
          { platform: adapter.platform, room: message.room, err: errorMessage(err) },
          'reply not sent',
        );
      }
    };
    await adapter.start(onMessage, services);
  };
  for (const adapter of adapters) await startAdapter(adapter);
  // What a previous run recorded but could not confirm as sent goes out first; so do unread logs.
  void notifier.flush();
  void analyzer.drain();
  void tests.refreshNames().catch(() => undefined);
  storeHealth.start();
  followUps.start();
  void mutes.start();
  digests.start();

  const ready = Promise.all([...watchers.values()].map((w) => w.start())).then(() => undefined);
  return {
    bus,
    fleet,
    ready,
    async reload(next, makeAdapter) {
      const plan = planReload(live, next);
      for (const platform of plan.adapters) {
        const index = adapters.findIndex((a) => a.platform === platform);
        const old = index >= 0 ? adapters.splice(index, 1)[0] : undefined;
        await old
          ?.stop()
          .catch((err: unknown) => log.warn({ platform, err: errorMessage(err) }, 'adapter stop failed'));
        const fresh = await makeAdapter(platform, next);
        if (!fresh) continue;
        try {
          await startAdapter(fresh);
          adapters.push(fresh);
        } catch (err) {
          // Its announcements wait in the outbox until a later reload or a restart brings it back.
          log.error({ platform, err: errorMessage(err) }, 'adapter did not start with the reloaded config');
          await fresh.stop().catch(() => undefined);
        }
      }
      const applied = { ...live };
      if (plan.live.length > 0 || plan.adapters.length > 0) {
        subscriptions.setDefaults(next.notify);
        dispatcher.setGrants(next.permissions);
        notifier.configure({
          groupWindowMs: next.announce.group_window,
          recoveryHoldMs: next.announce.recovery_hold,
          details: next.announce.details,
        });
        mutes.configure(next.mute.default, next.mute.max);
        if (plan.live.includes('digest')) {
          digests.stop();
          digests = newDigests(next.digest);
          digests.start();
        }
        log.level = next.log_level;
        Object.assign(applied, {
          notify: next.notify,
          permissions: next.permissions,
          announce: next.announce,
          mute: next.mute,
          digest: next.digest,
          log_level: next.log_level,
          chat: next.chat,
        });
      }
      live = applied;
      // Announcements that waited for a platform that just came (back) go out now.
      void notifier.flush();
      return plan;
    },
    halt() {
      halted = true;
    },
    async stop({ drain = true } = {}) {
      await Promise.all([...watchers.values()].map((w) => w.stop()));
      followUps.stop();
      mutes.stop();
      digests.stop();
      workers.stop();
      await analyzer.stop();
      // Deliver what is waiting (gathered also-on lines included) before the adapters go; the rest stays queued.
      if (drain && !halted) await notifier.drain(SHUTDOWN_DEADLINE_MS);
      else await notifier.stop();
      for (const adapter of adapters) await adapter.stop().catch(() => undefined);
      dashboard?.close();
      await http?.close();
      tracker.stop();
      storeHealth.stop();
      await db.destroy();
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

/** The platform of a destination (`console`, `irc:#room` → `irc`). */
function platformOf(destination: string): string {
  return destination === 'console' ? 'console' : (destination.split(':')[0] ?? '');
}

/** How long a details message waits for the culprit hint (other builders' analyses, changes). */
const CULPRIT_WAIT_MS = 3_000;

/** Days of history behind "flaky N× recently" in announcements. */
const FLAKY_DAYS = 7;

/**
 * The test-log facts of an announcement: failing and flaky tests with their recent history, and
 * why the build failed when that is known.
 */
async function logFacts(
  t: Transition,
  tests: TestHistory,
  store: TestStore,
  tracker: {
    triage: Triage;
    waitMs: number;
    buildUrl: string;
    culprit: (a: RegrtestAnalysis) => Promise<string[]>;
  },
): Promise<LogFacts | undefined> {
  const stored = await tests.analysis(t.master, t.build, false);
  const a = stored?.analysis;
  const cause = stored?.cause;
  if (!a && !cause) return undefined;
  const since = Math.floor(Date.now() / 1000) - FLAKY_DAYS * 86_400;
  const counts = await store.flakyCounts([...(a?.failed ?? []), ...(a?.flaky ?? [])], since);
  const knownIssues = new Map<string, string[]>();
  for (const name of [...(a?.failed ?? []), ...(a?.flaky ?? [])])
    knownIssues.set(
      name,
      (await tests.knownFor(name, t.builder.name)).map((k) => k.issue),
    );
  const mention = (name: string) => ({
    name,
    // This build's own flaky outcome is not "recent history".
    flakyRecently: Math.max(0, (counts.get(name) ?? 0) - (a?.flaky.includes(name) ? 1 : 0)),
    known: knownIssues.get(name) ?? [],
    how: a ? howItEnded(a, name) : undefined,
  });
  // Tests without a known issue first: they are the news.
  const byNews = (x: { known: string[] }, y: { known: string[] }) =>
    Number(x.known.length > 0) - Number(y.known.length > 0);
  return {
    failed: (a?.failed ?? []).map(mention).sort(byNews),
    flaky: (a?.flaky ?? []).map(mention).sort(byNews),
    envChanged: a?.envChanged ?? [],
    partial: a?.partial ?? false,
    logUrl: stored?.logUrl,
    flakyDays: FLAKY_DAYS,
    ...(cause ? { cause } : {}),
    // Another builder red for the same reason: the changes both have since green (at most the wait).
    ...(a && t.event === 'failure'
      ? { culprit: (await withDeadline(tracker.culprit(a), Date.now() + CULPRIT_WAIT_MS)) ?? [] }
      : {}),
    ...(a && tracker.triage.searching
      ? // Suggestions are extras: whatever goes wrong there, the test facts still go out.
        { tracker: await trackerFacts(t, a, tests, tracker).catch(() => undefined) }
      : {}),
  };
}

/**
 * Suggestions for the failing tests without a known issue, as far as the tracker answered within
 * `waitMs` (the details message never waits longer; a later `!why` finds them cached).
 */
async function trackerFacts(
  t: Transition,
  a: RegrtestAnalysis,
  tests: TestHistory,
  { triage, waitMs, buildUrl }: { triage: Triage; waitMs: number; buildUrl: string },
): Promise<TrackerFacts | undefined> {
  const knownNames = new Set<string>();
  for (const name of [...a.failed, ...a.flaky]) {
    if ((await tests.knownFor(name, t.builder.name)).length > 0) knownNames.add(name);
  }
  const unknown = (name: string) => !knownNames.has(name);
  if (a.failed.filter(unknown).length + a.flaky.filter(unknown).length === 0) return undefined;
  const now = Date.now();
  const deadline = now + waitMs;
  // The failing method and the error line are in the tracebacks, which the announcement's read of
  // the log's tail may not have reached: read them, within the same wait.
  const missing = [...a.failed, ...a.flaky].some((test) => !a.tracebacks[test]);
  const full = missing ? await withDeadline(tests.analysis(t.master, t.build, true), deadline) : undefined;
  const read = full?.analysis ?? a;
  const news = { ...read, failed: read.failed.filter(unknown), flaky: read.flaky.filter(unknown) };
  const found = await triage.suggest(news, t.builder.name, Math.max(0, deadline - Date.now()));
  const answered = found.filter((s) => s.state !== 'unavailable');
  if (answered.length === 0) return undefined;
  const failing = news.failed.length > 0 ? news.failed : news.flaky;
  const none = answered.some((s) => s.state === 'none');
  const file = none
    ? {
        url: triage.report(
          {
            builder: t.builder.name,
            buildNumber: t.build.number,
            buildUrl,
            tests: failing.map((test) => ({ test, cases: qualifiedCases(read, test) })),
            flaky: news.failed.length === 0,
          },
          builderBranch(t.builder.name, t.builder.tags ?? []),
        ).short,
        command: `!file ${t.builder.name} ${t.build.number}`,
      }
    : undefined;
  return {
    tests: answered.map((s) => ({
      test: s.test,
      suggestions: s.candidates.map((c) => suggestionText(c, now)),
      firstIssue: s.candidates[0] ? `gh-${s.candidates[0].number}` : undefined,
      issues: s.candidates.map((c) => `gh-${c.number}`),
    })),
    ...(file ? { file } : {}),
  };
}

/** The promise's value, or undefined once `deadline` (epoch ms) has passed or when it fails. */
function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
    timer.unref();
  });
  return Promise.race([promise.catch(() => undefined), late]).finally(() => clearTimeout(timer));
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
