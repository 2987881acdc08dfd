// An informer: a local cache of one resource kind, kept by list + watch, that tells listeners
// what changed. client-node's makeInformer stops on any error but 410 and never relists, and
// informers have gone silent for hours in the field, so this one owns its loop:
//  - any error (watch or list) restarts it with exponential backoff, from a fresh list;
//  - every `relistMs` it lists again anyway and reconciles the cache with what it finds;
//  - objects in the cache are frozen: a listener that tried to mutate one would throw.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

import { resourcePath, type KubeClient, type KubeObject, type Resource } from './kubeClient.js';
import type { Logger } from './log.js';

export type InformerEvent = 'add' | 'update' | 'delete';
export type Listener<T> = (event: InformerEvent, object: T) => void;

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Full relist period (default 10 minutes). */
  relistMs?: number;
  /** First restart delay after an error (doubles, up to maxBackoffMs). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

const key = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly listeners: Listener<T>[] = [];
  private abort: AbortController | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = true;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private generation = 0; // which run of the loop a callback belongs to
  /** Restarts after errors, for metrics and tests. */
  restarts = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly kubeConfig: KubeConfig,
    readonly resource: Resource,
    private readonly log: Logger,
    private readonly options: InformerOptions = {},
  ) {}

  on(listener: Listener<T>): void {
    this.listeners.push(listener);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.abort?.abort();
    clearTimeout(this.relistTimer);
    clearTimeout(this.retryTimer);
  }

  /** True while a watch is open (after the list). */
  get watching(): boolean {
    return this.abort !== undefined && !this.abort.signal.aborted;
  }

  /** Breaks the current watch as a network fault would (for tests of recovery). */
  breakWatch(): void {
    this.abort?.abort();
  }

  private emit(event: InformerEvent, object: T): void {
    for (const l of this.listeners) {
      try {
        l(event, object);
      } catch (error) {
        this.log.error('informer listener failed', error, { resource: this.resource.plural });
      }
    }
  }

  /** Lists, brings the cache in line with the list (emitting the differences), then watches. */
  private async run(): Promise<void> {
    const run = ++this.generation;
    clearTimeout(this.relistTimer);
    try {
      const list = await this.client.list<T>(
        this.resource,
        this.options.namespace,
        this.options.labelSelector,
      );
      if (run !== this.generation) return;
      const seen = new Set<string>();
      for (const item of list.items) {
        const object: T = deepFreeze<T>({
          ...item,
          apiVersion: this.resource.apiVersion,
          kind: this.resource.kind,
        });
        const k = key(object);
        seen.add(k);
        const old = this.cache.get(k);
        if (old?.metadata.resourceVersion === object.metadata.resourceVersion) continue;
        this.cache.set(k, object);
        this.emit(old ? 'update' : 'add', object);
      }
      for (const [k, old] of this.cache)
        if (!seen.has(k)) {
          this.cache.delete(k);
          this.emit('delete', old);
        }
      this.failures = 0;
      if (!this.synced) {
        this.synced = true;
        for (const w of this.syncWaiters.splice(0)) w();
      }
      this.relistTimer = setTimeout(
        () => this.restart(run, undefined),
        this.options.relistMs ?? 600_000,
      );
      this.relistTimer.unref();
      await this.watch(run, list.metadata.resourceVersion ?? '');
    } catch (error) {
      this.restart(run, error);
    }
  }

  private async watch(run: number, resourceVersion: string): Promise<void> {
    const query: Record<string, string | boolean> = { resourceVersion, allowWatchBookmarks: true };
    if (this.options.labelSelector) query.labelSelector = this.options.labelSelector;
    this.abort = await new Watch(this.kubeConfig).watch(
      resourcePath(this.resource, this.options.namespace),
      query,
      (phase: string, object: T) => {
        if (run !== this.generation) return;
        if (phase === 'BOOKMARK') return;
        if (phase === 'ERROR') {
          this.restart(run, new Error(`watch error: ${JSON.stringify(object).slice(0, 200)}`));
          return;
        }
        this.failures = 0;
        const frozen = deepFreeze(object);
        const k = key(frozen);
        if (phase === 'DELETED') {
          this.cache.delete(k);
          this.emit('delete', frozen);
        } else {
          const existed = this.cache.has(k);
          this.cache.set(k, frozen);
          this.emit(existed ? 'update' : 'add', frozen);
        }
      },
      (error: unknown) => this.restart(run, error ?? new Error('watch closed')),
    );
  }

  private restart(run: number, error: unknown): void {
    if (this.stopped || run !== this.generation) return;
    this.generation++;
    this.abort?.abort();
    clearTimeout(this.relistTimer);
    let delay = 0;
    if (error !== undefined) {
      this.failures++;
      this.restarts++;
      delay = Math.min(
        this.options.maxBackoffMs ?? 30_000,
        (this.options.backoffMs ?? 200) * 2 ** (this.failures - 1),
      );
      this.log.info('informer restarting', {
        resource: this.resource.plural,
        in: `${delay}ms`,
        reason: describe(error),
      });
    }
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) void this.run();
    }, delay);
    this.retryTimer.unref();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}
