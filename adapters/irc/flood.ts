/**
 * Outbound flood control. IRC servers disconnect ("Excess Flood") or delay a client that sends
 * lines faster than they allow, and irc-framework writes every line at once; so every line the
 * bot writes waits in one queue and leaves at a token bucket's pace. Nothing is ever dropped.
 */

/** `burst` lines may go at once; after that one line per `intervalMs`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly burst: number,
    readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (burst < 1 || intervalMs <= 0)
      throw new RangeError('a token bucket needs burst >= 1 and interval > 0');
    this.tokens = burst;
    this.last = now();
  }

  /** Takes a token and returns 0, or returns how many ms until one is available (taking nothing). */
  take(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.last) / this.intervalMs);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) * this.intervalMs));
  }
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * A FIFO that hands items to `sink` as the bucket allows. Urgent items (PONG, which the server
 * needs within its ping timeout whatever is queued) leave before the others, still paced.
 */
export class PacedQueue<T> {
  private readonly normal: T[] = [];
  private readonly urgent: T[] = [];
  private timer: unknown;
  private idle: Array<() => void> = [];

  constructor(
    private readonly bucket: TokenBucket,
    private readonly sink: (item: T) => void,
    private readonly timers: Timers = realTimers,
  ) {}

  get length(): number {
    return this.normal.length + this.urgent.length;
  }

  push(item: T, urgent = false): void {
    (urgent ? this.urgent : this.normal).push(item);
    this.pump();
  }

  /** Empties the queue without sending and returns what was waiting, in order. */
  clear(): T[] {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const items = [...this.urgent.splice(0), ...this.normal.splice(0)];
    this.wakeIdle();
    return items;
  }

  /** Resolves once everything queued so far has been handed to the sink. */
  drained(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    if (this.timer !== undefined) return;
    while (this.length > 0) {
      const wait = this.bucket.take();
      if (wait > 0) {
        this.timer = this.timers.setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const item = (this.urgent.length > 0 ? this.urgent.shift() : this.normal.shift()) as T;
      this.sink(item);
    }
    this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }
}
