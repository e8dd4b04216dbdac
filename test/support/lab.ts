/**
 * A real Buildbot master + worker on 127.0.0.1 for integration tests.
 *
 * Needs Debian's `buildbot` and `buildbot-worker` (3.7) on PATH. The master configuration, the
 * builders' test step (CPython's regrtest over three tiny test files) and the stub web plugin Debian's
 * packaging needs live in test/support/lab/ (see master.cfg there for the scenarios).
 *
 *   const lab = await startLab({ branches: ['3.x'], platforms: ['AMD64 Debian root:stable,tier-1'] });
 *   const build = await lab.runBuild('AMD64 Debian root 3.x', 'fail'); // build.results === 2
 *   await lab.close();
 *
 * `version: '4.3'` runs a Buildbot 4.3.0 master instead (the version buildbot.python.org runs), from
 * the upstream tarball through test/support/lab4/bb4, with the same master.cfg, builders, scenarios and
 * (Debian's 3.7) worker; `LAB_VERSIONS` lists the versions the suite runs against ({@link LAB_VERSIONS}).
 *
 * Set LAB_KEEP=1 to keep the lab directory after close() (its path is printed) for post-mortems.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/** The lab sources: master.cfg, regrtest_step.sh, tests/, pyext/. */
export const LAB_SRC = fileURLToPath(new URL('./lab/', import.meta.url));
/** Buildbot 4.3's `buildbot` command, run from the upstream tarball (see the script). */
export const BB4 = fileURLToPath(new URL('./lab4/bb4', import.meta.url));

/** The Buildbot versions a lab can run: Debian's 3.7 and upstream 4.3.0. */
export type LabVersion = '3.7' | '4.3';
/**
 * The versions the master-facing integration tests run against, for `describe.each`. Both by
 * default; `LAB_VERSIONS=3.7` (or `4.3`) narrows a run by hand.
 */
export const LAB_VERSIONS: readonly LabVersion[] = labVersions(process.env.LAB_VERSIONS);

function labVersions(value: string | undefined): LabVersion[] {
  if (value === undefined || value.trim() === '') return ['3.7', '4.3'];
  const wanted = value.split(/[\s,]+/).filter(Boolean);
  const bad = wanted.filter((v) => v !== '3.7' && v !== '4.3');
  if (bad.length > 0) throw new Error(`LAB_VERSIONS: unknown version ${bad.join(', ')} (3.7 or 4.3)`);
  return wanted as LabVersion[];
}

/** Buildbot result codes (the bot's own definition). */
export { Results } from '../../src/buildbot/types.js';

/**
 * What the next builds do. `pass` → 0, `warn` → 1 (env changed), `flaky` → 1 (fails, passes on
 * re-run), `fail` → 2, `exception` → 4 (the step raises on the master), `big:N` → 0 after N MiB of log,
 * `failtail:N` → 2 with N lines after regrtest's summary, `slow:S` → 0 after S seconds (a line every
 * 5 s), `hang` → 2 (a test never returns; Buildbot kills the step after LAB_SILENCE_TIMEOUT s without
 * output, default 20), `compile` → 2 (the compile step fails with a C compiler error, no test step),
 * `disk` → 2 (the compile step runs out of disk space), `checkout` → 2 (the git step cannot clone),
 * `crash` → 2 (a test aborts its worker, `-j2`), `timeout` → 2 (a test outlives regrtest's
 * `--timeout 3`), `envrerun` → 2 (a test changes the environment under `--fail-env-changed`, another
 * fails once and passes on re-run). See test/support/lab/README.md.
 */
export type Scenario =
  | 'pass'
  | 'warn'
  | 'flaky'
  | 'fail'
  | 'exception'
  | 'hang'
  | 'compile'
  | 'disk'
  | 'checkout'
  | 'crash'
  | 'timeout'
  | 'envrerun'
  | `big:${number}`
  | `failtail:${number}`
  | `slow:${number}`;

