// A controller: a work queue of keys ("namespace/name"), fed by informers (the primary kind's
// own events, and its children's events mapped back to their owner), and workers that run a
// level-based reconcile for each key. It starts its workers only once every informer has
// synced, retries failures with the queue's backoff, and requeues when a reconcile asks to. A
// terminal error (terminalError.ts) is not retried: its key waits for a new generation.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import type { Cache } from './informer.js';
import { ApiError, type KubeObject } from './kubeClient.js';
import type { Logger } from '../../../api/src/log.js';
import { isTerminal, TerminalKeys } from './terminalError.js';
import { WorkQueue, type QueueOptions } from './workQueue.js';

export interface ReconcileResult {
  /** Run again after this long even if nothing changes (e.g. to poll agents). */
  requeueAfterMs?: number;
}

export type Reconcile = (namespace: string, name: string) => Promise<ReconcileResult | void>;

export interface ControllerMetrics {
  reconciles: Counter;
  durations: Histogram;
  depth: Gauge;
  queueLatency: Histogram;
}

/** The metrics every controller reports, labelled by controller, in one registry. */
export function controllerMetrics(registry: Registry): ControllerMetrics {
  return {
    reconciles: new Counter({
      name: 'edgewarden_operator_reconcile_total',
      help: 'Reconciles, by controller and result (success, error, conflict: the object changed meanwhile, terminal: a spec no retry can cure).',
      labelNames: ['controller', 'result'],
      registers: [registry],
    }),
    durations: new Histogram({
      name: 'edgewarden_operator_reconcile_duration_seconds',
      help: 'Duration of reconciles, by controller.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    depth: new Gauge({
      name: 'edgewarden_operator_workqueue_depth',
      help: 'Keys waiting in the work queue, by controller.',
      labelNames: ['controller'],
      registers: [registry],
    }),
    queueLatency: new Histogram({
      name: 'edgewarden_operator_workqueue_latency_seconds',
      help: 'How long a key waited in the queue before a worker took it, by controller.',
      labelNames: ['controller'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
      registers: [registry],
    }),
  };
}

const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

export class Controller {
  readonly queue: WorkQueue;
  private readonly informers: Cache<KubeObject>[] = [];
  /** The primary kind's cache: the generation a terminal error waits to see change. */
  private primary?: Cache<KubeObject>;
  private readonly terminal = new TerminalKeys();
  private workers: Promise<void>[] = [];

  constructor(
    readonly name: string,
    private readonly reconcile: Reconcile,
    private readonly log: Logger,
    private readonly metrics: ControllerMetrics,
    queueOptions: Partial<QueueOptions> = {},
  ) {
    const labels = { controller: name };
    this.queue = new WorkQueue(queueOptions, {
      onDepth: (d) => metrics.depth.set(labels, d),
      onGet: (ms) => metrics.queueLatency.observe(labels, ms / 1000),
    });
    metrics.depth.set(labels, 0);
    metrics.reconciles.inc({ controller: name, result: 'success' }, 0);
    metrics.reconciles.inc({ controller: name, result: 'error' }, 0);
    metrics.reconciles.inc({ controller: name, result: 'conflict' }, 0);
    metrics.reconciles.inc({ controller: name, result: 'terminal' }, 0);
  }

  /** The primary kind: each of its events queues its own key. */
  watches<T extends KubeObject>(informer: Cache<T>): this {
    this.informers.push(informer);
    this.primary = informer;
    informer.on((_event, o) => this.queue.add(keyOf(o.metadata.namespace, o.metadata.name)));
    return this;
  }

  /** A child kind: each of its events queues the key of its controlling owner of `ownerKind`. */
  owns<T extends KubeObject>(informer: Cache<T>, ownerKind: string): this {
    this.informers.push(informer);
    informer.on((_event, o) => {
      const owner = o.metadata.ownerReferences?.find((r) => r.controller && r.kind === ownerKind);
      if (owner) this.queue.add(keyOf(o.metadata.namespace, owner.name));
    });
    return this;
  }

  /** Any other mapping from an object to the keys it concerns (e.g. a Secret to its users). */
  maps<T extends KubeObject>(informer: Cache<T>, keys: (o: T) => string[]): this {
    this.informers.push(informer);
    informer.on((_event, o) => {
      for (const k of keys(o)) this.queue.add(k);
    });
    return this;
  }

  /** Starts the informers, waits for their caches, then starts `workers` workers. */
  async start(workers = 2): Promise<void> {
    for (const i of this.informers) i.start();
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    this.log.info('caches synced; starting workers', { controller: this.name, workers });
    this.workers = Array.from({ length: workers }, () => this.work());
  }

  get synced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.process(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async process(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const object = this.primary?.get(namespace, name);
    if (this.terminal.parked(key, object)) return;
    const end = this.metrics.durations.startTimer({ controller: this.name });
    try {
      const result = await this.reconcile(namespace, name);
      this.queue.forget(key);
      this.metrics.reconciles.inc({ controller: this.name, result: 'success' });
      if (result?.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      this.failed(key, namespace, name, object, error);
    } finally {
      end();
    }
  }

  private failed(
    key: string,
    namespace: string,
    name: string,
    object: KubeObject | undefined,
    error: unknown,
  ): void {
    if (isTerminal(error)) {
      // Recorded in a condition by the reconcile; a retry would fail the same way.
      this.queue.forget(key);
      this.terminal.park(key, object);
      this.metrics.reconciles.inc({ controller: this.name, result: 'terminal' });
      this.log.info('terminal error; not retried until the spec changes', {
        controller: this.name,
        namespace,
        name,
        err: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    const delay = this.queue.addRateLimited(key);
    const fields = { controller: this.name, namespace, name, retryIn: `${delay}ms` };
    if (error instanceof ApiError && error.conflict) {
      // The object changed after we read it (a precondition failed): expected now and then,
      // and the retry reads the new one. Counted apart from errors, logged at -v=2.
      this.metrics.reconciles.inc({ controller: this.name, result: 'conflict' });
      this.log.debug('object changed meanwhile; retrying', { ...fields, err: error.message }, 2);
    } else {
      this.metrics.reconciles.inc({ controller: this.name, result: 'error' });
      this.log.error('reconcile failed; retrying', error, fields);
    }
  }

  /** Stops taking keys, lets running reconciles finish, stops the informers. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
    for (const i of this.informers) i.stop();
  }
}
