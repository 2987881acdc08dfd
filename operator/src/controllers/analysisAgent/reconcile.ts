// The AnalysisAgent reconcile: the short glue between the pure core (desired children,
// status) and the API server. Level-based and safe to repeat: read the agent from the cache,
// apply each child whose inputs changed, look at what runs, ask every running agent pod
// for its /status (a pod that is not ready says why), and write the status when it changed.
import { agentPaths } from '../../../../agent-runtime/src/contract/index.js';
import {
  agentChildren,
  type OperatorSettings,
  type StoredAgent,
} from '../../domain/analysisAgent/desired.js';
import {
  agentStatus,
  referencedSecrets,
  type AgentReport,
  type PodObservation,
} from '../../domain/analysisAgent/status.js';
import type { Child } from '../../domain/children.js';
import type { StoredModelDeployment } from '../../domain/modelDeployment/rollout.js';
import { mergeConditions, type Condition } from '../../runtime/conditions.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import type { EventRecorder } from '../../runtime/events.js';
import { INPUT_HASH_ANNOTATION, inputHash, stableJson } from '../../runtime/hash.js';
import type { Cache } from '../../runtime/informer.js';
import {
  ApiError,
  type KubeClient,
  type KubeObject,
  type Resource,
} from '../../runtime/kubeClient.js';
import type { Logger } from '../../../../api/src/log.js';
import {
  AgentRequestError,
  answerJson,
  failureAtAddress,
  requestAgent,
  type AgentRequest,
} from '../agentRequest.js';

export const RESOURCES = {
  analysisAgent: {
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'AnalysisAgent',
    plural: 'analysisagents',
    namespaced: true,
  },
  statefulSet: {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
  },
  service: { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  serviceAccount: {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespaced: true,
  },
  pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
} satisfies Record<string, Resource>;

export type AgentPod = KubeObject & {
  spec?: { containers?: { name: string; ports?: { name?: string; containerPort: number }[] }[] };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[];
  };
};
type Pod = AgentPod;
type StatefulSet = KubeObject & { status?: { replicas?: number; readyReplicas?: number } };

/** Everything a reconcile needs, passed in (main builds it). */
export interface AgentContext {
  client: KubeClient;
  settings: OperatorSettings;
  log: Logger;
  events: EventRecorder;
  agents: Cache<StoredAgent & KubeObject>;
  statefulSets: Cache<StatefulSet>;
  services: Cache<KubeObject>;
  configMaps: Cache<KubeObject>;
  serviceAccounts: Cache<KubeObject>;
  pods: Cache<Pod>;
  /** ModelDeployments, for the claims of a persistentVolumeClaim model source. */
  models: Cache<StoredModelDeployment & KubeObject>;
  /** Reads one agent pod's /status (main: over HTTP to the pod's IP). */
  fetchStatus(pod: Pod): Promise<AgentReport>;
  /** How often status is refreshed from the agents while pods run. */
  pollMs: number;
  now(): Date;
}

/** Applies a child unless the cached copy was made from the same inputs. */
async function applyChild(
  ctx: AgentContext,
  resource: Resource,
  cache: Cache<KubeObject>,
  child: Child,
): Promise<boolean> {
  const hash = inputHash(child);
  const current = cache.get(child.metadata.namespace, child.metadata.name);
  if (current?.metadata.annotations?.[INPUT_HASH_ANNOTATION] === hash) return false;
  await ctx.client.apply(resource, {
    ...child,
    metadata: {
      ...child.metadata,
      annotations: { ...child.metadata.annotations, [INPUT_HASH_ANNOTATION]: hash },
    },
  } as KubeObject);
  return true;
}

/** Which referenced Secrets exist: metadata only, so the operator never holds their values. */
async function missingSecrets(
  ctx: AgentContext,
  agent: StoredAgent,
): Promise<{ name: string; field: string }[]> {
  const missing: { name: string; field: string }[] = [];
  for (const ref of referencedSecrets(agent)) {
    try {
      await ctx.client.request(
        'GET',
        `/api/v1/namespaces/${agent.metadata.namespace}/secrets/${ref.name}`,
        {
          accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
        },
      );
    } catch (error) {
      if (error instanceof ApiError && error.notFound) missing.push(ref);
      else throw error;
    }
  }
  return missing;
}

/** Claims of the agent's ModelDeployment sources (its target and its stable version). */
function modelClaims(ctx: AgentContext, agent: StoredAgent): string[] {
  const md = agent.spec.model && ctx.models.get(agent.metadata.namespace, agent.spec.model.name);
  if (!md || md.spec.agent !== agent.spec.agent) return [];
  return [md.spec.source, md.status?.stable?.source]
    .map((s) => s?.persistentVolumeClaim?.claimName)
    .filter((c): c is string => c !== undefined);
}

function observePod(pod: Pod): PodObservation {
  const ready =
    pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  return {
    name: pod.metadata.name,
    ready,
    waitingReason: waiting?.reason,
    waitingMessage: waiting?.message,
  };
}

