// An agent pod as the controllers see it: which pods are an agent's, and where its HTTP server
// listens (the `http` port its container declares, at the pod's IP).
import type { KubeObject } from '../runtime/kubeClient.js';
import { controlledBy } from '../runtime/ownership.js';
import type { AgentRequest } from './agentRequest.js';
import { childName } from './children.js';

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

/** The StatefulSet that runs the pods of the AnalysisAgent `agent` (its other children share the name). */
export const agentStatefulSetName = (agent: string): string => childName(agent, 'agent');

/**
 * Whether `pod` is one of the agent's own: controlled by `statefulSet`, which the AnalysisAgent of
 * uid `agentUid` controls. Labels are no proof: anyone who may create a pod in the namespace can
 * copy them, and an agent's pods are sent its control token and its model (a Secret's bytes).
 */
export function isOwnAgentPod(
  pod: KubeObject,
  statefulSet: KubeObject | undefined,
  agentUid: string | undefined,
): boolean {
  return (
    statefulSet !== undefined &&
    controlledBy(statefulSet, agentUid) &&
    controlledBy(pod, statefulSet.metadata.uid)
  );
}

/**
 * `pods` (those with an agent's labels) split by owner: the agent's own, and the others, never
 * sent a request. `statefulSet` is the object named agentStatefulSetName(agent) in its namespace.
 */
export function splitByOwner<P extends KubeObject>(
  pods: readonly P[],
  statefulSet: KubeObject | undefined,
  agentUid: string | undefined,
): { own: P[]; ignored: P[] } {
  const own: P[] = [];
  const ignored: P[] = [];
  for (const p of pods) (isOwnAgentPod(p, statefulSet, agentUid) ? own : ignored).push(p);
  return { own, ignored };
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
