/**
 * Discord allows 1000 gateway logins (IDENTIFY) a day and resets the token of a bot that goes
 * over. A bot restarted in a loop (a crash, a supervisor) would get there; this spaces logins out
 * across restarts: at most `max` in any `windowMs`, remembered in the adapter's persistent state.
 */
import type { KeyValueStore } from '../../src/chat/adapter.js';

const KEY = 'logins';

export interface LoginGuardOptions {
  max?: number;
  windowMs?: number;
  now?: () => number;
}

export class LoginGuard {
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(
    private readonly state: KeyValueStore,
    opts: LoginGuardOptions = {},
  ) {
    // 6 per 10 minutes is at most 864 a day, under Discord's 1000.
    this.max = opts.max ?? 6;
    this.windowMs = opts.windowMs ?? 600_000;
    this.now = opts.now ?? Date.now;
  }

  /** How long to wait before the next login (0: now). */
  delayMs(): number {
    const recent = this.recent();
    if (recent.length < this.max) return 0;
    const oldest = recent[recent.length - this.max] as number;
    return Math.max(0, oldest + this.windowMs - this.now());
  }

  /** Notes a login attempt. */
  record(): void {
    const recent = [...this.recent(), this.now()].slice(-this.max);
    this.state.set(KEY, JSON.stringify(recent));
  }

  private recent(): number[] {
    let stored: unknown;
    try {
      stored = JSON.parse(this.state.get(KEY) ?? '[]');
    } catch {
      stored = [];
    }
    const since = this.now() - this.windowMs;
    return Array.isArray(stored)
      ? stored.filter((t): t is number => typeof t === 'number' && t > since).sort((a, b) => a - b)
      : [];
  }
}
