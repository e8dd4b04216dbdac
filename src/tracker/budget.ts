/**
 * The tracker's request budget: at most `requests` searches start in any window of `perMs`, and
 * none while paused (a rate limit, an outage). Unlike a master's budget it never queues: a search
 * that finds no slot is refused at once, since a suggestion is worth nothing late.
 */
export class SearchBudget {
  private readonly starts: number[] = [];
  private paused = 0;

  constructor(
    readonly requests: number,
    readonly perMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a slot: undefined when taken, else when one may be free again (epoch ms). */
  tryTake(): number | undefined {
    const now = this.now();
    while (this.starts.length > 0 && (this.starts[0] as number) <= now - this.perMs) this.starts.shift();
    if (now < this.paused) return this.paused;
    if (this.starts.length >= this.requests) return (this.starts[0] as number) + this.perMs;
    this.starts.push(now);
    return undefined;
  }

  /** No search before `until` (epoch ms). */
  pause(until: number): void {
    this.paused = Math.max(this.paused, until);
  }

  pausedUntil(): number {
    return this.paused;
  }
}
