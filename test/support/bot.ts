/**
 * Runs the real bbwatch CLI (dist/src/cli.js, built by `npm run build`) as a child process, the way
 * a user would: a YAML config, commands on stdin, announcements on stdout, JSON logs on stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [key: string]: unknown;
}

export interface StdoutLine {
  text: string;
  /** Date.now() when the line reached the test. */
  at: number;
}

export class BotProcess {
  readonly stdout: StdoutLine[] = [];
  readonly logs: LogLine[] = [];
  readonly stderrText: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(
    readonly child: ChildProcess,
    readonly configPath: string,
  ) {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        this.stdout.push({ text: out.slice(0, nl), at: Date.now() });
        out = out.slice(nl + 1);
      }
      this.wake();
    });
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      let nl: number;
      while ((nl = err.indexOf('\n')) >= 0) {
        const line = err.slice(0, nl);
        err = err.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.stderrText.push(line);
        }
      }
      this.wake();
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Types a line on the bot's stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Waits until `check` returns something truthy, re-checking on every new line of output. */
  async until<T>(what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check();
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}\n--- stdout:\n${this.stdout.map((l) => l.text).join('\n')}\n--- last logs:\n${this.logs
            .slice(-15)
            .map((l) => JSON.stringify(l))
            .join('\n')}\n${this.stderrText.join('\n')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first stdout line at or after index `from` that matches. */
  waitForLine(pattern: RegExp, from = 0, timeoutMs?: number): Promise<StdoutLine> {
    return this.until(
      `a stdout line matching ${pattern}`,
      () => this.stdout.slice(from).find((l) => pattern.test(l.text)),
      timeoutMs,
    );
  }

  waitForLog(msg: string, match: Record<string, unknown> = {}, timeoutMs?: number): Promise<LogLine> {
    return this.until(
      `a log line '${msg}' ${JSON.stringify(match)}`,
      () => this.logs.find((l) => l.msg === msg && Object.entries(match).every(([k, v]) => l[k] === v)),
      timeoutMs,
    );
  }

  /** Waits until the bot has recorded the given build (it logs that at debug level). */
  waitForBuild(buildid: number, timeoutMs?: number): Promise<LogLine> {
    return this.waitForLog('build recorded', { buildid }, timeoutMs);
  }

  /** Stdout lines that match, from index `from` on. */
  matching(pattern: RegExp, from = 0): string[] {
    return this.stdout
      .slice(from)
      .map((l) => l.text)
      .filter((t) => pattern.test(t));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    return this.exited;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** A fresh working directory with a bbwatch.yaml for the given master. */
export function writeConfig(yaml: string, dir = mkdtempSync(join(tmpdir(), 'bbwatch-it-'))): string {
  const path = join(dir, 'bbwatch.yaml');
  writeFileSync(path, yaml);
  return path;
}

export function labConfig(url: string, stream: 'ws' | 'sse' | 'poll' | 'auto', extra = ''): string {
  return `masters:
  - name: lab
    url: ${url}
    stream: ${stream}
    timeout: 5s
    poll_interval: 2s
storage: ./state.sqlite
chat:
  console: true
announce:
  group_window: 0 # these tests count announcements one by one; groups have their own tests
  details: inline # one message per announcement; the split is tested in announce.test.ts
notify:
  - to: console
    events: [failure, exception, recovery]
${extra}`;
}

// Bots still running when the test process exits (a test failed before stopping its bot) are killed.
const running = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

/** Starts the bot with `configPath` (its directory is the working directory) and waits until it is ready. */
export async function startBot(
  configPath: string,
  opts: { waitReady?: boolean; /** Options for node itself (V8 flags). */ nodeArgs?: string[] } = {},
): Promise<BotProcess> {
  const cwd = join(configPath, '..');
  const args = [...(opts.nodeArgs ?? []), CLI, '--config', configPath, '--log-level', 'debug'];
  const child = spawn(process.execPath, args, {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  track(child);
  const bot = new BotProcess(child, configPath);
  if (opts.waitReady !== false) await bot.waitForLog('ready', {}, 60_000);
  return bot;
}
