/**
 * The real bbwatch CLI with an IRC configuration, for the IRC integration tests: as
 * test/support/bot.ts, plus a test-only `!proof` command that needs the `operate` permission
 * (proof-command.mjs, preloaded with `node --import`) and extra environment (secrets).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { BotProcess, CLI } from '../bot.js';

const PROOF = fileURLToPath(new URL('./proof-command.mjs', import.meta.url));

export async function startIrcBot(
  configPath: string,
  opts: { env?: Record<string, string>; waitFor?: string } = {},
): Promise<BotProcess> {
  const child = spawn(
    process.execPath,
    ['--import', PROOF, CLI, '--config', configPath, '--log-level', 'debug'],
    {
      cwd: join(configPath, '..'),
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test', ...opts.env },
    },
  );
  const bot = new BotProcess(child, configPath);
  await bot.waitForLog(opts.waitFor ?? 'ready', {}, 60_000);
  return bot;
}

/** The log lines with this message, in order. */
export function logsOf(bot: BotProcess, msg: string): Array<Record<string, unknown>> {
  return bot.logs.filter((l) => l.msg === msg);
}
