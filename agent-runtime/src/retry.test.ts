// The retry loop: attempts counted from 1, non-retryable errors at once, waits doubling with
// jitter up to the cap, an abort ending the wait.
import { describe, expect, it } from '@jest/globals';

import { jittered, nextDelay, retryWithJitter } from './retry.js';

const failing = (times: number, error = new Error('lost')) => {
  let calls = 0;
  return (attempt: number): Promise<number> => {
    calls++;
    expect(attempt).toBe(calls);
    return calls <= times ? Promise.reject(error) : Promise.resolve(calls);
  };
};

describe('retryWithJitter', () => {
  it('returns the first success, after calling onRetry for each failure before it', async () => {
    const retried: number[] = [];
    const result = await retryWithJitter(failing(2), {
      attempts: 5,
      delayMs: 1,
      maxDelayMs: 2,
      onRetry: (_error, attempt) => void retried.push(attempt),
    });
    expect(result).toBe(3);
    expect(retried).toEqual([1, 2]);
  });

  it('throws the last error unchanged once the attempts are spent, without a last onRetry', async () => {
    const error = new Error('still lost');
    const retried: number[] = [];
    await expect(
      retryWithJitter(failing(10, error), {
        attempts: 3,
        delayMs: 1,
        maxDelayMs: 1,
        onRetry: (_e, attempt) => void retried.push(attempt),
      }),
    ).rejects.toBe(error);
    expect(retried).toEqual([1, 2]);
  });

  it('throws an error that is not retryable at once', async () => {
    const error = new Error('bad spec');
    let calls = 0;
    await expect(
      retryWithJitter(
        () => {
          calls++;
          return Promise.reject(error);
        },
        { attempts: 6, delayMs: 1, maxDelayMs: 1, retryable: (e) => e !== error },
      ),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('doubles the delay up to the cap, and jitters each wait by 0.5..1.5', async () => {
    expect([10, 20, 40, 80].map((d) => nextDelay(d, 60))).toEqual([20, 40, 60, 60]);
    expect(jittered(10, 0)).toBe(5);
    expect(jittered(10, 0.999)).toBeCloseTo(14.99);
    expect(jittered(20, 0.5)).toBe(20);
    // Waits of 40, 80, 80 (capped) at their shortest (random 0): at least 20 + 40 + 40 ms.
    const started = Date.now();
    await retryWithJitter(failing(3), {
      attempts: 4,
      delayMs: 40,
      maxDelayMs: 80,
      random: () => 0,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('retries forever with Infinity attempts', async () => {
    expect(
      await retryWithJitter(failing(30), { attempts: Infinity, delayMs: 0, maxDelayMs: 0 }),
    ).toBe(31);
  });

  it('ends a wait and the retries when the signal aborts, with its reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stopped');
    let calls = 0;
    const started = Date.now();
    const run = retryWithJitter(
      () => {
        calls++;
        return Promise.reject(new Error('down'));
      },
      {
        attempts: Infinity,
        delayMs: 60_000,
        maxDelayMs: 60_000,
        signal: controller.signal,
        onRetry: () => void setTimeout(() => controller.abort(reason), 10),
      },
    );
    await expect(run).rejects.toBe(reason);
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
