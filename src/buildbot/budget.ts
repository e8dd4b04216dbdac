/**
 * One request budget per master: at most `requests` requests start in any window of `perMs`.
 * Every REST call waits its turn here, so the bot stays under the master's rate limit
 * (buildbot.python.org answers 429 past 100 requests per 10 s) however many parts ask at once.
 */
export class RequestBudget {
  private readonly starts: number[] = [];
  private queue: Promise<void> = Promise.resolve();
  private pausedUntil = 0;

  constructor(
    readonly requests: number,
    readonly perMs: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Resolves when one more request may start; callers are served in arrival order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForSlot());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** After a 429, nobody asks again before `ms` have passed. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  /** Requests started in the current window (for metrics and tests). */
  inWindow(): number {
    this.expire();
    return this.starts.length;
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      this.expire();
      const now = this.now();
      if (now < this.pausedUntil) {
        await this.sleep(this.pausedUntil - now);
        continue;
      }
      if (this.starts.length < this.requests) {
        this.starts.push(now);
        return;
      }
      const oldest = this.starts[0] as number;
      await this.sleep(Math.max(1, oldest + this.perMs - now));
    }
  }

  private expire(): void {
    const cutoff = this.now() - this.perMs;
    while (this.starts.length > 0 && (this.starts[0] as number) <= cutoff) this.starts.shift();
  }
}
