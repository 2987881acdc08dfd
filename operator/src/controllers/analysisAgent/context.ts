// Everything an AnalysisAgent reconcile needs, passed in (its controller.ts builds it).
import type { Logger } from '../../../../api/src/log.js';
import type { AgentPod } from '../../domain/agentPod.js';
import type { AnomalyPage } from '../../domain/agentAnomalies.js';
import type { AnomalyEventState } from '../../domain/analysisAgent/anomalyEvents.js';
import type { OperatorSettings, StoredAgent } from '../../domain/analysisAgent/desired.js';
import type { AgentReport } from '../../domain/analysisAgent/status.js';
import type { StoredModelDeployment } from '../../domain/modelDeployment/rollout.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { IgnoredPods } from '../../runtime/ignoredPods.js';
import type { Cache } from '../../runtime/informer.js';
import type { KubeClient, KubeObject } from '../../runtime/kubeClient.js';

export type StatefulSet = KubeObject & { status?: { replicas?: number; readyReplicas?: number } };

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
  networkPolicies: Cache<KubeObject>;
  pods: Cache<AgentPod>;
  /** Pods with an agent's labels that its StatefulSet does not control: logged once each. */
  ignoredPods: IgnoredPods;
  /** ModelDeployments, for the claims of a persistentVolumeClaim model source. */
  models: Cache<StoredModelDeployment & KubeObject>;
  /** Reads one agent pod's /status (main: over HTTP to the pod's IP). */
  fetchStatus(pod: AgentPod, agentUid?: string): Promise<AgentReport>;
  /**
   * Reads one page of an agent pod's GET /anomalies with the agent's control token (main: over
   * HTTP to the pod's IP); without it no anomaly Events are recorded.
   */
  fetchAnomalies?(
    pod: AgentPod,
    agentUid: string,
    query: Record<string, string>,
  ): Promise<AnomalyPage>;
  /** Per agent (namespace/name): where the reading of its pods' anomalies stands (issue 21). */
  anomalyEvents: Map<string, AnomalyEventState>;
  /** When the operator started: anomaly Events begin one interval before it. */
  startedAt: Date;
  /** How often status is refreshed from the agents while pods run. */
  pollMs: number;
  now(): Date;
}
