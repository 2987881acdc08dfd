// Everything an ExportJob reconcile needs, passed in (its controller.ts builds it), and the
// shapes of the Jobs and pods it reads.
import type { Logger } from '../../../../api/src/log.js';
import type { ExportProgress } from '../../../../agent-runtime/src/contract/export.js';
import type { AgentPod } from '../../domain/agentPod.js';
import type { OperatorSettings, StoredAgent } from '../../domain/analysisAgent/desired.js';
import type { StoredExportJob } from '../../domain/exportJob/desired.js';
import type { JobObservation } from '../../domain/exportJob/status.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { Cache } from '../../runtime/informer.js';
import type { KubeClient, KubeObject } from '../../runtime/kubeClient.js';

export type KubeJob = KubeObject & { status?: JobObservation };
export type ExportPod = AgentPod & {
  status?: AgentPod['status'] & {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      state?: {
        waiting?: { reason?: string; message?: string };
        terminated?: { exitCode?: number; message?: string; finishedAt?: string };
      };
    }[];
  };
};

export interface ExportContext {
  client: KubeClient;
  settings: OperatorSettings;
  log: Logger;
  events: EventRecorder;
  exportJobs: Cache<StoredExportJob & KubeObject>;
  agents: Cache<StoredAgent & KubeObject>;
  agentPods: Cache<AgentPod>;
  /** The agents' StatefulSets: a pod is an agent's only if its StatefulSet controls it. */
  statefulSets: Cache<KubeObject>;
  jobs: Cache<KubeJob>;
  configMaps: Cache<KubeObject>;
  exportPods: Cache<ExportPod>;
  /** GET /progress of a running export pod. */
  fetchProgress(pod: ExportPod): Promise<ExportProgress>;
  /** How often a running export's progress is read. */
  progressPollMs: number;
  now(): Date;
}
