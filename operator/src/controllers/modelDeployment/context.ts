// Everything a ModelDeployment reconcile needs, passed in (main/operator.ts builds it).
import type {
  ModelOfferRequest,
  ModelOfferResult,
} from '../../../../agent-runtime/src/contract/index.js';
import type { Logger } from '../../../../api/src/log.js';
import type { AgentPod } from '../../domain/agentPod.js';
import type { StoredAgent } from '../../domain/analysisAgent/desired.js';
import type { AgentReport } from '../../domain/analysisAgent/status.js';
import type { StoredModelDeployment } from '../../domain/modelDeployment/rollout.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { IgnoredPods } from '../../runtime/ignoredPods.js';
import type { Cache } from '../../runtime/informer.js';
import type { KubeClient, KubeObject } from '../../runtime/kubeClient.js';
import type { RepeatedFailures } from '../../runtime/repeatedFailures.js';

export interface ModelContext {
  client: KubeClient;
  log: Logger;
  events: EventRecorder;
  models: Cache<StoredModelDeployment & KubeObject>;
  agents: Cache<StoredAgent & KubeObject>;
  pods: Cache<AgentPod>;
  /** The agents' StatefulSets: a pod is an agent's only if its StatefulSet controls it. */
  statefulSets: Cache<KubeObject>;
  /** Pods with an agent's labels that its StatefulSet does not control: logged once each. */
  ignoredPods: IgnoredPods;
  fetchStatus(pod: AgentPod, agentUid?: string): Promise<AgentReport>;
  /** PUT /model on the pod; throws OfferRefused when the agent refuses it. */
  offer(pod: AgentPod, token: string, offer: ModelOfferRequest): Promise<ModelOfferResult>;
  /** DELETE /model on the pod. */
  unload(pod: AgentPod, token: string): Promise<void>;
  /** The operator's key, from which each agent's control token is derived. */
  controlKey: Uint8Array;
  /** Which failed requests to pods were logged, across passes: what is worth another line. */
  failures: RepeatedFailures;
  pollMs: number;
  now(): Date;
}
