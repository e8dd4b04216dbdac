#!/usr/bin/env node
/**
 * The composition root: arguments, configuration, logging, signals, and the one place that knows
 * which adapters and commands exist.
 */
import { parseArgs } from 'node:util';
import type { Leadership } from './replica/leader.js';
import type { RunningBot } from './bot.js';
import type { Adapter } from './chat/adapter.js';
import type { PlatformProbe } from './chat/probe.js';
import type { Config } from './config/load.js';
import type { Destination } from './doctor/doctor.js';
import { ConfigError, errorMessage } from './errors.js';
import type { Logger } from './log.js';
import { colourWanted, defaultLogFormat, LOG_FORMATS, type LogFormat, LogOutput } from './log-output.js';
import { analyzeCommand } from './tools/analyze.js';
import { limitHeapGrowth } from './heap-policy.js';
import { VERSION } from './version.js';

// The bot's modules (chat libraries, store, config schema) are imported where they are used:
// `bbwatch analyze FILE` should start in milliseconds, not load the whole bot first.

const HELP = `bbwatch ${VERSION} — a chat-ops bot for Buildbot CI

Usage:
  bbwatch [--config FILE] [--log-level LEVEL]   run the bot
  bbwatch check-config FILE                     check a configuration file and exit
  bbwatch doctor [--config FILE] [--json]       check that everything the bot needs works, with a fix for each problem
  bbwatch analyze LOG|BUILD-URL|- [--json] [--config FILE]
                                              analyse a regrtest log (a file, stdin, or a build on a master;
                                              a master of the config is read with its auth)
  bbwatch backfill [--config FILE] [--days N]   analyse the past N days' orange, red and purple builds (default 7)
  bbwatch --help | --version

Options:
  -c, --config FILE      YAML configuration (see README: "Configuration reference").
                         Without it: the console adapter watching CPython's public master
                         (https://buildbot.python.org/all/), state in ./bbwatch.sqlite.
  -l, --log-level LEVEL  fatal, error, warn, info, debug, trace or silent (default: the
                         config's log_level, else info; pretty logs: warn and above).
      --log-format FMT   pretty (one readable line per entry; the default when stderr is
                         a terminal) or json (JSON lines; the default otherwise). Logs go
                         to stderr.
      --json             analyze: print a JSON object (result, seed, failed, flaky, envChanged,
                         crashed, timedOut, leaked, partial, ...); doctor: the checklist as JSON
      --step NAME        analyze: the step holding the test output (default test)
      --log SLUG         analyze: its log (default stdio)
      --days N           backfill: how many days back (default 7)
  -h, --help             show this text
  -V, --version          show the version

bbwatch doctor checks, in order: the config; the store (opens, migrates, writable); each master
(reachable, versions, WebSocket and SSE, the bot's login and force schedulers); each chat platform
(IRC: connect, TLS, login, joins; Discord: token, intents, channels; Matrix: /whoami, rooms, power
levels); the HTTP listener. It exits 0 only when everything needed works (README: "bbwatch doctor").

With the console adapter, type commands on stdin (!status 3.x, !last <builder>, !help);
announcements and replies are printed on stdout. With http: in the configuration, GET /healthz
and /metrics answer (on 127.0.0.1 by default; see README: "Operations"), and the dashboard's
pages (/, /flaky, /tests/NAME, /builders/MASTER/NAME; README: "Dashboard"); digest: schedules
digests like !report's (README: "Digests"). With postgres: the state is in PostgreSQL and two
processes may share it, one leading (README: "Two replicas (PostgreSQL)").

On a terminal the console has a prompt, line editing, history (~/.local/state/bbwatch/history,
or under $XDG_STATE_HOME), Tab completion of commands, builders, branches and tests, and colours
(not with NO_COLOR set); Ctrl-C drops a typed line, and on an empty line, like Ctrl-D, quits.

Signals: SIGTERM or SIGINT delivers what is queued (5 s at most), says goodbye on each platform and
exits 0; SIGHUP reloads the config file: notify rules, permissions, announce, mute, digest and
log_level at once, a chat platform whose settings changed is reconnected (the others stay
connected); changes to masters, storage, http or workers are logged as needing a restart.`;

