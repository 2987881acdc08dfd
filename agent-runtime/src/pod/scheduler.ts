// When the next cycle runs. A cycle says how long to wait after it (an interval, a stretched
// one under pressure, or none to catch up a backlog); one that fails is retried sooner than an
// interval, backing off: 1 s, 2 s, 4 s ... up to the interval. Stopping takes no new cycle and
// lets a running one finish, or gives it up after a grace period.

/** The wait after a cycle that failed for the `failures`-th time in a row. */
export function backoffMs(failures: number, intervalMs: number): number {
  return Math.min(intervalMs, 1000 * 2 ** Math.min(failures - 1, 10));
}

export class CycleScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private failures = 0;
  private lastTick = Date.now();

  constructor(
    private readonly intervalMs: number,
    /** One cycle; resolves to the wait before the next, throws when it failed. */
    private readonly cycle: () => Promise<number>,
  ) {}

  /** The first cycle, after `delayMs`. */
  start(delayMs = 0): void {
    this.schedule(delayMs);
  }

  /** A cycle started long ago (three intervals and a minute) is still running: the loop is stuck. */
  wedged(): boolean {
    return Date.now() - this.lastTick > 3 * this.intervalMs + 60_000 && this.running !== undefined;
  }

  /** No cycle after this; the running one is waited for, at most `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    if (this.running)
      await Promise.race([this.running, new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => (this.running = undefined));
    }, delayMs);
  }

  private async runOnce(): Promise<void> {
    this.lastTick = Date.now();
    let next: number;
    try {
      next = await this.cycle();
      this.failures = 0;
    } catch {
      this.failures++;
      next = backoffMs(this.failures, this.intervalMs);
    }
    this.schedule(next);
  }
}
