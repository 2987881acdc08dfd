// Redis, optional: a query cache with a TTL, and the agent's live status keys
// `<prefix><agent>:<pod>:status|health|error|last_check`. It fails open: with Redis down,
// commands fail at once (no offline queue, short timeouts), the agent computes what it would
// have cached and carries on, and state() says Redis is unavailable and why.
import { createRequire } from 'node:module';
import type * as ioredis from 'ioredis';
import type { Redis } from 'ioredis';

// ioredis is required only by an agent with a cache configured (spec.cache): the others never
// load it (issue 22, memory per pod).
const require = createRequire(import.meta.url);

export interface RedisCacheOptions {
  url: string;
  /** Prefix of every key, so several agents can share one Redis. */
  keyPrefix: string;
  agent: string;
  pod: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export interface AgentStatusKeys {
  status: string;
  health: string;
  error: string;
  lastCheck: string;
}

export interface CacheState {
  available: boolean;
  /** The last failure, while unavailable (no credentials in it: the URL is never included). */
  lastError?: string;
}

const NOT_YET = 'not connected yet';

export class RedisCache {
  private readonly client: Redis;
  private lastError: string | undefined = NOT_YET;

  constructor(private readonly options: RedisCacheOptions) {
    const { Redis: RedisClient } = require('ioredis') as typeof ioredis;
    this.client = new RedisClient(options.url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      enableOfflineQueue: false, // fail now, not when Redis comes back
      maxRetriesPerRequest: 0,
      // Keep reconnecting in the background, at most every 5 s.
      retryStrategy: (times) => Math.min(times * 200, 5000),
    });
    this.client.on('ready', () => (this.lastError = undefined));
    this.client.on('error', (error: Error) => this.record(error));
    this.client.on('end', () => (this.lastError ??= 'connection closed'));
  }

  /** Connects in the background; never throws (Redis is optional). */
  connect(): void {
    this.client.connect().catch((error: unknown) => this.record(error));
  }

  state(): CacheState {
    return this.client.status === 'ready' && this.lastError === undefined
      ? { available: true }
      : { available: false, lastError: this.lastError ?? this.client.status };
  }

  /** The value cached under `key`, or `compute()`'s, cached for `ttlSeconds`. Redis down: computed. */
  async cached<T>(key: string, ttlSeconds: number, compute: () => Promise<T>): Promise<T> {
    const full = `${this.options.keyPrefix}cache:${key}`;
    const hit = await this.attempt(() => this.client.get(full));
    if (typeof hit === 'string') return JSON.parse(hit) as T;
    const value = await compute();
    await this.attempt(() => this.client.set(full, JSON.stringify(value), 'EX', ttlSeconds));
    return value;
  }

  keys(): AgentStatusKeys {
    const base = `${this.options.keyPrefix}${this.options.agent}:${this.options.pod}:`;
    return {
      status: `${base}status`,
      health: `${base}health`,
      error: `${base}error`,
      lastCheck: `${base}last_check`,
    };
  }

  /** Publishes the agent's status; they expire after `ttlSeconds` if the agent stops. */
  async publishStatus(
    status: { status: string; health: string; error?: string; lastCheck: Date },
    ttlSeconds: number,
  ): Promise<boolean> {
    const k = this.keys();
    const done = await this.attempt(() =>
      this.client
        .multi()
        .set(k.status, status.status, 'EX', ttlSeconds)
        .set(k.health, status.health, 'EX', ttlSeconds)
        .set(k.error, status.error ?? '', 'EX', ttlSeconds)
        .set(k.lastCheck, status.lastCheck.toISOString(), 'EX', ttlSeconds)
        .exec(),
    );
    return done !== undefined;
  }

  async close(): Promise<void> {
    this.client.disconnect();
    await Promise.resolve();
  }

  /** Runs a command; a failure is recorded in state() and yields undefined, never an exception. */
  private async attempt<T>(command: () => Promise<T>): Promise<T | undefined> {
    if (this.client.status !== 'ready') return undefined;
    try {
      const result = await command();
      this.lastError = undefined; // a command that worked: Redis is back, whatever failed before
      return result;
    } catch (error) {
      this.record(error);
      return undefined;
    }
  }

  private record(error: unknown): void {
    const message = describe(error);
    // "Connection is closed." follows the failure that closed it: keep the cause instead.
    if (
      /^Connection is closed/.test(message) &&
      this.lastError !== undefined &&
      this.lastError !== NOT_YET
    )
      return;
    this.lastError = message;
  }
}

/** An error's message, without anything that could carry a password (URLs are dropped). */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/rediss?:\/\/\S+/g, 'redis://…');
}
