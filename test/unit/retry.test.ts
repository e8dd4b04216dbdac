import { describe, expect, it } from 'vitest';
import { backoffDelay, retry } from '../../src/retry.js';

describe('the one retry helper', () => {
  it('tries again until the call works, waiting the back-off it announces', async () => {
    const waits: Array<[number, number]> = [];
    let calls = 0;
    const value = await retry(
      async (attempt) => {
        calls++;
        if (attempt < 4) throw new Error(`down ${attempt}`);
        return 'loaded';
      },
      { minMs: 2, maxMs: 5, onRetry: (_err, attempt, delay) => waits.push([attempt, delay]) },
    );
    expect(value).toBe('loaded');
    expect(calls).toBe(4);
    expect(waits.map(([a]) => a)).toEqual([1, 2, 3]);
    // Equal jitter under the cap: 1-2 ms, 2-4 ms, then 2.5-5 ms (capped at 5).
    expect(waits.map(([, d]) => d >= 1 && d <= 5)).toEqual([true, true, true]);
  });

  it('gives up with the error that is not worth another try, or the last one', async () => {
    const refused = new Error('token refused');
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw calls === 2 ? refused : new Error('unreachable');
        },
        { minMs: 1, maxMs: 1, shouldRetry: (err) => err !== refused },
      ),
    ).rejects.toBe(refused);
    expect(calls).toBe(2);
    await expect(
      retry(
        async (attempt) => {
          throw new Error(`attempt ${attempt}`);
        },
        { minMs: 1, maxMs: 1, retries: 2 },
      ),
    ).rejects.toThrow('attempt 3');
  });

  it('stops at once when its signal aborts, even while waiting', async () => {
    const stop = new AbortController();
    let calls = 0;
    const tried = retry(
      async () => {
        calls++;
        throw new Error('master down');
      },
      { minMs: 60_000, maxMs: 60_000, signal: stop.signal, onRetry: () => stop.abort(new Error('stopped')) },
    );
    await expect(tried).rejects.toThrow('stopped');
    expect(calls).toBe(1);
  });

  it('has one back-off formula: doubling from min to max, at most half of it random', () => {
    expect([0, 1, 2, 3, 10, 40].map((a) => backoffDelay(a, 2000, 60_000, () => 1))).toEqual([
      2000, 4000, 8000, 16_000, 60_000, 60_000,
    ]);
    expect([0, 1, 2, 3, 10, 40].map((a) => backoffDelay(a, 2000, 60_000, () => 0))).toEqual([
      1000, 2000, 4000, 8000, 30_000, 30_000,
    ]);
  });
});