/** A build as /api/v2/builds returns it. */
export interface BuildJson {
  buildid: number;
  number: number;
  builderid: number;
  buildrequestid: number;
  workerid: number;
  masterid: number;
  started_at: number;
  complete_at: number | null;
  complete: boolean;
  state_string: string;
  /** null while running; see {@link Results}. */
  results: number | null;
  properties?: Record<string, [unknown, string]>;
}

export interface BuilderInfo {
  builderid: number;
  name: string;
  tags: string[];
}

export interface ForceResult {
  bsid: number;
  /** Buildrequest id per builder name (Buildbot itself answers per builderid). */
  brids: Record<string, number>;
  /** The build each request started, per builder name (force() waits until they exist). */
  builds: Record<string, BuildJson>;
}

/** A change as a push would bring it (Buildbot's base change hook, see master.cfg). */
export interface LabChange {
  revision: string;
  /** `Jane Doe <jane@example.org>`. */
  author: string;
  comments: string;
  /** `main` builds the lab's 3.x builders, `3.14` its 3.14 builders (all of them, at once). */
  branch: string;
  /** What the change's builds do (its `lab_scenario` property): comes before any scenario file. */
  scenario?: Scenario;
  repository?: string;
  project?: string;
}

export interface LabOptions {
  /** Buildbot 3.7 (Debian's, the default) or 4.3.0 (upstream, see test/support/lab4/bb4). */
  version?: LabVersion;
  /**
   * No anonymous reads (LAB_PRIVATE in master.cfg): REST answers 403, and a 4.3 WebSocket refuses
   * the upgrade, unless a user (`bot` or `nobody`) is logged in. The lab's own requests log in.
   */
  private?: boolean;
  /** LAB_BRANCHES; default 3.x 3.14 3.13. */
  branches?: string[];
  /** LAB_PLATFORMS entries, "platform:tag,tag"; default four platforms (see master.cfg). */
  platforms?: string[];
  /** Extra environment for master and worker (e.g. BB_IRC_PORT, BB_IRC_CHANNEL). */
  env?: Record<string, string>;
  /** How long the master may take to come up (default 60 s). */
  startTimeoutMs?: number;
}

export interface Lab {
  /** The Buildbot version the master runs. */
  version: LabVersion;
  /** 'http://127.0.0.1:PORT/' (equals the master's c['buildbotURL']). */
  url: string;
  httpPort: number;
  pbPort: number;
  /** The lab directory: master/, worker/, scenario/. */
  dir: string;
  /** Scenario for one builder, or the default one (for builders without their own) when builder is omitted. */
  setScenario(scenario: Scenario, builder?: string): Promise<void>;
  /** Forces through JSON-RPC as bot:botpass and waits until every requested build exists. */
  force(builderNames: string[], scheduler?: string, params?: Record<string, unknown>): Promise<ForceResult>;
  /**
   * Posts a change to the master's change hook (POST /change_hook/base) and waits until every build
   * it started exists (per builder name, as {@link force} answers).
   */
  pushChange(change: LabChange): Promise<ForceResult>;
  /** Polls the REST API until the build is complete. */
  waitForBuild(builderName: string, number: number, timeoutMs?: number): Promise<BuildJson>;
  /** Sets the builder's scenario (when given), forces it, waits, returns the finished build. */
  runBuild(builderName: string, scenario?: Scenario, timeoutMs?: number): Promise<BuildJson>;
  builders(): Promise<BuilderInfo[]>;
  /** GET http://127.0.0.1:PORT/api/v2/<path>, parsed (logged in as bot:botpass on a private lab). */
  api<T>(path: string): Promise<T>;
  /** GET http://127.0.0.1:PORT/api/v2/<path> as it comes: status, headers, body. */
  get(path: string): Promise<{ status: number; headers: Headers; body: string }>;
  /** Last lines of the master's or worker's twistd.log. */
  logTail(which?: 'master' | 'worker', lines?: number): Promise<string>;
  /** Stops the master only; the worker keeps retrying. */
  stopMaster(): Promise<void>;
  /** Starts the master and waits until the API answers and the worker is connected again. */
  startMaster(): Promise<void>;
  restartMaster(): Promise<void>;
  /** Stops the worker (cleanly: the master sees it disconnect); the master keeps running. */
  stopWorker(): Promise<void>;
  /** Starts the worker again and waits until the master has it connected. */
  startWorker(): Promise<void>;
  /** Stops master and worker and removes the directory. Idempotent. */
  close(): Promise<void>;
}

