// An event recorder: Kubernetes Events (core/v1) on an object, as `kubectl describe` shows
// them. A repeat of the same reason and message on the same object raises the count of the
// existing Event instead of adding one.
import { createHash } from 'node:crypto';

import { ApiError, type KubeClient, type KubeObject, type Resource } from './kubeClient.js';
import type { Logger } from '../../../api/src/log.js';

const EVENTS: Resource = { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true };

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log: Logger,
  ) {}

  /** Records an event; never throws (an event is worth less than the reconcile that sends it). */
  async record(
    object: KubeObject,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const m = object.metadata;
    const id = createHash('sha256')
      .update(`${m.uid ?? ''}/${type}/${reason}/${message}`)
      .digest('hex')
      .slice(0, 12);
    const name = `${m.name}.${id}`;
    const now = new Date().toISOString();
    try {
      const existing = await this.client.find<KubeObject & { count?: number }>(
        EVENTS,
        m.namespace,
        name,
      );
      if (existing) {
        await this.client.mergePatch(EVENTS, m.namespace, name, {
          count: (existing.count ?? 1) + 1,
          lastTimestamp: now,
        });
        return;
      }
      await this.client.create(EVENTS, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: m.namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: m.name,
          namespace: m.namespace,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return; // another replica raced us
      this.log.error('could not record an event', error, {
        object: `${m.namespace}/${m.name}`,
        reason,
      });
    }
  }
}
