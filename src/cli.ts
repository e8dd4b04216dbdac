#!/usr/bin/env node
/**
 * The composition root: arguments, configuration, logging, signals, and the one place that knows
 * which adapters and commands exist.
 */
import { parseArgs } from 'node:util';
import { ConsoleAdapter } from '../adapters/console/console.js';
import { COMMANDS } from '../commands/index.js';
import { startBot } from './bot.js';
import type { Adapter } from './chat/adapter.js';
import { type Config, defaultConfig, loadConfigFile } from './config/load.js';
import { ConfigError, errorMessage } from './errors.js';
import { createLogger } from './log.js';
import { VERSION } from './version.js';

const HELP = `bbwatch ${VERSION} — a chat-ops bot for Buildbot CI

Usage:
  bbwatch [--config FILE] [--log-level LEVEL]   run the bot
  bbwatch check-config FILE                     check a configuration file and exit
  bbwatch --help | --version

Options:
  -c, --config FILE      YAML configuration (see README: "Configuration reference").
                         Without it: the console adapter watching CPython's public master
                         (https://buildbot.python.org/all/), state in ./bbwatch.sqlite.
  -l, --log-level LEVEL  fatal, error, warn, info, debug, trace or silent (default: the
                         config's log_level, else info). Logs go to stderr as JSON lines.
  -h, --help             show this text
  -V, --version          show the version

With the console adapter, type commands on stdin (!status 3.x, !last <builder>, !help);
announcements and replies are printed on stdout.`;

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

  if (positionals[0] === 'check-config') {
    const file = positionals[1] ?? values.config;
    if (!file || positionals.length > 2) {
      process.stderr.write('bbwatch: usage: bbwatch check-config FILE\n');
      return 2;
    }
    const config = readConfig(file);
    if (!config) return 2;
    process.stdout.write(
      `${file}: OK — ${config.masters.length} master(s) (${config.masters.map((m) => m.name).join(', ')}), ` +
        `${config.notify.length} notify rule(s), storage ${config.storage}\n`,
    );
    return 0;
  }
  if (positionals.length > 0) {
    process.stderr.write(`bbwatch: unexpected argument '${positionals[0]}'\nTry 'bbwatch --help'.\n`);
    return 2;
  }

  const config = readConfig(values.config);
  if (!config) return 2;
  const log = createLogger(values['log-level'] ?? config.log_level, config.secrets);
  const adapters: Adapter[] = [];
  if (config.chat.console) adapters.push(new ConsoleAdapter());

  process.on('unhandledRejection', (reason) =>
    log.error({ err: errorMessage(reason) }, 'unhandled rejection'),
  );
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot({ config, adapters, commands: COMMANDS, log });
  } catch (err) {
    log.fatal({ err: errorMessage(err) }, 'cannot start');
    process.stderr.write(`bbwatch: cannot start: ${errorMessage(err)}\n`);
    return 1;
  }
  log.info(
    { masters: config.masters.map((m) => m.url), storage: config.storage, config: config.source },
    'starting',
  );

  let stopping = false;
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      bot.stop().then(
        () => resolve(0),
        (err) => {
          log.error({ err: errorMessage(err) }, 'unclean stop');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  bot.ready.then(
    () => log.info({ startupMs: Math.round(performance.now()) }, 'ready'),
    (err) => log.error({ err: errorMessage(err) }, 'watchers failed to start'),
  );
  return stopped;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'log-level': { type: 'string', short: 'l' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
  });
}

/** The configuration, or undefined after printing every problem in it. */
function readConfig(file: string | undefined): Config | undefined {
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
