import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/buildbot/budget.js';

/** A budget on a fake clock: sleeping advances time instead of waiting. */
function fakeClock() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    get time() {
      return now;
    },
  };
}

describe('RequestBudget', () => {
  it('lets at most N requests start in any window', async () => {
    const clock = fakeClock();
    const budget = new RequestBudget(3, 10_000, clock.now, clock.sleep);
    const starts: number[] = [];
    for (let i = 0; i < 7; i++) {
      await budget.take();
      starts.push(clock.time);
    }
    expect(starts).toEqual([0, 0, 0, 10_000, 10_000, 10_000, 20_000]);
    for (let i = 0; i < starts.length; i++) {
      const inWindow = starts.filter((t) => t > (starts[i] as number) - 10_000 && t <= (starts[i] as number));
      expect(inWindow.length).toBeLessThanOrEqual(3);
    }
  });

  it('serves callers in arrival order when they ask at once', async () => {
    const clock = fakeClock();
    const budget = new RequestBudget(1, 1000, clock.now, clock.sleep);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => budget.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('holds everyone back after a 429 pause', async () => {
    const clock = fakeClock();
    const budget = new RequestBudget(100, 10_000, clock.now, clock.sleep);
    budget.pause(30_000);
    await budget.take();
    expect(clock.time).toBe(30_000);
  });
});
