import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/retry.js';
import { PacedQueue, type Timers, TokenBucket } from '../../adapters/irc/flood.js';

/** A clock the test moves by hand, with the timers the queue sets on it. */
class FakeClock implements Timers {
  t = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 1;
  now = () => this.t;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

function paced(burst: number, intervalMs: number) {
  const clock = new FakeClock();
  const sent: Array<{ item: string; at: number }> = [];
  const queue = new PacedQueue<string>(
    new TokenBucket(burst, intervalMs, clock.now),
    (item) => sent.push({ item, at: clock.t }),
    clock,
  );
  return { clock, sent, queue };
}

describe('flood control', () => {
  it('lets a burst through at once, then one line per interval, in order, dropping nothing', () => {
    const { clock, sent, queue } = paced(4, 1000);
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    for (const l of lines) queue.push(l);
    expect(sent.map((s) => s.item)).toEqual(lines.slice(0, 4));
    clock.advance(10_000);
    expect(sent).toHaveLength(14);
    clock.advance(100_000);
    expect(sent.map((s) => s.item)).toEqual(lines);
    // After the burst, never two lines closer than the interval.
    const gaps = sent.slice(4).map((s, i) => s.at - (sent[i + 3] as { at: number }).at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
    expect(queue.length).toBe(0);
  });

  it('never sends more than burst + elapsed/interval lines in any stretch of time', () => {
    const { clock, sent, queue } = paced(5, 250);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 7; i++) queue.push(`r${round}.${i}`);
      clock.advance(300 + round * 37);
    }
    clock.advance(60_000);
    expect(sent).toHaveLength(140);
    for (const [i, first] of sent.entries()) {
      for (const window of [0, 1000, 5000]) {
        const inWindow = sent.slice(i).filter((s) => s.at - first.at <= window).length;
        expect(inWindow).toBeLessThanOrEqual(5 + Math.floor(window / 250));
      }
    }
  });

  it('refills while idle, but never beyond the burst', () => {
    const { clock, sent, queue } = paced(3, 1000);
    clock.advance(60_000);
    for (let i = 0; i < 6; i++) queue.push(`l${i}`);
    expect(sent).toHaveLength(3);
  });

  it('sends urgent lines (PONG) before waiting ones, still within the rate', () => {
    const { clock, sent, queue } = paced(1, 1000);
    queue.push('a');
    queue.push('b');
    queue.push('c');
    queue.push('PONG :x', true);
    clock.advance(1000);
    expect(sent.map((s) => s.item)).toEqual(['a', 'PONG :x']);
  });

  it('hands back what was waiting when cleared (a disconnect), and resolves drained()', async () => {
    const { sent, queue } = paced(1, 1000);
    queue.push('a');
    queue.push('b');
    queue.push('c');
    const drained = queue.drained();
    expect(queue.clear()).toEqual(['b', 'c']);
    await drained;
    expect(sent.map((s) => s.item)).toEqual(['a']);
  });
});

describe('reconnect back-off', () => {
  it('doubles from min up to max, with at most half of it random', () => {
    const low = [0, 1, 2, 3, 10, 40].map((a) => backoffDelay(a, 1000, 60_000, () => 0));
    const high = [0, 1, 2, 3, 10, 40].map((a) => backoffDelay(a, 1000, 60_000, () => 1));
    expect(high).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000]);
    expect(low).toEqual([500, 1000, 2000, 4000, 30_000, 30_000]);
  });
});
