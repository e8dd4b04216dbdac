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
import { Fleet } from './state/fleet.js';
import { trackFleet } from './state/tracker.js';
import { BuildStore } from './store/builds.js';
import { openDb } from './store/db.js';
import { MetaStore } from './store/meta.js';
import { Outbox } from './store/outbox.js';

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

  const byPlatform = new Map(adapters.map((a) => [a.platform, a]));
  const notifier = new Notifier({
    outbox,
    rules: config.notify,
    fleet,
    log,
    showMaster: config.masters.length > 1,
    changes: changeLookup(watchers),
    deliver: (destination, message) => {
      const platform = destination === 'console' ? 'console' : (destination.split(':')[0] ?? '');
      const adapter = byPlatform.get(platform);
      if (!adapter) return Promise.reject(new Error(`no ${platform} adapter is running`));
      return adapter.send(destination, message);
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

  const dispatcher = new Dispatcher({ commands, fleet, grants: config.permissions, log });
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
  // What a previous run recorded but could not confirm as sent goes out first.
  void notifier.flush();

  const ready = Promise.all([...watchers.values()].map((w) => w.start())).then(() => undefined);
  return {
    bus,
    fleet,
    ready,
    async stop() {
      await Promise.all([...watchers.values()].map((w) => w.stop()));
      await notifier.stop();
      for (const adapter of adapters) await adapter.stop().catch(() => undefined);
      db.close();
    },
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