const USER = 'bot';
const PASSWORD = 'botpass';
const WORKER = 'w1';
const WORKER_PASSWORD = 'pass';

// Processes we started, killed (whole process group) if the test process exits without close().
const live = new Set<number>();
let exitHook = false;
function track(pid: number): void {
  live.add(pid);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const p of live) killGroup(p, 'SIGKILL');
    });
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Where bb4 unpacks Buildbot 4.3: $BB4_SRC when set, else the test run's directory (made by
 * test/support/lab4/global-setup.ts), else one of this process's own, removed when it exits.
 */
let ownBb4Dir: string | undefined;
function bb4Src(): string {
  if (process.env.BB4_SRC) return process.env.BB4_SRC;
  let provided: string | undefined;
  try {
    provided = inject('bb4Src');
  } catch {
    // not under Vitest's test runner
  }
  if (provided) return provided;
  if (ownBb4Dir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'bbwatch-bb4-'));
    ownBb4Dir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return join(ownBb4Dir, 'buildbot-4.3.0');
}

/** Checked once per process: bb4 unpacks the tarball and Debian's Python can import Buildbot 4.3. */
let bb4Checked: Promise<void> | undefined;
function checkBb4(env: NodeJS.ProcessEnv): Promise<void> {
  bb4Checked ??= run(BB4, ['--version'], env).then(
    (out) => {
      if (!/^Buildbot version: 4\.3\.0$/m.test(out)) throw new Error(`bb4 --version said: ${out}`);
    },
    (err: unknown) => {
      throw new Error(
        'Buildbot 4.3 cannot run here: it needs the tarball (../shared/lab/buildbot4/, or BB4_TARBALL) and ' +
          'apt-get install buildbot buildbot-worker python3-treq python3-croniter python3-typing-extensions' +
          ` (README, "Tests and benchmarks")\n${err instanceof Error ? err.message : String(err)}`,
      );
    },
  );
  return bb4Checked;
}

async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') throw new Error('no port');
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** The scenario file name for a builder: bytes outside [A-Za-z0-9._-] become '_' (as in the step script). */
export function scenarioFileName(builder?: string): string {
  if (builder === undefined) return 'default';
  return Array.from(Buffer.from(builder, 'utf8'), (b) => {
    const ch = String.fromCharCode(b);
    return /[A-Za-z0-9._-]/.test(ch) ? ch : '_';
  }).join('');
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return `(no ${file})`;
  }
}

/** A twistd daemon run in the foreground (`--nodaemon`), in its own process group. */
class Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  exitStatus: string | undefined;
  private output = '';

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-4000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise<void>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve();
      });
      this.child.once('error', (err) => {
        this.exitStatus = `spawn error: ${err.message}`;
        resolve();
      });
    });
    const pid = this.child.pid;
    if (pid !== undefined) {
      track(pid);
      void this.exited.then(() => live.delete(pid));
    }
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  get consoleOutput(): string {
    return this.output.trim();
  }

  /** SIGTERM (twistd shuts down cleanly), then SIGKILL for the whole group after timeoutMs. */
  async stop(timeoutMs = 15_000): Promise<void> {
    const pid = this.child.pid;
    if (!this.running || pid === undefined) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
    const done = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    // Whatever the daemon started (a running build step) goes too.
    killGroup(pid, 'SIGKILL');
    if (!done) await Promise.race([this.exited, sleep(5_000)]);
  }
}

