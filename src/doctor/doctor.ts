/**
 * `bbwatch doctor [--config FILE]`: checks, in order, what the bot needs — the config, the store,
 * each master, the issue tracker, each chat platform, the HTTP listener — and prints a checklist with a fix for each
 * failure. Exit status 0 only when everything needed works. Chat platforms are checked through
 * the probes src/cli.ts hands in (the core knows no platform).
 */
import type { PlatformProbe } from '../chat/probe.js';
import { fail, ok } from '../chat/probe.js';
import { type Config, defaultConfig, loadConfigFile } from '../config/load.js';
import { ConfigError, errorMessage } from '../errors.js';
import { createLogger } from '../log.js';
import { type Db } from '../store/db.js';
import { CachedState, MetaStore } from '../store/meta.js';
import { probeStore, withoutPassword } from '../store/probe.js';
import { checklistJson, exitStatus, formatCheck, type Style, summaryLine } from './checklist.js';
import { checkListen } from './http.js';
import { checkMaster } from './masters.js';
import { CheckRunner } from './runner.js';
import { secretsOf } from './secrets.js';
import { checkTracker } from './tracker.js';

/** A room announcements or digests go to, and the key that sends them there. */
export interface Destination {
  /** Without the platform: `#lab`, `123456789012345678`, `!room:example.org`. */
  room: string;
  /** `notify[2].to`, `digest[0].to`. */
  from: string;
}

export interface DoctorOptions {
  /** The config file; the built-in default without one. */
  file: string | undefined;
  json: boolean;
  style: Style;
  logLevel: string;
  /** The probes of the chat platforms the config turns on, with the rooms each announces to. */
  probes(config: Config, destinations: Record<string, Destination[]>): Promise<PlatformProbe[]>;
  write(text: string): void;
  env?: NodeJS.ProcessEnv;
  /** A check's time unless it says otherwise (default 15 s). */
  timeoutMs?: number;
}

export async function runDoctor(opts: DoctorOptions): Promise<number> {
  const source = opts.file ?? '(built-in default)';
  const secrets: string[] = [];
  const print = (lines: string[]) => {
    if (!opts.json) opts.write(`${lines.join('\n')}\n`);
  };
  const runner = new CheckRunner({
    timeoutMs: opts.timeoutMs ?? 15_000,
    onResult: (r) => print(formatCheck(r, opts.style, secrets)),
  });
  print([`bbwatch doctor: ${source}`]);

  let config: Config | undefined;
  await runner.check('config', source, async () => {
    try {
      config = opts.file ? loadConfigFile(opts.file, opts.env) : defaultConfig(opts.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const unreadable = err.issues.length === 1 && /^cannot read the file/.test(err.issues[0] ?? '');
      return fail(
        unreadable
          ? (err.issues[0] ?? '')
          : err.issues.length === 1
            ? 'it has a problem'
            : `it has ${err.issues.length} problems`,
        unreadable ? 'check the path given to --config' : err.issues.join('\n'),
      );
    }
    secrets.push(...secretsOf(config));
    return ok(describe(config));
  });

  if (config) await checkEverything(config, opts, runner, secrets);

  if (opts.json) opts.write(`${JSON.stringify(checklistJson(runner.results, source, secrets), null, 2)}\n`);
  else print(['', summaryLine(runner.results)]);
  return exitStatus(runner.results);
}

async function checkEverything(
  config: Config,
  opts: DoctorOptions,
  runner: CheckRunner,
  secrets: string[],
): Promise<void> {
  const log = createLogger(opts.logLevel, secrets);
  const key = (path: string) => {
    const vars = config.envRefs?.[path];
    return vars && vars.length > 0 ? `${path} (from ${vars.map((v) => `$${v}`).join(', ')})` : path;
  };

  let db: Db | undefined;
  const where = config.postgres
    ? `PostgreSQL ${withoutPassword(config.postgres)}`
    : `SQLite ${config.storage}`;
  await runner.check(
    'store',
    where,
    async () => {
      try {
        const store = await probeStore(config);
        db = store.db;
        const schema =
          store.before === 0
            ? `new, schema ${store.schema}`
            : store.before !== undefined && store.before < store.schema
              ? `migrated from schema ${store.before} to ${store.schema}`
              : `schema ${store.schema}`;
        return ok(`opens, ${schema}, writable`);
      } catch (err) {
        return fail(errorMessage(err), storeFix(err, config, key));
      }
    },
    { timeoutMs: 30_000 },
  );

  for (const [index, master] of config.masters.entries()) {
    await checkMaster(master, { runner, index, key, log });
  }
  if (config.tracker) await checkTracker(config.tracker, { runner, key });

  const meta = db ? new MetaStore(db) : undefined;
  for (const probe of await opts.probes(config, destinationsOf(config))) {
    const state = meta
      ? await CachedState.load(meta, probe.platform, () => undefined).catch(() => undefined)
      : undefined;
    const services = runner.services(probe.platform, {
      key,
      state: { get: (k) => state?.get(k) },
      log: log.child({ probe: probe.platform }),
    });
    try {
      await probe.run(services);
    } catch (err) {
      await services.check('checks', async () =>
        fail(errorMessage(err), 'unexpected: run again with --log-level debug'),
      );
    }
  }

  const http = config.http;
  if (http) {
    await runner.check('http', `listen on ${http.listen}:${http.port}`, (signal) =>
      checkListen(http.listen, http.port, key, signal),
    );
  }
  await db?.destroy();
}

/** The rooms each platform announces to (notify rules, digests), first mention kept. */
export function destinationsOf(config: Pick<Config, 'notify' | 'digest'>): Record<string, Destination[]> {
  const out: Record<string, Destination[]> = {};
  const add = (to: string, from: string) => {
    if (to === 'console') return;
    const colon = to.indexOf(':');
    const platform = to.slice(0, colon);
    const room = to.slice(colon + 1);
    const list = (out[platform] ??= []);
    if (!list.some((d) => d.room === room)) list.push({ room, from });
  };
  config.notify.forEach((rule, i) => add(rule.to, `notify[${i}].to`));
  config.digest.forEach((d, i) => add(d.to, `digest[${i}].to`));
  return out;
}

function describe(config: Config): string {
  const platforms = Object.entries(config.chat)
    .filter(([, on]) => on !== undefined && on !== false)
    .map(([name]) => name);
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  return [
    `${n(config.masters.length, 'master')} (${config.masters.map((m) => m.name).join(', ')})`,
    `chat: ${platforms.join(', ') || 'none'}`,
    n(config.notify.length, 'notify rule'),
  ].join('; ');
}

function storeFix(err: unknown, config: Config, key: (path: string) => string): string {
  const message = errorMessage(err);
  const code = (err as { code?: unknown }).code;
  if (config.postgres) {
    if (/pg-native/.test(message))
      return 'install the driver: apt-get install libpq-dev, then npm install pg-native';
    if (/newer bbwatch/.test(message))
      return 'this bbwatch is older than the one that wrote the database: upgrade it';
    return `check ${key('postgres')}: the server, the database, the user and its password`;
  }
  if (/newer bbwatch/.test(message))
    return `this bbwatch is older than the one that wrote ${config.storage}: upgrade bbwatch, or point ${key('storage')} at another file`;
  if (code === 'SQLITE_BUSY')
    return 'another process holds the store locked: a bbwatch busy writing? Try again in a moment';
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
    return `${config.storage} is not a bbwatch database (or is damaged): point ${key('storage')} at another file`;
  return `bbwatch must be able to create and write ${config.storage} and its directory: fix their owner and permissions, or point ${key('storage')} at a path this user can write`;
}