/** Log lines for a terminal on stderr: the interactive console prints them above its prompt. */
const terminalLogs = new LogOutput(2);

/** Set once a stop began: a late SIGHUP then changes nothing. */
let stoppingNow = false;

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`bbwatch: ${errorMessage(err)}\nTry 'bbwatch --help'.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (values['log-level'] !== undefined && !LEVELS.has(values['log-level'])) {
    process.stderr.write(`bbwatch: --log-level must be one of ${[...LEVELS].join(', ')}\n`);
    return 2;
  }
  const format = values['log-format'];
  if (format !== undefined && !LOG_FORMATS.includes(format as LogFormat)) {
    process.stderr.write(`bbwatch: --log-format must be one of ${LOG_FORMATS.join(', ')}\n`);
    return 2;
  }

  if (positionals[0] === 'check-config') {
    const file = positionals[1] ?? values.config;
    if (!file || positionals.length > 2) {
      process.stderr.write('bbwatch: usage: bbwatch check-config FILE\n');
      return 2;
    }
    const config = await readConfig(file);
    if (!config) return 2;
    process.stdout.write(
      `${file}: OK — ${config.masters.length} master(s) (${config.masters.map((m) => m.name).join(', ')}), ` +
        `${config.notify.length} notify rule(s), storage ${config.postgres ? 'PostgreSQL' : config.storage}\n`,
    );
    return 0;
  }
  if (positionals[0] === 'doctor') {
    if (positionals.length > 1) {
      process.stderr.write('bbwatch: usage: bbwatch doctor [--config FILE] [--json]\n');
      return 2;
    }
    const { runDoctor } = await import('./doctor/doctor.js');
    return runDoctor({
      file: values.config,
      json: Boolean(values.json),
      style: process.stdout.isTTY && !process.env.NO_COLOR ? 'tty' : 'plain',
      logLevel: values['log-level'] ?? 'silent',
      probes: createProbes,
      write: (text: string) => process.stdout.write(text),
    });
  }
  if (positionals[0] === 'analyze') {
    const target = positionals[1];
    if (!target || positionals.length > 2) {
      process.stderr.write('bbwatch: usage: bbwatch analyze <log file | build URL | -> [--json]\n');
      return 2;
    }
    // A build URL on a private master is read with the config's login for it (--config).
    let masters: Config['masters'] = [];
    if (values.config && /^https?:\/\//.test(target)) {
      const config = await readConfig(values.config);
      if (!config) return 2;
      masters = config.masters;
    }
    return analyzeCommand(target, {
      json: Boolean(values.json),
      logs: { step: values.step ?? 'test', log: values.log ?? 'stdio' },
      masters,
    });
  }
  if (positionals[0] === 'backfill') {
    const days = Number(values.days ?? '7');
    if (!Number.isFinite(days) || days <= 0 || days > 3650 || positionals.length > 1) {
      process.stderr.write(
        'bbwatch: usage: bbwatch backfill [--config FILE] [--days N]   (N from 1 to 3650)\n',
      );
      return 2;
    }
    const config = await readConfig(values.config);
    if (!config) return 2;
    const { backfillCommand } = await import('./tools/backfill.js');
    return backfillCommand(config, days, await loggerFor(values, config));
  }
  if (positionals.length > 0) {
    process.stderr.write(`bbwatch: unexpected argument '${positionals[0]}'\nTry 'bbwatch --help'.\n`);
    return 2;
  }

  const config = await readConfig(values.config);
  if (!config) return 2;
  // The bot runs for months: its heap stays near twice what it holds (src/heap-policy.ts).
  limitHeapGrowth();
  const [{ COMMANDS }, { startBot }, { awaitLeadership }] = await Promise.all([
    import('../commands/index.js'),
    import('./bot.js'),
    import('./replica/standby.js'),
  ]);
  const log = await loggerFor(values, config);
  let adapters = await createAdapters(config);

  process.on('unhandledRejection', (reason) =>
    log.error({ err: errorMessage(reason) }, 'unhandled rejection'),
  );
  let bot: RunningBot | undefined;
  /** Resolves with the exit status once a signal asked to stop (and the bot, if one runs, stopped). */
  let stopRequested: (signal: string) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    stopRequested = (signal: string) => {
      if (stoppingNow) return;
      stoppingNow = true;
      log.info({ signal }, 'stopping');
      if (!bot) return resolve(0); // standing by: nothing to stop
      // Whatever the bot is doing (a stalled database included), the process ends within seconds.
      const deadline = setTimeout(() => {
        log.error({ afterMs: STOP_DEADLINE_MS }, 'stop did not finish in time; exiting');
        resolve(1);
      }, STOP_DEADLINE_MS);
      bot
        .stop()
        .then(
          () => resolve(0),
          (err: unknown) => {
            log.error({ err: errorMessage(err) }, 'unclean stop');
            resolve(1);
          },
        )
        .finally(() => clearTimeout(deadline));
    };
  });
  process.on('SIGINT', () => stopRequested('SIGINT'));
  process.on('SIGTERM', () => stopRequested('SIGTERM'));
  // SIGHUP: read the config file again and take over what changed; reloads run one at a time.
  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    const running = bot;
    if (!running) return void log.info('SIGHUP while standing by: nothing to reload');
    reloading = reloading.then(() => reloadConfig(values.config, running, config, log));
  });

  // With PostgreSQL, two processes may share the store: only the leader runs the bot (README: "Two
  // replicas"). A leader that loses its lock steps down (it stops sending at once, then stops the
  // bot), stands by, and leads again when it can: a database restart is ridden out in-process.
  for (let term = 0; ; term++) {
    let lost: (reason: string) => void = () => undefined;
    let held: Leadership | undefined;
    const lostLead = new Promise<string>((resolve) => (lost = resolve));
    try {
      if (term > 0) adapters = await createAdapters(config);
      const leadership = await Promise.race([
        awaitLeadership(config, log, (reason) => {
          // Another process may lead from now on: not one more message from this one.
          bot?.halt();
          lost(reason);
        }),
        stopped.then(() => undefined),
      ]);
      if (stoppingNow) {
        await leadership?.release();
        return stopped;
      }
      held = leadership;
      bot = await startBot({
        config,
        adapters,
        commands: COMMANDS,
        log,
        ...(leadership
          ? {
              onStoreStalled: (reason: string) => {
                // Not one more message from this one; then the lock goes, so a standby may lead
                // while this process stops its bot.
                bot?.halt();
                void leadership.release();
                lost(reason);
              },
            }
          : {}),
      });
    } catch (err) {
      log.fatal({ err: errorMessage(err) }, 'cannot start');
      process.stderr.write(`bbwatch: cannot start: ${errorMessage(err)}\n`);
      return 1;
    }
    log.info(
      {
        masters: config.masters.map((m) => m.url),
        storage: config.postgres ? 'postgres' : config.storage,
        config: config.source,
        ...(term > 0 ? { term } : {}),
      },
      'starting',
    );
    const running = bot;
    running.ready.then(
      () => log.info({ startupMs: Math.round(performance.now()) }, 'ready'),
      (err: unknown) => log.error({ err: errorMessage(err) }, 'watchers failed to start'),
    );
    const outcome = await Promise.race([stopped.then(() => 'stopped' as const), lostLead]);
    if (outcome === 'stopped') return stopped;
    log.warn({ reason: outcome }, 'stepping down: standing by to lead again');
    await running
      .stop({ drain: false })
      .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'unclean step-down'));
    bot = undefined;
    // The lock goes with the session (already, when it was lost): another process may lead.
    await held?.release();
    if (stoppingNow) return stopped;
    // A standby (which asks every second) gets the first chance to lead.
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, STEP_DOWN_PAUSE_MS))]);
    if (stoppingNow) return stopped;
  }
}

/** How long a process that stepped down waits before it asks to lead again. */
const STEP_DOWN_PAUSE_MS = 3_000;

/** How long a stop (SIGTERM) may take before the process ends anyway. */
const STOP_DEADLINE_MS = 10_000;

/**
 * The adapters the configuration turns on. Each platform's library is loaded only when it is
 * configured: discord.js and matrix-js-sdk cost seconds and tens of MiB at start-up.
 */
async function createAdapters(config: Config): Promise<Adapter[]> {
  const adapters: Adapter[] = [];
  for (const platform of ['console', 'discord', 'matrix', 'irc']) {
    const adapter = await createAdapter(platform, config);
    if (adapter) adapters.push(adapter);
  }
  return adapters;
}

/** The adapter of one platform, or undefined when the configuration does not turn it on. */
async function createAdapter(platform: string, config: Config): Promise<Adapter | undefined> {
  if (platform === 'console' && config.chat.console) {
    const { ConsoleAdapter } = await import('../adapters/console/console.js');
    return new ConsoleAdapter({
      colour: colourWanted(Boolean(process.stdout.isTTY)),
      ...(process.stderr.isTTY ? { logs: terminalLogs } : {}),
    });
  }
  if (platform === 'discord' && config.chat.discord) {
    const { DiscordAdapter } = await import('../adapters/discord/discord.js');
    const { discordAdapterOptions } = await import('./config/chat-discord.js');
    return new DiscordAdapter(discordAdapterOptions(config.chat.discord));
  }
  if (platform === 'matrix' && config.chat.matrix) {
    const { MatrixAdapter } = await import('../adapters/matrix/matrix.js');
    const m = config.chat.matrix;
    // Rooms that announcements go to are joined at start too.
    const announced = config.notify.filter((r) => r.to.startsWith('matrix:')).map((r) => r.to.slice(7));
    return new MatrixAdapter({
      homeserver: m.homeserver,
      userId: m.user_id,
      accessToken: m.access_token,
      password: m.password,
      deviceName: m.device_name,
      rooms: [...new Set([...m.rooms, ...announced])],
      invitesFrom: m.invites_from,
      powerLevels: m.power_levels,
      lineLimit: m.line_limit,
    });
  }
  if (platform === 'irc' && config.chat.irc) {
    const { IrcAdapter } = await import('../adapters/irc/irc.js');
    return new IrcAdapter(config.chat.irc);
  }
  return undefined;
}

/** `bbwatch doctor`'s probes of the chat platforms the configuration turns on, loaded as the adapters are. */
async function createProbes(config: Config, rooms: Record<string, Destination[]>): Promise<PlatformProbe[]> {
  const probes: PlatformProbe[] = [];
  const { irc, discord, matrix } = config.chat;
  if (irc) {
    const { IrcProbe } = await import('../adapters/irc/probe.js');
    const channels = irc.channels.map((c, i) => ({ ...c, from: `chat.irc.channels[${i}]` }));
    const known = new Set(channels.map((c) => c.name.toLowerCase()));
    // Channels announced to but not configured are joined on demand: they must admit the bot too.
    for (const d of rooms.irc ?? [])
      if (/^[#&]/.test(d.room) && !known.has(d.room.toLowerCase()))
        channels.push({ name: d.room, from: d.from });
    probes.push(new IrcProbe(irc, channels));
  }
  if (discord) {
    const { DiscordProbe } = await import('../adapters/discord/probe.js');
    const charts = new Set(config.digest.map((d) => d.to));
    probes.push(
      new DiscordProbe({
        token: discord.token,
        api: discord.api,
        // `auto` asks for the Message Content intent only when the Portal grants it: no failure to probe.
        prefixCommands: discord.prefix_commands === true,
        slashCommands: discord.slash_commands,
        guilds: discord.guilds,
        channels: (rooms.discord ?? []).map((d) => ({
          id: d.room,
          from: d.from,
          images: charts.has(`discord:${d.room}`),
        })),
      }),
    );
  }
  if (matrix) {
    const { MatrixProbe } = await import('../adapters/matrix/probe.js');
    const configured = matrix.rooms.map((room, i) => ({ room, from: `chat.matrix.rooms[${i}]` }));
    const more = (rooms.matrix ?? []).filter((d) => !matrix.rooms.includes(d.room));
    probes.push(
      new MatrixProbe({
        homeserver: matrix.homeserver,
        userId: matrix.user_id,
        accessToken: matrix.access_token,
        password: matrix.password,
        deviceName: matrix.device_name,
        rooms: [...configured, ...more],
        powerLevels: matrix.power_levels,
      }),
    );
  }
  return probes;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'log-level': { type: 'string', short: 'l' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
      json: { type: 'boolean' },
      days: { type: 'string' },
      step: { type: 'string' },
      log: { type: 'string' },
    },
  });
}

/**
 * The logger --log-level and --log-format ask for. Readable lines (a terminal's default) show
 * warnings and above unless --log-level is given; JSON lines follow the config's log_level as
 * they always did.
 */
async function loggerFor(
  values: { 'log-level'?: string; 'log-format'?: string },
  config: Config,
): Promise<Logger> {
  // Imported here: `bbwatch analyze` logs nothing and should not pay for loading pino.
  const { createLogger } = await import('./log.js');
  const tty = Boolean(process.stderr.isTTY);
  const format = (values['log-format'] as LogFormat | undefined) ?? defaultLogFormat(tty);
  return createLogger(values['log-level'] ?? config.log_level, config.secrets, {
    format,
    colour: colourWanted(tty),
    ...(tty ? { output: terminalLogs } : {}),
    ...(format === 'pretty' && values['log-level'] === undefined ? { floor: 'warn' } : {}),
  });
}

/** One SIGHUP: a bad file is reported and the running config kept; nothing is dropped for it. */
async function reloadConfig(
  file: string | undefined,
  bot: RunningBot,
  running: Config,
  log: Logger,
): Promise<void> {
  if (stoppingNow) return;
  if (!file) {
    log.warn('SIGHUP: no config file to reload (running on the built-in default)');
    return;
  }
  let next: Config;
  try {
    const { loadConfigFile } = await import('./config/load.js');
    next = loadConfigFile(file);
  } catch (err) {
    const issues = err instanceof ConfigError ? err.issues : [errorMessage(err)];
    log.error(
      { config: file, problems: issues },
      'config not reloaded: it has problems; the running one stays',
    );
    return;
  }
  // Values of the new file's environment references are masked in logs like the first ones.
  for (const secret of next.secrets) if (!running.secrets.includes(secret)) running.secrets.push(secret);
  try {
    const plan = await bot.reload(next, createAdapter);
    log.info(
      {
        config: file,
        applied: plan.live,
        reconnected: plan.adapters,
        ...(plan.needRestart.length > 0 ? { needRestart: plan.needRestart } : {}),
      },
      plan.needRestart.length > 0 ? 'config reloaded; some changes need a restart' : 'config reloaded',
    );
  } catch (err) {
    log.error({ config: file, err: errorMessage(err) }, 'config reload failed');
  }
}

/** The configuration, or undefined after printing every problem in it. */
async function readConfig(file: string | undefined): Promise<Config | undefined> {
  const { defaultConfig, loadConfigFile } = await import('./config/load.js');
  try {
    return file ? loadConfigFile(file) : defaultConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      const [first] = err.issues;
      const where = err.message.slice(0, err.message.indexOf(':'));
      if (err.issues.length === 1) process.stderr.write(`bbwatch: ${where}: ${first}\n`);
      else
        process.stderr.write(
          `bbwatch: ${where}: ${err.issues.length} problems:\n${err.issues.map((i) => `  - ${i}\n`).join('')}`,
        );
      return undefined;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bbwatch: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