class LabImpl implements Lab {
  readonly version: LabVersion;
  url: string;
  readonly dir: string;
  httpPort: number;
  pbPort: number;
  private master: Daemon | undefined;
  private worker: Daemon | undefined;
  private cookie: string | undefined;
  private builderCache = new Map<string, BuilderInfo>();
  private closed = false;
  private readonly startTimeoutMs: number;
  private readonly extraEnv: Record<string, string>;
  private readonly branches: string[] | undefined;
  private readonly platforms: string[] | undefined;
  private readonly private: boolean;

  constructor(dir: string, opts: LabOptions) {
    this.version = opts.version ?? '3.7';
    this.private = opts.private ?? false;
    this.dir = dir;
    this.httpPort = 0;
    this.pbPort = 0;
    this.url = '';
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.extraEnv = opts.env ?? {};
    this.branches = opts.branches;
    this.platforms = opts.platforms;
  }

  get masterDir(): string {
    return join(this.dir, 'master');
  }

  get workerDir(): string {
    return join(this.dir, 'worker');
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // Hermetic: only what this lab says (an outer lab's settings must not leak in).
    for (const k of Object.keys(env)) if (/^(LAB_|BB_)/.test(k)) delete env[k];
    Object.assign(env, {
      LAB_DIR: this.dir,
      LAB_SRC: LAB_SRC,
      BB_HTTP_PORT: String(this.httpPort),
      BB_PB_PORT: String(this.pbPort),
      PYTHONPATH: join(LAB_SRC, 'pyext'),
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
    });
    if (this.branches) env.LAB_BRANCHES = this.branches.join(' ');
    if (this.platforms) env.LAB_PLATFORMS = this.platforms.join(';');
    if (this.private) env.LAB_PRIVATE = '1';
    if (this.version === '4.3') env.BB4_SRC = bb4Src();
    Object.assign(env, this.extraEnv);
    return env;
  }

  /** The master's `buildbot` command: Debian's for 3.7, bb4 for 4.3. */
  get buildbot(): string {
    return this.version === '4.3' ? BB4 : 'buildbot';
  }

  async create(): Promise<void> {
    await mkdir(join(this.dir, 'scenario'), { recursive: true });
    if (this.version === '4.3') await checkBb4(this.env());
    await run(this.buildbot, ['create-master', '-r', this.masterDir], this.env());
    // A symlink, so master.cfg finds regrtest_step.sh and tests/ next to its real path.
    await rm(join(this.masterDir, 'master.cfg'), { force: true });
    await symlink(join(LAB_SRC, 'master.cfg'), join(this.masterDir, 'master.cfg'));
  }

  async createWorker(): Promise<void> {
    await rm(this.workerDir, { recursive: true, force: true });
    await run(
      'buildbot-worker',
      ['create-worker', '-r', this.workerDir, `127.0.0.1:${this.pbPort}`, WORKER, WORKER_PASSWORD],
      this.env(),
    );
    // Twisted's default reconnect backoff grows to 60 s; after a master restart we want the worker
    // back within a couple of seconds.
    const tac = join(this.workerDir, 'buildbot.tac');
    const patch = [
      '',
      '# bbwatch lab: reconnect quickly after a master restart.',
      'import buildbot_worker.pb as _lab_pb',
      'from twisted.application.internet import backoffPolicy as _lab_backoff',
      '_lab_pb.backoffPolicy = lambda *a, **k: _lab_backoff(initialDelay=0.3, maxDelay=1.5, factor=1.5)',
      '',
    ].join('\n');
    await writeFile(tac, (await readFile(tac, 'utf8')) + patch);
  }

  setPorts(http: number, pb: number): void {
    this.httpPort = http;
    this.pbPort = pb;
    this.url = `http://127.0.0.1:${http}/`;
  }

  async logTail(which: 'master' | 'worker' = 'master', lines = 40): Promise<string> {
    return tail(join(which === 'master' ? this.masterDir : this.workerDir, 'twistd.log'), lines);
  }

