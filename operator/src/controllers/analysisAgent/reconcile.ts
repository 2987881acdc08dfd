// The AnalysisAgent reconcile: the short glue between the pure core (desired children,
// status) and the API server. Level-based and safe to repeat: read the agent from the cache,
// apply each child whose inputs changed, look at what runs, ask every running agent pod
// for its /status (a pod that is not ready says why), and write the status when it changed.
import { agentPodsOf, splitByOwner, type AgentPod } from '../../domain/agentPod.js';
import { failureAtAddress } from '../../domain/agentRequest.js';
import { agentChildren, type StoredAgent } from '../../domain/analysisAgent/desired.js';
import {
  agentStatus,
  type AgentObservation,
  type AgentReport,
  type PodObservation,
} from '../../domain/analysisAgent/status.js';
import { RESOURCES } from '../../domain/resources.js';
import { sourceTableDecision } from '../../domain/sourceTables.js';
import { mergeConditions, type Condition } from '../../runtime/conditions.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import type { KubeObject } from '../../runtime/kubeClient.js';
import { isRunningPod } from '../../runtime/pods.js';
import { writeStatusIfChanged } from '../../runtime/statusWrite.js';
import { ChildConflictError } from '../../runtime/ownership.js';
import { isTerminal } from '../../runtime/terminalError.js';
import { applyAgentChildren, missingSecrets, modelClaims } from './children.js';
import { forgetAnomalyEvents, recordAnomalyEvents } from './anomalyEvents.js';
import type { AgentContext } from './context.js';
import { syncTokenSecrets } from './tokenSecrets.js';

function observePod(pod: AgentPod): PodObservation {
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

/** Every pod whose agent runs is asked, ready or not: one that is not ready says why. */
async function askPods(
  ctx: AgentContext,
  pods: AgentPod[],
  agentUid: string,
): Promise<Pick<AgentObservation, 'reports' | 'unreachable'>> {
  const reports: AgentReport[] = [];
  const unreachable: { pod: string; error: string }[] = [];
  await Promise.all(
    pods.filter(isRunningPod).map(async (p) => {
      try {
        reports.push(await ctx.fetchStatus(p, agentUid));
      } catch (error) {
        unreachable.push({ pod: p.metadata.name, error: failureAtAddress(error) });
      }
    }),
  );
  reports.sort((a, b) => a.pod.localeCompare(b.pod));
  return { reports, unreachable };
}

/** Why the children were not applied: the server refuses one for good, or objects are in the way. */
type Rejection = Error & { reason: string };

/** Writes the status when it changed, with an Event when readiness changes. */
async function writeAgentStatus(
  ctx: AgentContext,
  agent: StoredAgent & KubeObject,
  observation: AgentObservation,
  rejected: Rejection | undefined,
): Promise<void> {
  const computed = agentStatus(observation);
  // A child the server refuses, or cannot take the place of, makes the agent not ready,
  // whatever its pods say.
  if (rejected)
    computed.conditions = computed.conditions.map((c) =>
      c.type === 'Ready'
        ? { ...c, status: 'False', reason: rejected.reason, message: rejected.message }
        : c,
    );
  const previous = (agent.status?.conditions ?? []) as Condition[];
  const generation = agent.metadata.generation;
  const conditions = mergeConditions(
    previous,
    computed.conditions,
    generation,
    ctx.now().toISOString(),
  );
  const status = { ...computed, observedGeneration: generation, conditions };
  if (!(await writeStatusIfChanged(ctx.client, RESOURCES.analysisAgent, agent, status))) return;
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
  // And when a pod moved its store aside (issue 20, M5): the anomalies before are not served.
  const recovered = conditions.find((c) => c.type === 'StoreRecovered');
  const wasRecovered = previous.find((c) => c.type === 'StoreRecovered');
  if (recovered?.status === 'True' && wasRecovered?.message !== recovered.message)
    await ctx.events.record(agent, 'Warning', recovered.reason, recovered.message);
}

/**
 * Applies the children; a child the server refuses for good, or objects in their places, are
 * returned, to be recorded. So is a source table the administrator does not allow (issue 20,
 * M4): the children are applied as if paused, so no pod reads it, and one that ran is scaled to
 * zero (its claims stay). Not thrown: the status follows the pods going.
 */
async function applyOrReject(
  ctx: AgentContext,
  agent: StoredAgent & KubeObject,
): Promise<{ rolled: boolean; rejected?: Rejection; refused?: Rejection; statefulSet: string }> {
  const table = sourceTableDecision(agent.spec.source, ctx.settings.allowedSourceTables ?? []);
  const refused = table.allowed ? undefined : Object.assign(new Error(table.message), table);
  const runnable = refused ? { ...agent, spec: { ...agent.spec, paused: true } } : agent;
  const children = agentChildren(runnable, ctx.settings, modelClaims(ctx, agent));
  const statefulSet = children.statefulSet.metadata.name;
  try {
    return { rolled: await applyAgentChildren(ctx, agent, children), refused, statefulSet };
  } catch (error) {
    if (!isTerminal(error) && !(error instanceof ChildConflictError)) throw error;
    return { rolled: false, rejected: error as Rejection, statefulSet };
  }
}

export async function reconcileAnalysisAgent(
  ctx: AgentContext,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const agent = ctx.agents.get(namespace, name);
  if (!agent || agent.metadata.deletionTimestamp) {
    // The garbage collector removes the children; its keys in the token Secrets go now.
    forgetAnomalyEvents(ctx, namespace, name);
    await syncTokenSecrets(ctx, namespace);
    return {};
  }
  const missing = await missingSecrets(ctx, agent);
  const { rolled, rejected, refused, statefulSet: setName } = await applyOrReject(ctx, agent);
  const statefulSet = ctx.statefulSets.get(namespace, setName);
  // Only pods its own StatefulSet controls: the labels alone are anyone's to copy.
  const labelled = agentPodsOf(ctx.pods.list(namespace), name);
  const { own: pods, ignored } = splitByOwner(labelled, statefulSet, agent.metadata.uid);
  if (statefulSet) ctx.ignoredPods.note(ctx.log, ignored, { kind: 'analysisAgent', name });
  const observation: AgentObservation = {
    agent,
    statefulSet: statefulSet?.status,
    missingSecrets: missing,
    pods: pods.map(observePod),
    ...(await askPods(ctx, pods, agent.metadata.uid)),
  };
  await writeAgentStatus(ctx, agent, observation, rejected ?? refused);
  await syncTokenSecrets(ctx, namespace, agent);
  await recordAnomalyEvents(ctx, agent, pods, observation.reports);
  // Recorded in Ready. A terminal error is not retried until the spec changes; a conflict is
  // retried with backoff (the object in the way is not ours, so no watch tells of its going).
  if (rejected) throw rejected;
  if (rolled) ctx.log.debug('applied agent children', { namespace, name }, 2);
  // Agents' own figures change without any Kubernetes event: poll while pods run, and check
  // again for a missing Secret (Secrets are not watched: the operator never caches them).
  const running = (statefulSet?.status?.replicas ?? 0) > 0 || missing.length > 0;
  return running ? { requeueAfterMs: ctx.pollMs } : {};
}
