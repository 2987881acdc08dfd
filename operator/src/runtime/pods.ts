// What the operator asks of a pod before it sends it a request: that it runs, has an address,
// and is not on its way out. Kubernetes' own Pod, no kind of ours.
import type { KubeObject } from './kubeClient.js';

export type PodLike = KubeObject & { status?: { phase?: string; podIP?: string } };

/** A pod whose containers run at an address, and that is not being deleted. */
export function isRunningPod(pod: PodLike): boolean {
  return pod.status?.phase === 'Running' && !!pod.status.podIP && !pod.metadata.deletionTimestamp;
}