export async function reconcileAnalysisAgent(
  ctx: AgentContext,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const agent = ctx.agents.get(namespace, name);
  if (!agent || agent.metadata.deletionTimestamp) return {}; // the garbage collector removes the children
  const children = agentChildren(agent, ctx.settings, modelClaims(ctx, agent));
  const missing = await missingSecrets(ctx, agent);
  // Children first that pods need, then the StatefulSet. A missing Secret does not stop the
  // rest: the pods would wait for it (and the status says why).
  await applyChild(ctx, RESOURCES.serviceAccount, ctx.serviceAccounts, children.serviceAccount);
  await applyChild(ctx, RESOURCES.configMap, ctx.configMaps, children.configMap);
  await applyChild(ctx, RESOURCES.service, ctx.services, children.service);
  const rolled = await applyChild(
    ctx,
    RESOURCES.statefulSet,
    ctx.statefulSets,
    children.statefulSet,
  );

  const statefulSet = ctx.statefulSets.get(namespace, children.statefulSet.metadata.name);
  const pods = ctx.pods
    .list(namespace)
    .filter(
      (p) =>
        p.metadata.labels?.['app.kubernetes.io/instance'] === name &&
        p.metadata.labels?.['app.kubernetes.io/component'] === 'agent',
    );
  const observed = pods.map(observePod);
  const reports: AgentReport[] = [];
  const unreachable: { pod: string; error: string }[] = [];
  // Every pod whose agent runs is asked, ready or not: one that is not ready says why.
  await Promise.all(
    pods
      .filter(
        (p) => p.status?.phase === 'Running' && p.status.podIP && !p.metadata.deletionTimestamp,
      )
      .map(async (p) => {
        try {
          reports.push(await ctx.fetchStatus(p));
        } catch (error) {
          unreachable.push({ pod: p.metadata.name, error: failureAtAddress(error) });
        }
      }),
  );
  reports.sort((a, b) => a.pod.localeCompare(b.pod));
  const computed = agentStatus({
    agent,
    statefulSet: statefulSet?.status,
    missingSecrets: missing,
    pods: observed,
    reports,
    unreachable,
  });
  const previous = (agent.status?.conditions ?? []) as Condition[];
  const conditions = mergeConditions(
    previous,
    computed.conditions,
    agent.metadata.generation,
    ctx.now().toISOString(),
  );
  const status = { ...computed, observedGeneration: agent.metadata.generation, conditions };
  if (stableJson(status) !== stableJson(agent.status ?? {})) {
    // The resourceVersion the status was computed from is a precondition: if the agent
    // changed meanwhile (a spec edit, or deleted and created again under the same name) the
    // server refuses the write with 409 Conflict, and the retry computes it from the new one.
    await ctx.client.applyStatus(RESOURCES.analysisAgent, {
      apiVersion: agent.apiVersion,
      kind: agent.kind,
      metadata: { name, namespace, resourceVersion: agent.metadata.resourceVersion },
      status,
    });
    // An Event when readiness changes, so `kubectl describe` tells the story.
    const before = previous.find((c) => c.type === 'Ready');
    const ready = conditions.find((c) => c.type === 'Ready')!;
    if (before?.status !== ready.status || before?.reason !== ready.reason)
      await ctx.events.record(
        agent,
        ready.status === 'True' ? 'Normal' : 'Warning',
        ready.reason,
        ready.message,
      );
  }
  if (rolled) ctx.log.debug('applied agent children', { namespace, name }, 2);
  // Agents' own figures change without any Kubernetes event: poll while pods run, and check
  // again for a missing Secret (Secrets are not watched: the operator never caches them).
  const running = (statefulSet?.status?.replicas ?? 0) > 0 || missing.length > 0;
  return running ? { requeueAfterMs: ctx.pollMs } : {};
}

/** The agent container's `http` port, as its pod declares it (the contract's default otherwise). */
export function agentPort(pod: Pod, fallback: number): number {
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === 'http') return p.containerPort;
  return fallback;
}

/** <pod IP>:<http port> of an agent pod (an IPv6 address in brackets). */
export function agentAddress(pod: Pod, fallbackPort: number): string {
  const ip = pod.status!.podIP!;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `${host}:${agentPort(pod, fallbackPort)}`;
}

/** http://<pod IP>:<http port><path> of an agent pod. */
export function agentUrl(pod: Pod, fallbackPort: number, path: string): string {
  return `http://${agentAddress(pod, fallbackPort)}${path}`;
}

/** A request of `method` and `path` to an agent pod, for its URL and its failures' wording. */
export function agentRequest(
  pod: Pod,
  fallbackPort: number,
  method: AgentRequest['method'],
  path: string,
): { request: AgentRequest; url: string } {
  return {
    request: { method, path, pod: pod.metadata.name, address: agentAddress(pod, fallbackPort) },
    url: agentUrl(pod, fallbackPort, path),
  };
}

/** main's fetchStatus: GET http://<pod IP>:<http port>/status, with a short timeout. */
export async function fetchAgentStatus(
  pod: Pod,
  fallbackPort: number,
  timeoutMs = 2000,
): Promise<AgentReport> {
  const { request, url } = agentRequest(pod, fallbackPort, 'GET', agentPaths.status);
  const response = await requestAgent(request, url, {}, timeoutMs);
  if (!response.ok) {
    await response.body?.cancel();
    throw new AgentRequestError(request, `the agent answered HTTP ${response.status}`);
  }
  const body = await answerJson<AgentReport>(request, response, timeoutMs);
  return { ...body, pod: pod.metadata.name };
}
