/**
 * Knowing that the server has the lines we wrote. A line written into the socket can still be lost
 * when the connection drops a moment later (a server restart, a netsplit of our server): the
 * kernel took it, the server never read it. IRC has no acknowledgement, but a server answers
 * commands in order, so the PONG to a PING written after our lines says that it processed them
 * (relayed them to the channel). Announcements wait for that before they count as delivered; a
 * connection that drops first makes them fail, and the outbox sends them again.
 *
 * One PING covers every line written before it: waiters that arrive while a PING waits for the
 * flood bucket share it, so a busy connection spends one extra line per batch, not per line.
 */

export const PING_PREFIX = 'bbwatch-ack-';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface ConfirmationIo {
  /** Writes `PING :<token>`; `written` is called once it is in the socket (an error: it never was). */
  ping(token: string, written: (err?: Error | null) => void): void;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface Ping {
  token: string;
  waiters: Waiter[];
  timer?: unknown;
}

export class Confirmations {
  private serial = 0;
  /** The PING queued behind the flood bucket, not in the socket yet: it covers whoever joins it. */
  private queued: Ping | undefined;
  /** PINGs waiting for their PONG, by token (a PONG may even beat the PING's write callback). */
  private readonly pending = new Map<string, Ping>();
  private closedWith: Error | undefined;

  constructor(
    private readonly io: ConfirmationIo,
    /** A PONG later than this: the waiters fail (the connection is probably dead). */
    private readonly timeoutMs: number,
  ) {}

  /**
   * Resolves once the server has processed every line written so far. Call it after the lines'
   * own write callbacks: the socket calls back in order, so a PING still joinable then is behind them.
   */
  confirmed(): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.queued) this.queued.waiters.push(waiter);
      else this.sendPing(waiter);
    });
  }

  /** A PONG arrived; those not ours (irc-framework's keep-alive) are ignored. */
  pong(token: string | undefined): void {
    if (!token?.startsWith(PING_PREFIX)) return;
    const ping = this.pending.get(token);
    if (!ping) return;
    this.forget(ping);
    for (const w of ping.waiters) w.resolve();
  }

  /** The connection is gone: nothing unconfirmed can be known to have arrived. */
  close(err: Error): void {
    this.closedWith = err;
    const pings = [...this.pending.values()];
    for (const ping of pings) this.forget(ping);
    for (const w of pings.flatMap((p) => p.waiters)) w.reject(err);
  }

  private sendPing(first: Waiter): void {
    const ping: Ping = { token: `${PING_PREFIX}${++this.serial}`, waiters: [first] };
    this.queued = ping;
    this.pending.set(ping.token, ping);
    // Once it is in the socket, lines written after it are not covered by it.
    this.io.ping(ping.token, (err) => {
      if (this.queued === ping) this.queued = undefined;
      if (!this.pending.has(ping.token)) return; // answered already, or the connection closed
      if (err) {
        this.forget(ping);
        for (const w of ping.waiters) w.reject(err);
        return;
      }
      ping.timer = this.io.setTimeout(() => {
        if (!this.pending.has(ping.token)) return;
        this.forget(ping);
        const late = new Error(
          `the IRC server did not confirm within ${Math.round(this.timeoutMs / 1000)} s`,
        );
        for (const w of ping.waiters) w.reject(late);
      }, this.timeoutMs);
    });
  }

  private forget(ping: Ping): void {
    this.pending.delete(ping.token);
    if (this.queued === ping) this.queued = undefined;
    if (ping.timer !== undefined) this.io.clearTimeout(ping.timer);
  }
}
