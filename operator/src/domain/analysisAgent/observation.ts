// What the operator observes of an AnalysisAgent each pass, for its status: its StatefulSet,
// its pods, the Secrets it references that are missing, and what each running pod reports at
// /status (the agent contract's AgentStatus, the fields the operator uses).
import type { AgentStatus } from '../../../../agent-runtime/src/contract/index.js';
import type { StoredAgent } from './storedAgent.js';

/**
 * What an agent pod reports at /status, as the contract's AgentStatus has it: the fields the
 * operator uses, those an older agent may lack (start, rules and their top) optional.
 */
export type AgentReport = Pick<
  AgentStatus,
  'pod' | 'ready' | 'sourceReachable' | 'sourceError' | 'model' | 'lastCycleTime'
> &
  Pick<AgentStatus, 'linesAnalyzed' | 'start' | 'anomalies'> &
  Partial<Pick<AgentStatus, 'store'>> & {
    drift?: Pick<
      NonNullable<AgentStatus['drift']>,
      'judged' | 'detected' | 'drifted' | 'modelVersion'
    >;
    rules?: Pick<AgentStatus['rules'], 'rules' | 'packs' | 'error'> &
      Partial<Pick<AgentStatus['rules'], 'top'>>;
  };

export interface PodObservation {
  name: string;
  ready: boolean;
  /** Why its container is not running (CreateContainerConfigError, CrashLoopBackOff, ...). */
  waitingReason?: string;
  waitingMessage?: string;
}

export interface AgentObservation {
  agent: StoredAgent;
  statefulSet?: { replicas?: number; readyReplicas?: number };
  /** Referenced Secrets that do not exist, with the field that names them. */
  missingSecrets: { name: string; field: string }[];
  pods: PodObservation[];
  reports: AgentReport[];
  /** Pods whose /status could not be read, with why. */
  unreachable: { pod: string; error: string }[];
}
