// What a pass of the ModelDeployment controller sees: the agents it serves (by reference, kind
// and selector), their pods in name order, what each running pod serves (its /status), and
// what earlier passes kept in the status.
import {
  agentStatefulSetName,
  instanceOf,
  isOwnAgentPod,
  type AgentPod,
} from '../../domain/agentPod.js';
import { failureAtAddress } from '../../domain/agentRequest.js';
import type { AgentReport } from '../../domain/analysisAgent/status.js';
import type { ObservedRollout } from '../../domain/modelDeployment/pass.js';
import {
  controlToken,
  selects,
  type StoredModelDeployment,
} from '../../domain/modelDeployment/rollout.js';
import { isRunningPod } from '../../runtime/pods.js';
import type { ModelContext } from './context.js';
import { logFailure, logRecovery } from './requestLog.js';

/** A running pod, with the bearer token its agent's requests carry. */
export interface PodHandle {
  pod: AgentPod;
  token: string;
}

/** The agents this deployment serves (by reference, kind and selector), and those of another kind. */
function referencing(ctx: ModelContext, md: StoredModelDeployment) {
  const all = ctx.agents
    .list(md.metadata.namespace)
    .filter((a) => a.spec.model?.name === md.metadata.name && !a.metadata.deletionTimestamp);
  return {
    selected: all.filter(
      (a) => a.spec.agent === md.spec.agent && selects(md.spec.selector, a.metadata.labels),
    ),
    wrongKind: all.filter((a) => a.spec.agent !== md.spec.agent).map((a) => a.metadata.name),
  };
}

/**
 * The pods of the agents `uidOf` names (agent name -> uid), in name order: only those their
 * agent's StatefulSet controls. Others with the labels are logged once, and never asked a thing.
 */
function ownPods(ctx: ModelContext, namespace: string, uidOf: Map<string, string | undefined>) {
  const agentOf = (p: AgentPod): string => instanceOf(p) ?? '';
  const setOf = (p: AgentPod) => ctx.statefulSets.get(namespace, agentStatefulSetName(agentOf(p)));
  const labelled = ctx.pods.list(namespace).filter((p) => uidOf.has(agentOf(p)));
  const own = labelled.filter((p) => isOwnAgentPod(p, setOf(p), uidOf.get(agentOf(p))));
  for (const p of labelled)
    if (!own.includes(p) && setOf(p))
      ctx.ignoredPods.note(ctx.log, [p], { kind: 'analysisAgent', name: agentOf(p) });
  return own.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** A running pod's /status, or why it could not be read. */
async function report(
  ctx: ModelContext,
  md: StoredModelDeployment,
  pod: AgentPod,
  agentUid: string | undefined,
): Promise<{ report?: AgentReport; error?: string }> {
  try {
    const answer = await ctx.fetchStatus(pod, agentUid);
    logRecovery(ctx, md, pod.metadata.name, 'status');
    return { report: answer };
  } catch (error) {
    const message = failureAtAddress(error);
    const failure = { reason: 'AgentUnreachable', message };
    logFailure(ctx, md, pod.metadata.name, 'status', failure, undefined);
    return { error: message };
  }
}

/** The world as this pass sees it, and the pods it may ask things of. */
export async function observe(
  ctx: ModelContext,
  md: StoredModelDeployment,
): Promise<{ observed: ObservedRollout; handles: Map<string, PodHandle> }> {
  const { selected, wrongKind } = referencing(ctx, md);
  const uidOf = new Map(selected.map((a) => [a.metadata.name, a.metadata.uid]));
  const agentOf = (p: AgentPod): string => instanceOf(p) ?? '';
  const pods = ownPods(ctx, md.metadata.namespace, uidOf);
  const reports = await Promise.all(
    pods.map((p) =>
      isRunningPod(p) ? report(ctx, md, p, uidOf.get(agentOf(p))) : Promise.resolve(undefined),
    ),
  );
  const handles = new Map(
    pods
      .filter(isRunningPod)
      .map((pod) => [
        pod.metadata.name,
        { pod, token: controlToken(ctx.controlKey, uidOf.get(agentOf(pod))!) },
      ]),
  );
  const observed: ObservedRollout = {
    pods: pods.map((p, i) => ({
      name: p.metadata.name,
      answered: reports[i]?.report !== undefined,
      ...(reports[i]?.report?.model ? { model: reports[i].report.model } : {}),
      ...(reports[i]?.error !== undefined ? { statusError: reports[i].error } : {}),
    })),
    wrongKind,
    kept: md.status ?? {},
    answers: [],
    asked: [],
  };
  return { observed, handles };
}
