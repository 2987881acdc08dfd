// Pods that carry a resource's labels but are not its own (another controller, or none): they
// are never sent a request, and each is logged once, by name and owner, never with a secret.
// Kept across passes (each pass sees the pod again); the count is of distinct pods.
import type { Logger } from '../../../api/src/log.js';
import type { KubeObject } from './kubeClient.js';

export class IgnoredPods {
  private readonly seen = new Set<string>();

  /** Distinct pods ignored so far. */
  get count(): number {
    return this.seen.size;
  }

  /** Logs each pod of `pods` not logged before (by uid, else namespace/name). */
  note(log: Logger, pods: readonly KubeObject[], owner: { kind: string; name: string }): void {
    for (const pod of pods) {
      const key = pod.metadata.uid ?? `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      const controller = pod.metadata.ownerReferences?.find((r) => r.controller === true);
      log.info(
        'ignored a pod with the labels of another resource: not controlled by its StatefulSet',
        {
          namespace: pod.metadata.namespace,
          pod: pod.metadata.name,
          [owner.kind]: owner.name,
          podController: controller ? `${controller.kind}/${controller.name}` : 'none',
          ignoredPods: this.seen.size,
        },
      );
    }
  }
}
