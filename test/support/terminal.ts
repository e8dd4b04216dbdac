/**
 * A real terminal for the console's tests: tmux (its own server on a private socket) runs a command
 * in a pane of a fixed size; keys go in with send-keys, and the screen as a person would see it —
 * after every cursor movement and erase the program asked for — comes out with capture-pane.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TerminalOptions {
  command: string[];
  cwd: string;
  /** The whole environment of the command (tmux starts it with this, TERM aside). */
  env: NodeJS.ProcessEnv;
  width?: number;
  height?: number;
}

export class Terminal {
  private constructor(
    private readonly socket: string,
    readonly width: number,
    readonly height: number,
  ) {}

  static async start(opts: TerminalOptions): Promise<Terminal> {
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new Error('these tests need tmux (apt-get install tmux; .ci/run installs it)');
    }
    const socket = join(mkdtempSync(join(tmpdir(), 'bbwatch-tty-')), 'tmux.sock');
    const term = new Terminal(socket, opts.width ?? 150, opts.height ?? 40);
    // The pane stays after the command exits (its last screen and exit status can be read); no
    // status bar takes a row. Given as several arguments, the command runs without a shell.
    try {
      await term.tmux(
        ['start-server', ';', 'set-option', '-g', 'remain-on-exit', 'on', ';'],
        ['set-option', '-g', 'status', 'off', ';'],
        ['new-session', '-d', '-s', 'bbwatch', '-x', String(term.width), '-y', String(term.height)],
        ['-c', opts.cwd, ...opts.command],
        opts.env,
      );
    } catch (err) {
      await term.tmux(['kill-server']).catch(() => undefined);
      throw err;
    }
    return term;
  }

  /** The screen and what scrolled off it, one string per line (wrapped rows joined), trailing blanks trimmed. */
  async screen(): Promise<string[]> {
    const text = await this.tmux(['capture-pane', '-p', '-J', '-t', 'bbwatch', '-S', '-']);
    const rows = text.split('\n').map((r) => r.trimEnd());
    while (rows.length > 0 && rows.at(-1) === '') rows.pop();
    return rows;
  }

  /** The same with the colours and attributes of each cell, as SGR escape sequences. */
  async screenWithAttributes(): Promise<string> {
    return this.tmux(['capture-pane', '-p', '-e', '-J', '-t', 'bbwatch', '-S', '-']);
  }

  /** The cursor's column and row on the visible screen. */
  async cursor(): Promise<{ x: number; y: number }> {
    const [x, y] = (await this.tmux(['display-message', '-p', '-t', 'bbwatch', '#{cursor_x} #{cursor_y}']))
      .trim()
      .split(' ')
      .map(Number);
    return { x: x ?? -1, y: y ?? -1 };
  }

  /** Types text as it is (no key names). */
  async type(text: string): Promise<void> {
    await this.tmux(['send-keys', '-t', 'bbwatch', '-l', text]);
  }

  /** Presses keys by tmux's names: Tab, Up, Enter, C-c, C-d. */
  async press(...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', 'bbwatch', ...keys]);
  }

  /**
   * Waits until `check` finds what it looks for on the screen (and the cursor there), reading both
   * again every 50 ms: what a program draws in several writes is judged once it is all drawn.
   */
  async until<T>(
    what: string,
    check: (rows: string[], cursor: { x: number; y: number }) => T | undefined | false,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cursor = await this.cursor();
      const rows = await this.screen();
      const found = check(rows, cursor);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}; the cursor at column ${cursor.x}; the screen:\n${rows.join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The command's process id, while it runs. */
  async pid(): Promise<number> {
    return Number((await this.tmux(['display-message', '-p', '-t', 'bbwatch', '#{pane_pid}'])).trim());
  }

  /** Waits for the command to exit; its exit status. */
  async exited(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const pid = await this.pid();
    for (;;) {
      const [dead, status, signal] = (
        await this.tmux([
          'display-message',
          '-p',
          '-t',
          'bbwatch',
          '#{pane_dead} #{pane_dead_status} #{pane_dead_signal}',
        ])
      ).split(' ');
      if (dead === '1' && status !== '') return Number(status);
      if (dead === '1' && signal?.trim())
        throw new Error(`killed by signal ${signal.trim()}${await this.dump()}`);
      // tmux 3.3a now and then closes a pane without reaping its process (a zombie until tmux
      // exits, so no status): the kernel has the status the process exited with.
      const zombie = dead === '1' ? zombieStatus(pid) : undefined;
      if (zombie !== undefined) {
        if (zombie & 0x7f) throw new Error(`killed by signal ${zombie & 0x7f}${await this.dump()}`);
        return (zombie >> 8) & 0xff;
      }
      if (Date.now() > deadline)
        throw new Error(`the command in the terminal did not exit${await this.dump()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async dump(): Promise<string> {
    return `; the screen:\n${(await this.screen()).join('\n')}`;
  }

  /** Stops the command (SIGTERM, as a service manager would) if it still runs, then tmux. */
  async close(): Promise<void> {
    try {
      const dead = (await this.tmux(['display-message', '-p', '-t', 'bbwatch', '#{pane_dead}'])).trim();
      if (dead !== '1') {
        process.kill(await this.pid(), 'SIGTERM');
        await this.exited();
      }
    } finally {
      await this.tmux(['kill-server']).catch(() => undefined);
    }
  }

  private tmux(...parts: Array<string[] | NodeJS.ProcessEnv>): Promise<string> {
    const args = parts.filter((p): p is string[] => Array.isArray(p)).flat();
    const env = parts.find((p): p is NodeJS.ProcessEnv => !Array.isArray(p));
    return new Promise((resolve, reject) => {
      execFile(
        'tmux',
        ['-S', this.socket, '-f', '/dev/null', ...args],
        { env: env ?? process.env, timeout: 10_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`tmux ${args[0]}: ${stderr || err.message}`)) : resolve(stdout),
      );
    });
  }
}

/** A zombie process's wait status (/proc/PID/stat, field 52, Linux 3.5+); undefined for any other. */
function zombieStatus(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The fields after the command name, which is in parentheses and may hold spaces: 3 (state) on.
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
  if (fields[0] !== 'Z') return undefined;
  const code = Number(fields[52 - 3]);
  return Number.isInteger(code) ? code : undefined;
}
