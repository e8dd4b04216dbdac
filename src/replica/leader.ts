/**
 * Two replicas on one PostgreSQL store: the process holding a session advisory lock leads (runs
 * the bot: watchers, notifier, adapters); the others stand by, asking for the lock every second.
 * PostgreSQL releases a session lock when its session ends, so a leader that dies (killed, crashed,
 * its machine gone) hands over as soon as the server notices its connection is gone.
 *
 * A leader whose session the server still thinks alive but that has stopped using it (its path to
 * the database stalled; the process frozen) would keep the lock for ever: a standby ends such a
 * session once its lock checks have been missing for `fenceMs` (see `fenceSilentLeader`).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { LEADER_LOCK, LOCK_SPACE } from '../store/pg-locks.js';

export interface LeaderOptions {
  url: string;
  log: Logger;
  /**
   * The lock is lost (its connection failed or stopped answering): another process may lead from
   * now on, so this one must stop announcing at once. Called once.
   */
  onLost: (reason: string) => void;
  /** How often a standby asks for the lock (default 1 s). */
  retryMs?: number;
  /** How often the leader checks its lock connection (default 2 s); no answer within this long fails it. */
  checkMs?: number;
  /**
   * A standby ends the leader's lock session when no check has reached the database for this long
   * (default 15 s). Longer than a leader takes to give up on its own (2 × checkMs, 9 s when a store
   * statement held the process; see SESSION_SETTINGS), so the old leader has stopped sending first.
   */
  fenceMs?: number;
}

export interface Leadership {
  /** How long this process stood by before it led. */
  waitedMs: number;
  /** Ends the session (and so releases the lock): after a clean stop, or to step down. */
  release(): Promise<void>;
}

/**
 * How the server notices a leader whose machine or network vanished: TCP keepalives and a send
 * timeout on the lock's session end it (releasing the lock) about 13 s after the last sign of
 * life. The leader gives up sooner: its checks fail within 2 × checkMs (4 s), or 9 s when a store
 * statement blocked the process first (the store's connection times out sends after 5 s; see
 * src/store/pg.ts). So the old leader stops before a new one can start.
 */
const SESSION_SETTINGS =
  'SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 4; SET tcp_user_timeout = 13000';

/** SQLSTATE classes that waiting will not fix: bad credentials, no such database. */
function hopeless(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('28') || code === '3D000');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until this process holds the leader lock; then watches over it. */
export async function lead(opts: LeaderOptions): Promise<Leadership> {
  const retryMs = opts.retryMs ?? 1_000;
  const started = Date.now();
  let standingBy = false;
  let fenceRefused = false;
  let failures = 0;
  for (;;) {
    const client = new pg.Client({
      connectionString: opts.url,
      application_name: 'bbwatch-leader',
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
    // Until it leads, a failed connection is reported by the query that meets it.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(SESSION_SETTINGS);
      failures = 0;
      for (;;) {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
          LOCK_SPACE,
          LEADER_LOCK,
        ]);
        if (rows[0]?.ok) {
          const waitedMs = Date.now() - started;
          opts.log.info({ waitedMs }, 'leading');
          return watch(client, opts, waitedMs);
        }
        if (!standingBy) opts.log.info('standing by: another bbwatch process leads');
        standingBy = true;
        // After ending a silent leader's session, the next ask (a second on) takes the lock.
        const fence = await fenceSilentLeader(client, opts.fenceMs ?? 15_000, opts.log);
        if (fence === 'refused' && !fenceRefused) {
          opts.log.warn(
            'the leader has stopped answering, but this database role may not end its session: waiting for the server to',
          );
        }
        fenceRefused = fence === 'refused';
        await sleep(retryMs);
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      if (hopeless(err)) throw new Error(`PostgreSQL refused: ${errorMessage(err)}`);
      failures++;
      opts.log.warn({ err: errorMessage(err), failures }, 'database unreachable; will try again');
      await sleep(Math.min(retryMs * failures, 10_000));
    }
  }
}

/**
 * The leader lock's holder, and how long its session has been silent: a leader's check is a
 * statement every checkMs, so `state_change` (when its last statement began or ended) is its last
 * sign of life as the server saw it.
 */
const HOLDER = `SELECT a.pid, EXTRACT(EPOCH FROM clock_timestamp() - a.state_change)::float8 * 1000 AS silent_ms
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/**
 * Ends the leader's lock session when it has been silent for `fenceMs` or longer: the server holds
 * the lock for a session whose client stopped talking (a stalled network path whose other end
 * still acknowledges, a frozen process) until TCP gives up on it, which may be never. `refused`:
 * the session is silent but this role may not end it (another database role leads).
 */
export async function fenceSilentLeader(
  client: pg.Client,
  fenceMs: number,
  log: Logger,
): Promise<'alive' | 'ended' | 'refused'> {
  const { rows } = await client.query<{ pid: number; silent_ms: number | null }>(HOLDER, [
    LOCK_SPACE,
    LEADER_LOCK,
  ]);
  const holder = rows[0];
  if (!holder || holder.silent_ms === null || holder.silent_ms < fenceMs) return 'alive';
  try {
    const ended = await client.query<{ ended: boolean }>('SELECT pg_terminate_backend($1) AS ended', [
      holder.pid,
    ]);
    if (!ended.rows[0]?.ended) return 'alive'; // gone already
  } catch (err) {
    log.debug({ pid: holder.pid, err: errorMessage(err) }, 'cannot end the silent leader session');
    return 'refused';
  }
  log.warn(
    { pid: holder.pid, silentMs: Math.round(holder.silent_ms) },
    'the leader stopped answering: its database session was ended, so that this process can lead',
  );
  return 'ended';
}

/** Watches the lock's connection: its failure, or no answer to a check, loses the lead. */
function watch(client: pg.Client, opts: LeaderOptions, waitedMs: number): Leadership {
  const checkMs = opts.checkMs ?? 2_000;
  let done = false;
  let checking = false;
  const lose = (reason: string) => {
    if (done) return;
    done = true;
    clearInterval(timer);
    opts.log.error({ reason }, 'leader lock lost');
    opts.onLost(reason);
    // Whatever is left of the session goes, so that the server frees the lock as soon as it can.
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
  };
  client.removeAllListeners('error');
  client.on('error', (err) => lose(`lock connection failed: ${errorMessage(err)}`));
  client.on('end', () => lose('lock connection closed'));
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    let timeout: NodeJS.Timeout | undefined;
    Promise.race([
      client.query('SELECT 1'),
      new Promise((_, reject) => {
        timeout = setTimeout(() => reject(new Error(`no answer in ${checkMs} ms`)), checkMs);
      }),
    ])
      .then(
        () => undefined,
        (err: unknown) => lose(`lock connection check failed: ${errorMessage(err)}`),
      )
      .finally(() => {
        clearTimeout(timeout);
        checking = false;
      });
  }, checkMs);
  timer.unref();
  return {
    waitedMs,
    async release() {
      if (done) return;
      done = true;
      clearInterval(timer);
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    },
  };
}
