// The AnalysisAgent controller as main registers it: its reconcile's context from the shared
// informers, and what it watches. Its own kind; the children it owns (the NetworkPolicy too
// when the operator makes none, so one it made before is seen and removed); its pods, by their
// instance label; and the ModelDeployments its agents name (a claim source is mounted).
import type { AgentPod } from '../../domain/agentPod.js';
import type { AnomalyPage } from '../../domain/agentAnomalies.js';
import { instanceKey } from '../../domain/agentPod.js';
import type { OperatorSettings } from '../../domain/analysisAgent/desired.js';
import type { AgentReport } from '../../domain/analysisAgent/status.js';
import { RESOURCES } from '../../domain/resources.js';
import { AGENT_PODS, MANAGED_CHILDREN } from '../../domain/selectors.js';
import { Controller } from '../../runtime/controller.js';
import { IgnoredPods } from '../../runtime/ignoredPods.js';
import type { ControllerEnv } from '../../runtime/controllerEnv.js';
import type { AgentContext } from './context.js';
import { reconcileAnalysisAgent } from './reconcile.js';

export interface AnalysisAgentOptions {
  settings: OperatorSettings;
  /** Status polls of agent pods, while they run. */
  pollMs: number;
  fetchStatus(pod: AgentPod, agentUid?: string): Promise<AgentReport>;
  /** One page of a pod's GET /anomalies, for the Events of new anomalies (issue 21). */
  fetchAnomalies?(
    pod: AgentPod,
    agentUid: string,
    query: Record<string, string>,
  ): Promise<AnomalyPage>;
}

export function analysisAgentController(
  env: ControllerEnv,
  options: AnalysisAgentOptions,
): Controller {
  const ctx: AgentContext = {
    ...options,
    client: env.client,
    log: env.log.with({ controller: 'analysisagent' }),
    events: env.events,
    agents: env.informer(RESOURCES.analysisAgent),
    statefulSets: env.informer(RESOURCES.statefulSet, MANAGED_CHILDREN),
    services: env.informer(RESOURCES.service, MANAGED_CHILDREN),
    configMaps: env.informer(RESOURCES.configMap, MANAGED_CHILDREN),
    serviceAccounts: env.informer(RESOURCES.serviceAccount, MANAGED_CHILDREN),
    networkPolicies: env.informer(RESOURCES.networkPolicy, MANAGED_CHILDREN),
    pods: env.informer(RESOURCES.pod, AGENT_PODS),
    ignoredPods: new IgnoredPods(),
    models: env.informer(RESOURCES.modelDeployment),
    anomalyEvents: new Map(),
    startedAt: env.now(),
    now: env.now,
  };
  const reconcile = (namespace: string, name: string) =>
    reconcileAnalysisAgent(ctx, namespace, name);
  return new Controller('analysisagent', reconcile, env.log, env.metrics)
    .watches(ctx.agents)
    .owns(ctx.statefulSets, 'AnalysisAgent')
    .owns(ctx.services, 'AnalysisAgent')
    .owns(ctx.configMaps, 'AnalysisAgent')
    .owns(ctx.serviceAccounts, 'AnalysisAgent')
    .owns(ctx.networkPolicies, 'AnalysisAgent')
    .maps(ctx.pods, instanceKey)
    .maps(ctx.models, (m) =>
      ctx.agents
        .list(m.metadata.namespace)
        .filter((a) => a.spec.model?.name === m.metadata.name)
        .map((a) => `${a.metadata.namespace}/${a.metadata.name}`),
    );
}