  /** Starts the master process and waits for the REST API; throws with the log tail on failure. */
  async launchMaster(): Promise<void> {
    const logFile = join(this.masterDir, 'twistd.log');
    const logStart = existsSync(logFile) ? (await stat(logFile)).size : 0;
    const master = new Daemon(this.buildbot, ['start', '--nodaemon', this.masterDir], this.env());
    this.master = master;
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      if (!master.running) {
        throw new LabStartError(
          `buildbot master exited during startup (${master.exitStatus})`,
          await this.newLog(logFile, logStart),
          master.consoleOutput,
        );
      }
      try {
        const res = await fetch(`${this.url}api/v2/builders`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        // A private lab answers an anonymous request with 403: it is up all the same.
        if (res.ok || (this.private && res.status === 403)) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await master.stop();
        throw new LabStartError(
          `buildbot master did not answer on ${this.url} within ${this.startTimeoutMs} ms`,
          await this.newLog(logFile, logStart),
          master.consoleOutput,
        );
      }
      await sleep(150);
    }
  }

  private async newLog(file: string, from: number): Promise<string> {
    try {
      const text = (await readFile(file, 'utf8')).slice(from);
      return text.split('\n').slice(-60).join('\n');
    } catch {
      return `(no ${file})`;
    }
  }

  launchWorker(): void {
    this.worker = new Daemon('buildbot-worker', ['start', '--nodaemon', this.workerDir], this.env());
  }

