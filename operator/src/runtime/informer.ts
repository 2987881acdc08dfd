// An informer: a local cache of one resource kind, kept by list + watch, that tells listeners
// what changed. Informers have gone silent for hours in the field, so this one owns its loop:
//  - a watch the server ends on time (its timeoutSeconds, 5 to 10 minutes as client-go picks)
//    is opened again from the last resourceVersion seen, bookmarks included: no relist, no
//    failure. A watch whose resourceVersion has expired (410 Gone) lists again at once;
//  - any other error (watch or list) restarts it with exponential backoff, from a fresh list;
//  - every `relistMs` it lists again anyway and reconciles the cache with what it finds;
//  - objects in the cache are frozen: a listener that tried to mutate one would throw.
import {
  ApiError,
  resourcePath,
  type KubeClient,
  type KubeObject,
  type Resource,
} from './kubeClient.js';
import type { Logger } from '../../../api/src/log.js';
import { watch, watchEventError } from './watch.js';

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
  /** The watch's timeoutSeconds (default: random between 300 and 600, as client-go). */
  watchTimeoutSeconds?: number;
}

/** A watch that ends sooner than this with no event is a failure, not a timeout (as client-go). */
const SHORT_WATCH_MS = 1000;

const key = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** What controllers and reconciles use of an informer: its cache and its events. */
export interface Cache<T extends KubeObject> {
  on(listener: Listener<T>): void;
  get(namespace: string | undefined, name: string): T | undefined;
  list(namespace?: string): T[];
  readonly hasSynced: boolean;
  waitForSync(): Promise<void>;
  start(): void;
  stop(): void;
}

/**
 * One kind in several namespaces: an informer per namespace (an operator limited to some
 * namespaces has no right to list the kind cluster-wide), seen as one cache.
 */
export class NamespacedInformers<T extends KubeObject> implements Cache<T> {
  constructor(readonly informers: ReadonlyMap<string, Informer<T>>) {}

  on(listener: Listener<T>): void {
    for (const i of this.informers.values()) i.on(listener);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return namespace === undefined
      ? undefined
      : this.informers.get(namespace)?.get(namespace, name);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return this.informers.get(namespace)?.list(namespace) ?? [];
    return [...this.informers.values()].flatMap((i) => i.list());
  }

  get hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced);
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  start(): void {
    for (const i of this.informers.values()) i.start();
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}

export class Informer<T extends KubeObject> implements Cache<T> {
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
  /** Watches the server ended on time and that went on from where they were, for tests. */
  rewatches = 0;

  constructor(
    private readonly client: KubeClient,
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

  /** Watches from `resourceVersion`, again and again while the server ends each watch on time. */
  private async watch(run: number, resourceVersion: string): Promise<void> {
    let version = resourceVersion;
    for (;;) {
      const abort = new AbortController();
      this.abort = abort;
      const query: Record<string, string> = {
        resourceVersion: version,
        allowWatchBookmarks: 'true',
      };
      if (this.options.labelSelector) query.labelSelector = this.options.labelSelector;
      const timeoutSeconds =
        this.options.watchTimeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
      const started = Date.now();
      let events = 0;
      try {
        await watch(
          this.client.connection,
          resourcePath(this.resource, this.options.namespace),
          { query, signal: abort.signal, timeoutSeconds },
          (phase, raw) => {
            if (run !== this.generation) return;
            events++;
            if (phase === 'ERROR') {
              const error = watchEventError(raw, `watch ${this.resource.plural}`);
              this.restart(run, error.gone ? undefined : error, error.gone);
              return;
            }
            const object = raw as T;
            const rv = object.metadata?.resourceVersion;
            if (rv) version = rv;
            if (phase === 'BOOKMARK') return;
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
        );
      } catch (error) {
        if (error instanceof ApiError && error.gone) this.restart(run, undefined, true);
        else this.restart(run, error);
        return;
      }
      if (run !== this.generation) return;
      if (events === 0 && Date.now() - started < SHORT_WATCH_MS) {
        this.restart(run, new Error('the watch ended at once, with no event'));
        return;
      }
      // The server ended the watch on time: go on from the last resourceVersion seen.
      this.rewatches++;
      this.log.debug('informer watch ended on time; watching on', {
        resource: this.resource.plural,
        resourceVersion: version,
      });
    }
  }

  /** Lists and watches again: after `error` with backoff, else at once (`expired`: a 410 Gone). */
  private restart(run: number, error: unknown, expired = false): void {
    if (this.stopped || run !== this.generation) return;
    this.generation++;
    this.abort?.abort();
    clearTimeout(this.relistTimer);
    let delay = 0;
    if (expired)
      this.log.info('informer relisting: its resourceVersion expired (410 Gone)', {
        resource: this.resource.plural,
      });
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
