// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the
// holder renews the lease every `retryMs`; a candidate takes it over once it has gone
// unrenewed for `leaseDurationMs`. Writes carry the lease's resourceVersion, so of two
// candidates racing for an expired lease only one wins (the other gets 409 Conflict). A leader
// that cannot renew within its lease stops leading (and the operator exits, to start clean).
import { ApiError, type KubeClient, type KubeObject, type Resource } from './kubeClient.js';
import type { Logger } from '../../../api/src/log.js';

const LEASES: Resource = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
};

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  retryMs: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/** RFC 3339 with microseconds, as the Lease's MicroTime fields need. */
const microTime = (ms: number): string =>
  new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly options: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get<Lease>(LEASES, this.options.namespace, this.options.name);
      if (lease.spec?.holderIdentity === this.options.identity)
        await this.client.request('PUT', leasePath(this.options), {
          body: {
            ...lease,
            spec: {
              ...lease.spec,
              holderIdentity: '',
              renewTime: microTime(Date.now()),
              leaseDurationSeconds: 1,
            },
          },
        });
    } catch (error) {
      this.log.error('could not release the lease', error, { lease: this.options.name });
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.options.retryMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const held = await this.tryAcquireOrRenew();
      if (held) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.log.info('became the leader', {
            lease: this.options.name,
            identity: this.options.identity,
          });
          this.options.onStartedLeading();
        }
      } else if (this.leading) {
        this.lose('another replica holds the lease');
      }
    } catch (error) {
      this.log.error('leader election round failed', error, { lease: this.options.name });
      if (this.leading && Date.now() - this.lastRenew > this.options.leaseDurationMs)
        this.lose('could not renew the lease in time');
    }
    this.schedule();
  }

  private lose(reason: string): void {
    this.leading = false;
    this.log.info('stopped leading', { lease: this.options.name, reason });
    this.options.onStoppedLeading();
  }

  /** One round: true when this replica holds the lease after it. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.options;
    const now = Date.now();
    const lease = await this.client.find<Lease>(LEASES, namespace, name);
    const seconds = Math.ceil(leaseDurationMs / 1000);
    if (!lease) {
      try {
        await this.client.create(LEASES, {
          apiVersion: LEASES.apiVersion,
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: seconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) return false; // someone else made it
        throw error;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = now - renewed > (spec.leaseDurationSeconds ?? seconds) * 1000;
    if (holder !== identity && holder !== '' && !expired) return false;
    const takeover = holder !== identity;
    try {
      await this.client.request('PUT', leasePath(this.options), {
        body: {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds: seconds,
            renewTime: microTime(now),
            ...(takeover
              ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }
              : {}),
          },
        },
      });
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return false; // lost the race
      throw error;
    }
  }
}

function leasePath(o: { namespace: string; name: string }): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(o.namespace)}/leases/${encodeURIComponent(o.name)}`;
}
