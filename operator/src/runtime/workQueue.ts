// The work queue of a controller, as Kubernetes' sample-controller has it (client-go's
// workqueue): keys, not events; a key queued twice is queued once; a key being processed is never
// handed to a second worker, and if it changes meanwhile it is queued again when the first is
// done; failures back off per key (exponential), and a global token bucket limits the rate.

export interface QueueOptions {
  /** First retry delay of a failing key (doubles per failure). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Global rate limit: sustained keys per second, and the burst above it. */
  qps: number;
  burst: number;
  now?: () => number;
}

export interface QueueObserver {
  /** A key left the queue for a worker after waiting `waitedMs`. */
  onGet?(waitedMs: number): void;
  onDepth?(depth: number): void;
}

const DEFAULTS: QueueOptions = { baseDelayMs: 5, maxDelayMs: 300_000, qps: 10, burst: 100 };

export class WorkQueue {
  private readonly options: QueueOptions;
  private readonly queue: string[] = [];
  private readonly queued = new Map<string, number>(); // key -> when it was added
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private tokens: number;
  private lastRefill: number;
  private closed = false;

  constructor(
    options: Partial<QueueOptions> = {},
    private readonly observer: QueueObserver = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.tokens = this.options.burst;
    this.lastRefill = this.now();
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Queues a key now (once, however often it is added). */
  add(key: string): void {
    if (this.closed) return;
    const scheduled = this.timers.get(key);
    if (scheduled) {
      clearTimeout(scheduled.timer);
      this.timers.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.set(key, this.now());
    const waiter = this.waiters.shift();
    if (waiter) {
      this.take(key);
      waiter(key);
    } else {
      this.queue.push(key);
      this.observer.onDepth?.(this.queue.length);
    }
  }

  /** Queues a key after a delay; an earlier add or a sooner delay wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.closed) return;
    if (delayMs <= 0) return this.add(key);
    if (this.queued.has(key)) return; // due now already
    const due = this.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  /** The delay before a failed key's next try: its own backoff, and the global rate limit. */
  retryDelay(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const backoff = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (n - 1));
    return Math.max(backoff, this.rateDelay());
  }

  /** Queues a failed key again after retryDelay(key). */
  addRateLimited(key: string): number {
    const delay = this.retryDelay(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded: its backoff starts over. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  private rateDelay(): number {
    const now = this.now();
    this.tokens = Math.min(
      this.options.burst,
      this.tokens + ((now - this.lastRefill) / 1000) * this.options.qps,
    );
    this.lastRefill = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.options.qps) * 1000);
  }

  private take(key: string): void {
    const added = this.queued.get(key) ?? this.now();
    this.queued.delete(key);
    this.processing.add(key);
    this.observer.onGet?.(this.now() - added);
    this.observer.onDepth?.(this.queue.length);
  }

  /** The next key for a worker; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.take(key);
      return Promise.resolve(key);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A worker finished with `key`: it may be handed out again (at once if it changed meanwhile). */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  get busy(): number {
    return this.processing.size;
  }

  /** Stops handing out keys; waiting workers get undefined. */
  shutDown(): void {
    this.closed = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
