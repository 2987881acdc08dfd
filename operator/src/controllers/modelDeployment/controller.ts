// The ModelDeployment controller as main registers it: its reconcile's context from the shared
// informers, and what it watches: its own kind, and the agents and agent pods of the
// ModelDeployment an agent names (a pod that starts is offered the model).
import type {
  ModelOfferRequest,
  ModelOfferResult,
} from '../../../../agent-runtime/src/contract/index.js';
import { instanceOf, type AgentPod } from '../../domain/agentPod.js';
import type { AgentReport } from '../../domain/analysisAgent/status.js';
import { RESOURCES } from '../../domain/resources.js';
import { AGENT_PODS, MANAGED_CHILDREN } from '../../domain/selectors.js';
import { Controller } from '../../runtime/controller.js';
import { IgnoredPods } from '../../runtime/ignoredPods.js';
import type { ControllerEnv } from '../../runtime/controllerEnv.js';
import { RepeatedFailures } from '../../runtime/repeatedFailures.js';
import type { ModelContext } from './context.js';
import { reconcileModelDeployment } from './reconcile.js';

export interface ModelDeploymentOptions {
  /** The operator's key, from which each agent's control token is derived. */
  controlKey: Uint8Array;
  pollMs: number;
  fetchStatus(pod: AgentPod, agentUid?: string): Promise<AgentReport>;
  offer(pod: AgentPod, token: string, offer: ModelOfferRequest): Promise<ModelOfferResult>;
  unload(pod: AgentPod, token: string): Promise<void>;
}

export function modelDeploymentController(
  env: ControllerEnv,
  options: ModelDeploymentOptions,
): Controller {
  const ctx: ModelContext = {
    ...options,
    client: env.client,
    log: env.log.with({ controller: 'modeldeployment' }),
    events: env.events,
    models: env.informer(RESOURCES.modelDeployment),
    agents: env.informer(RESOURCES.analysisAgent),
    pods: env.informer(RESOURCES.pod, AGENT_PODS),
    statefulSets: env.informer(RESOURCES.statefulSet, MANAGED_CHILDREN),
    ignoredPods: new IgnoredPods(),
    failures: new RepeatedFailures(),
    now: env.now,
  };
  /** The key of the ModelDeployment the agent `agent` names, if any. */
  const modelOf = (namespace: string | undefined, agent: string | undefined): string[] => {
    const a = agent ? ctx.agents.get(namespace ?? '', agent) : undefined;
    return a?.spec.model ? [`${namespace ?? ''}/${a.spec.model.name}`] : [];
  };
  const reconcile = (namespace: string, name: string) =>
    reconcileModelDeployment(ctx, namespace, name);
  return (
    new Controller('modeldeployment', reconcile, env.log, env.metrics)
      .watches(ctx.models)
      .maps(ctx.agents, (a) => modelOf(a.metadata.namespace, a.metadata.name))
      .maps(ctx.pods, (p) => modelOf(p.metadata.namespace, instanceOf(p)))
      // A pod is trusted once its StatefulSet is seen: the set may arrive after its pods.
      .maps(ctx.statefulSets, (s) => modelOf(s.metadata.namespace, instanceOf(s)))
  );
}