  async waitForWorker(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.worker && !this.worker.running) {
        throw new Error(
          `buildbot-worker exited (${this.worker.exitStatus}); worker twistd.log:\n${await this.logTail('worker')}`,
        );
      }
      try {
        const { workers } = await this.api<{ workers: Array<{ name: string; connected_to: unknown[] }> }>(
          'workers',
        );
        if (workers.some((w) => w.name === WORKER && w.connected_to.length > 0)) return;
      } catch {
        // master busy starting
      }
      if (Date.now() > deadline) {
        throw new Error(
          `worker did not connect within ${timeoutMs} ms; worker twistd.log:\n${await this.logTail('worker')}`,
        );
      }
      await sleep(150);
    }
  }

  async api<T>(path: string): Promise<T> {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`GET /api/v2/${path}: HTTP ${res.status} ${res.body}`);
    return JSON.parse(res.body) as T;
  }

  async get(path: string): Promise<{ status: number; headers: Headers; body: string }> {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      let res: Response;
      try {
        // A private lab reads as bot; a new session when the one we had is refused.
        const cookie = this.private
          ? attempt > 0
            ? await this.login()
            : (this.cookie ?? (await this.login()))
          : undefined;
        res = await fetch(`${this.url}api/v2/${path}`, {
          headers: cookie ? { cookie } : {},
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        // A pooled keep-alive socket to a restarted master; try again on a fresh one.
        lastErr = err;
        await sleep(100);
        continue;
      }
      const body = await res.text();
      if (res.status === 403 && this.private && attempt === 0) {
        lastErr = new Error(`HTTP 403 ${body}`);
        continue;
      }
      return { status: res.status, headers: res.headers, body };
    }
    throw new Error(`GET /api/v2/${path} failed: ${String(lastErr)}`);
  }

  async setScenario(scenario: Scenario, builder?: string): Promise<void> {
    const file = join(this.dir, 'scenario', scenarioFileName(builder));
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${scenario}\n`);
    await rename(tmp, file);
  }

  async builders(): Promise<BuilderInfo[]> {
    const { builders } = await this.api<{ builders: BuilderInfo[] }>('builders');
    const list = builders.map((b) => ({ builderid: b.builderid, name: b.name, tags: b.tags }));
    this.builderCache = new Map(list.map((b) => [b.name, b]));
    return list;
  }

  private async builderId(name: string): Promise<number> {
    let b = this.builderCache.get(name);
    if (!b) {
      await this.builders();
      b = this.builderCache.get(name);
    }
    if (!b)
      throw new Error(`no builder named ${JSON.stringify(name)}; have ${[...this.builderCache.keys()]}`);
    return b.builderid;
  }

  private async login(): Promise<string> {
    const res = await fetch(`${this.url}auth/login`, {
      headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    // Buildbot sets the anonymous session first, then the logged-in one: the last one wins.
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0] ?? '')
      .filter((c) => c.startsWith('TWISTED_SESSION='))
      .pop();
    if (!cookie) throw new Error(`login as ${USER} failed: HTTP ${res.status}, no TWISTED_SESSION cookie`);
    this.cookie = cookie;
    return cookie;
  }

  async force(
    builderNames: string[],
    scheduler = 'force',
    params: Record<string, unknown> = {},
  ): Promise<ForceResult> {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      method: 'force',
      id: 1,
      params: { ...params, builderNames },
    });
    let answer: { result?: [number, Record<string, number>]; error?: { code: number; message: string } } = {};
    for (let attempt = 0; attempt < 2; attempt++) {
      const cookie = this.cookie ?? (await this.login());
      const res = await fetch(`${this.url}api/v2/forceschedulers/${encodeURIComponent(scheduler)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status === 403 && attempt === 0) {
        // Session gone (master restarted): log in again.
        this.cookie = undefined;
        continue;
      }
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        throw new Error(`force ${scheduler}: HTTP ${res.status} ${text}`);
      }
      if (answer.error || !answer.result) {
        throw new Error(`force ${scheduler}: HTTP ${res.status} ${answer.error?.message ?? text}`);
      }
      break;
    }
    if (!answer.result) throw new Error(`force ${scheduler}: not allowed (HTTP 403 twice)`);
    const [bsid, byBuilderId] = answer.result;
    const names = new Map<number, string>();
    for (const name of builderNames) names.set(await this.builderId(name), name);
    const brids: Record<string, number> = {};
    for (const [id, brid] of Object.entries(byBuilderId)) brids[names.get(Number(id)) ?? id] = brid;
    const builds: Record<string, BuildJson> = {};
    await Promise.all(
      Object.entries(brids).map(async ([name, brid]) => {
        builds[name] = await this.buildOfRequest(brid);
      }),
    );
    return { bsid, brids, builds };
  }

  async pushChange(change: LabChange): Promise<ForceResult> {
    const form = new URLSearchParams({
      revision: change.revision,
      author: change.author,
      comments: change.comments,
      branch: change.branch,
      repository: change.repository ?? 'https://github.com/python/cpython',
      project: change.project ?? 'cpython',
      properties: JSON.stringify(change.scenario ? { lab_scenario: change.scenario } : {}),
    });
    const res = await fetch(`${this.url}change_hook/base`, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`change hook: HTTP ${res.status} ${text}`);
    // The change's buildset: the scheduler of its branch made one, with a request per builder.
    const deadline = Date.now() + 30_000;
    let bsid: number | undefined;
    while (bsid === undefined) {
      const { buildsets } = await this.api<{
        buildsets: Array<{ bsid: number; sourcestamps: Array<{ revision: string | null }> }>;
      }>('buildsets?order=-bsid&limit=20');
      bsid = buildsets.find((b) => b.sourcestamps.some((s) => s.revision === change.revision))?.bsid;
      if (bsid !== undefined) break;
      if (Date.now() > deadline) throw new Error(`change ${change.revision} started no buildset within 30 s`);
      await sleep(100);
    }
    const { buildrequests } = await this.api<{
      buildrequests: Array<{ buildrequestid: number; builderid: number }>;
    }>(`buildrequests?buildsetid=${bsid}`);
    const names = new Map((await this.builders()).map((b) => [b.builderid, b.name]));
    const brids: Record<string, number> = {};
    for (const r of buildrequests) brids[names.get(r.builderid) ?? String(r.builderid)] = r.buildrequestid;
    const builds: Record<string, BuildJson> = {};
    await Promise.all(
      Object.entries(brids).map(async ([name, brid]) => {
        builds[name] = await this.buildOfRequest(brid);
      }),
    );
    return { bsid, brids, builds };
  }

  private async buildOfRequest(brid: number, timeoutMs = 60_000): Promise<BuildJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const { builds } = await this.api<{ builds: BuildJson[] }>(`buildrequests/${brid}/builds`);
        const first = builds[0];
        if (first) return first;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline)
        throw new Error(`buildrequest ${brid} started no build within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async waitForBuild(builderName: string, number: number, timeoutMs = 60_000): Promise<BuildJson> {
    const builderid = await this.builderId(builderName);
    const deadline = Date.now() + timeoutMs;
    let last: BuildJson | undefined;
    let lastErr: unknown;
    for (;;) {
      try {
        const { builds } = await this.api<{ builds: BuildJson[] }>(`builders/${builderid}/builds/${number}`);
        last = builds[0];
        if (last?.complete) return last;
      } catch (err) {
        lastErr = err; // master restarting
      }
      if (Date.now() > deadline) {
        const state = last ? `state ${JSON.stringify(last.state_string)}` : `no build (${String(lastErr)})`;
        throw new Error(`${builderName} #${number} not complete within ${timeoutMs} ms: ${state}`);
      }
      await sleep(150);
    }
  }

  async runBuild(builderName: string, scenario?: Scenario, timeoutMs = 60_000): Promise<BuildJson> {
    if (scenario !== undefined) await this.setScenario(scenario, builderName);
    const scheduler = builderName.endsWith(' custom') ? 'custom' : 'force';
    const { builds } = await this.force([builderName], scheduler);
    const build = builds[builderName];
    if (!build) throw new Error(`forcing ${builderName} started no build`);
    return this.waitForBuild(builderName, build.number, timeoutMs);
  }

  async stopMaster(): Promise<void> {
    await this.master?.stop();
    this.master = undefined;
    this.cookie = undefined;
  }

  async startMaster(): Promise<void> {
    if (this.master?.running) return;
    await this.launchMaster();
    await this.waitForWorker();
  }

  async restartMaster(): Promise<void> {
    await this.stopMaster();
    await this.startMaster();
  }

  async stopWorker(): Promise<void> {
    await this.worker?.stop();
    this.worker = undefined;
  }

  async startWorker(): Promise<void> {
    if (!this.worker?.running) this.launchWorker();
    await this.waitForWorker();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.worker?.stop(), this.master?.stop()]);
    this.worker = undefined;
    this.master = undefined;
    if (process.env.LAB_KEEP) {
      console.error(`lab kept in ${this.dir}`);
      return;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

export class LabStartError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
    readonly consoleOutput: string,
  ) {
    super(
      `${message}\n--- master twistd.log (tail) ---\n${logTail}` +
        (consoleOutput ? `\n--- console ---\n${consoleOutput}` : ''),
    );
    this.name = 'LabStartError';
  }
}

/**
 * Creates a lab in a fresh temp dir on free ports, starts master and worker and waits until the
 * worker is connected. Retries with other ports if one was taken meanwhile.
 */
export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const dir = await mkdtemp(join(tmpdir(), 'bbwatch-lab-'));
  const lab = new LabImpl(dir, opts);
  try {
    await lab.create();
    for (let attempt = 1; ; attempt++) {
      const [http, pb] = await freePorts(2);
      lab.setPorts(http ?? 0, pb ?? 0);
      try {
        await lab.launchMaster();
        break;
      } catch (err) {
        const portTaken =
          err instanceof LabStartError && /CannotListenError|Address already in use/.test(err.message);
        if (!portTaken || attempt >= 3) throw err;
      }
    }
    await lab.createWorker();
    lab.launchWorker();
    await lab.waitForWorker();
    return lab;
  } catch (err) {
    await lab.close();
    throw err;
  }
}
