import { jest } from '@jest/globals';

import { backoffMs, CycleScheduler } from './scheduler.js';

test('a failing cycle is retried after 1 s, 2 s, 4 s ... never later than an interval', () => {
  expect([1, 2, 3, 4].map((n) => backoffMs(n, 60_000))).toEqual([1000, 2000, 4000, 8000]);
  expect(backoffMs(7, 60_000)).toBe(60_000);
  expect(backoffMs(40, 300_000)).toBe(300_000);
  expect(backoffMs(20, 10_000_000)).toBe(1000 * 2 ** 10);
});

test('each cycle says how long to wait; a failure backs off; stop takes no new cycle', async () => {
  jest.useFakeTimers();
  try {
    const ran: number[] = [];
    const outcomes: (number | 'fail')[] = [0, 'fail', 'fail', 5000];
    const scheduler = new CycleScheduler(60_000, () => {
      ran.push(Date.now());
      const outcome = outcomes.shift() ?? 60_000;
      return outcome === 'fail'
        ? Promise.reject(new Error('source gone'))
        : Promise.resolve(outcome);
    });
    const start = Date.now();
    scheduler.start();
    for (let i = 0; i < 6; i++) await jest.advanceTimersByTimeAsync(1000);
    // at 0 (wait 0: a timer's 1 ms), at 1 ms (fails: 1 s), 1 s later (fails: 2 s), 2 s later
    expect(ran.map((t) => t - start)).toEqual([0, 1, 1001, 3001]);
    await scheduler.stop(1000);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(ran).toHaveLength(4);
    expect(scheduler.wedged()).toBe(false);
  } finally {
    jest.useRealTimers();
  }
});
