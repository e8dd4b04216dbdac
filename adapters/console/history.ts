import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { sanitizeText } from '../../src/chat/render-kit.js';

/** Commands kept across runs. */
export const HISTORY_SIZE = 500;

/**
 * The console's history file, in the XDG state directory: `$XDG_STATE_HOME/bbwatch/history`, else
 * `~/.local/state/bbwatch/history`; undefined without a home directory. One history per user, like
 * a shell's: the same commands are worth recalling whichever config a bot runs with.
 */
export function historyFile(env: NodeJS.ProcessEnv = process.env, home = homedir()): string | undefined {
  // The XDG spec says to ignore a relative path.
  const state = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : undefined;
  if (state) return join(state, 'bbwatch', 'history');
  return home ? join(home, '.local', 'state', 'bbwatch', 'history') : undefined;
}

/** The saved commands, newest first (as readline keeps them); none when there is no file yet. */
export function loadHistory(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text
    .split('\n')
    .map((line) => sanitizeText(line).trimEnd())
    .filter((line) => line.trim() !== '')
    .slice(-HISTORY_SIZE)
    .reverse();
}

/** Writes the commands (newest first) oldest first, one a line, replacing the file in one step. */
export function saveHistory(file: string, newestFirst: readonly string[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const lines = newestFirst
    .slice(0, HISTORY_SIZE)
    .map((l) => l.trimEnd())
    .reverse();
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  renameSync(temp, file);
}
