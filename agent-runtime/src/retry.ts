// The one retry-with-jitter loop of the agent runtime: the exporter's readers (PostgreSQL,
// the agents' GET /anomalies) and the agent's PostgreSQL source retry through it.
//
// Ours rather than p-retry, having measured and read p-retry (7.1, the last for Node 20; 8 and 9
// need Node 22):
// - memory: importing p-retry and its is-network-error costs ~0.9 MB RSS against ~0.2 MB for a
//   module of ours (node --expose-gc, RSS before and after the import, three runs each);
// - its jitter multiplies the wait by 1..2, ours by 0.5..1.5 around the doubling delay, which
//   the readers' waits and their tests are tuned to;
// - its onFailedAttempt runs before shouldRetry and on the last attempt too, so "retrying"
//   would be logged for errors that are not retried; it also never retries a plain TypeError
//   that is not a network error, a rule of its own beside the caller's `retryable`.
// What the loops need is small: a number of attempts (Infinity: retry forever), errors that are
// not worth retrying thrown at once, a hook before each wait (log, drop a connection), and an
// AbortSignal that ends a wait (a SIGTERM must not sit out a 15-second backoff).

export interface RetryOptions {
  /** Attempts in all, the first one included; Infinity retries until `signal` aborts. */
  attempts: number;
  /** The first wait; each next one doubles, up to `maxDelayMs`. Each wait is jittered ×0.5..1.5. */
  delayMs: number;
  maxDelayMs: number;
  /** Whether an error is worth another attempt; any other is thrown at once, as it is. */
  retryable?: (error: unknown) => boolean;
  /** Before each wait, with the error and the attempt (from 1) that failed. */
  onRetry?: (error: unknown, attempt: number) => void | Promise<void>;
  /** Aborting it ends the current wait and the retries, with the signal's reason. */
  signal?: AbortSignal;
  /** The jitter's source of randomness in [0, 1) (tests). */
  random?: () => number;
}

/**
 * Runs `work` until it succeeds, an error is not retryable, or the attempts are spent; then
 * throws the last error unchanged. So a retryable error that comes out has been tried
 * `attempts` times (unless the signal aborted first).
 */
export async function retryWithJitter<T>(
  work: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const random = options.random ?? Math.random;
  let delay = options.delayMs;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await work(attempt);
    } catch (error) {
      const retryable = options.retryable?.(error) ?? true;
      if (!retryable || attempt >= options.attempts) throw error;
      await options.onRetry?.(error, attempt);
      await sleep(jittered(delay, random()), options.signal);
      delay = nextDelay(delay, options.maxDelayMs);
    }
  }
}

/** The delay after `delayMs`: twice as long, up to the cap. */
export function nextDelay(delayMs: number, maxDelayMs: number): number {
  return Math.min(delayMs * 2, maxDelayMs);
}

/** The wait for a delay: somewhere in [delay/2, delay*3/2), so retrying clients spread out. */
export function jittered(delayMs: number, random: number): number {
  return delayMs * (0.5 + random);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
