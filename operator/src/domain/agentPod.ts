// An agent pod as the controllers see it: which pods are an agent's, and where its HTTP server
// listens (the `http` port its container declares, at the pod's IP).
import type { KubeObject } from '../runtime/kubeClient.js';
import type { AgentRequest } from './agentRequest.js';

export type AgentPod = KubeObject & {
  spec?: { containers?: { name: string; ports?: { name?: string; containerPort: number }[] }[] };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[];
  };
};

/** The AnalysisAgent a pod of ours belongs to: its instance label names it. */
export const instanceOf = (pod: KubeObject): string | undefined =>
  pod.metadata.labels?.['app.kubernetes.io/instance'];

/** The key ("namespace/name") of the resource a pod of ours belongs to, if it names one. */
export function instanceKey(pod: KubeObject): string[] {
  const instance = instanceOf(pod);
  return instance ? [`${pod.metadata.namespace ?? ''}/${instance}`] : [];
}

/** The agent pods of the AnalysisAgent `agent`, among `pods`. */
export function agentPodsOf<P extends AgentPod>(pods: readonly P[], agent: string): P[] {
  return pods.filter(
    (p) =>
      instanceOf(p) === agent && p.metadata.labels?.['app.kubernetes.io/component'] === 'agent',
  );
}

/** The agent container's `http` port, as its pod declares it (the contract's default otherwise). */
export function agentPort(pod: AgentPod, fallback: number): number {
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === 'http') return p.containerPort;
  return fallback;
}

/** <pod IP>:<http port> of an agent pod (an IPv6 address in brackets). */
export function agentAddress(pod: AgentPod, fallbackPort: number): string {
  const ip = pod.status!.podIP!;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `${host}:${agentPort(pod, fallbackPort)}`;
}

/** http://<pod IP>:<http port><path> of an agent pod. */
export function agentUrl(pod: AgentPod, fallbackPort: number, path: string): string {
  return `http://${agentAddress(pod, fallbackPort)}${path}`;
}

/** A request of `method` and `path` to an agent pod, for its URL and its failures' wording. */
export function agentRequest(
  pod: AgentPod,
  fallbackPort: number,
  method: AgentRequest['method'],
  path: string,
): { request: AgentRequest; url: string } {
  return {
    request: { method, path, pod: pod.metadata.name, address: agentAddress(pod, fallbackPort) },
    url: agentUrl(pod, fallbackPort, path),
  };
}
