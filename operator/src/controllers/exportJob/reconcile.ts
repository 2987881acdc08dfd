// The ExportJob reconcile: makes the plan (once) and the Job (once), follows the Job and its
// pods, reads the running exporter's GET /progress (every few seconds while it runs) and a
// finished one's termination message, and writes the status. After ttlSecondsAfterFinished
// it deletes the ExportJob; a finalizer first runs a cleanup Job that removes the files.
import {
  exportDefaults,
  exportPaths,
  type ExportPlan,
  type ExportProgress,
} from '../../../../agent-runtime/src/contract/export.js';
import { agentDefaults } from '../../../../agent-runtime/src/contract/index.js';
import type { OperatorSettings, StoredAgent } from '../../domain/analysisAgent/desired.js';
import { childName } from '../../domain/children.js';
import {
  exportChildren,
  exportPlan,
  exportWindow,
  FILES_FINALIZER,
  type StoredExportJob,
} from '../../domain/exportJob/desired.js';
import {
  exportPodHold,
  exportStatus,
  parseReport,
  type ExportObservation,
  type JobObservation,
} from '../../domain/exportJob/status.js';
import { mergeConditions } from '../../runtime/conditions.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import type { EventRecorder } from '../../runtime/events.js';
import { stableJson } from '../../runtime/hash.js';
import type { Cache } from '../../runtime/informer.js';
import {
  ApiError,
  type KubeClient,
  type KubeObject,
  type Resource,
} from '../../runtime/kubeClient.js';
import type { Logger } from '../../../../api/src/log.js';
import { agentPodHost } from '../../domain/analysisAgent/podHost.js';
import { agentPort, agentUrl, type AgentPod } from '../analysisAgent/reconcile.js';

export const EXPORT_RESOURCES = {
  exportJob: {
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'ExportJob',
    plural: 'exportjobs',
    namespaced: true,
  },
  job: { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  claim: {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    namespaced: true,
  },
} satisfies Record<string, Resource>;

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

/** The plan an ExportJob's ConfigMap holds, if it was made. */
function planIn(ctx: ExportContext, namespace: string, name: string): ExportPlan | undefined {
  const data: unknown = ctx.configMaps.get(namespace, childName(name, 'export-plan'))?.data;
  const text =
    data && typeof data === 'object' && 'plan.json' in data ? data['plan.json'] : undefined;
  return typeof text === 'string' ? (JSON.parse(text) as ExportPlan) : undefined;
}

export interface ExportContext {
  client: KubeClient;
  settings: OperatorSettings;
  log: Logger;
  events: EventRecorder;
  exportJobs: Cache<StoredExportJob & KubeObject>;
  agents: Cache<StoredAgent & KubeObject>;
  agentPods: Cache<AgentPod>;
  jobs: Cache<KubeJob>;
  configMaps: Cache<KubeObject>;
  exportPods: Cache<ExportPod>;
  /** GET /progress of a running export pod. */
  fetchProgress(pod: ExportPod): Promise<ExportProgress>;
  /** How often a running export's progress is read. */
  progressPollMs: number;
  now(): Date;
}

const running = (p: ExportPod): boolean =>
  p.status?.phase === 'Running' && !!p.status.podIP && !p.metadata.deletionTimestamp;

/** The pods of one Job, newest first. */
function podsOf(ctx: ExportContext, namespace: string, jobName: string): ExportPod[] {
  return ctx.exportPods
    .list(namespace)
    .filter(
      (p) =>
        p.metadata.labels?.['job-name'] === jobName ||
        p.metadata.labels?.['batch.kubernetes.io/job-name'] === jobName,
    )
    .sort((a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
    );
}

/** The plan: made once, from the AnalysisAgent and the agent pods as they are now. */
async function ensurePlan(
  ctx: ExportContext,
  job: StoredExportJob,
): Promise<{ plan: ExportPlan } | { blocked: NonNullable<ExportObservation['blocked']> }> {
  const { namespace, name } = job.metadata;
  const existing = planIn(ctx, namespace, name);
  if (existing) return { plan: existing };
  const window = exportWindow(job.spec, job.metadata.creationTimestamp ?? ctx.now().toISOString());
  if ('error' in window)
    return { blocked: { reason: 'BadTimeRange', message: window.error, permanent: true } };
  let source: StoredAgent['spec']['source'] | undefined;
  if (job.spec.dataTypes.includes('logs')) {
    const ref = job.spec.source?.analysisAgentRef.name ?? '';
    const agent = ctx.agents.get(namespace, ref);
    if (!agent)
      return {
        blocked: {
          reason: 'AnalysisAgentNotFound',
          message: `source.analysisAgentRef: no AnalysisAgent "${ref}" in ${namespace}`,
          permanent: false,
        },
      };
    source = agent.spec.source;
  }
  const kinds = job.spec.filters?.agents;
  const agents = ctx.agents
    .list(namespace)
    .filter((a) => !kinds?.length || (kinds as string[]).includes(a.spec.agent));
  const anomalies = agents.flatMap((a) =>
    ctx.agentPods
      .list(namespace)
      .filter(
        (p) => p.metadata.labels?.['app.kubernetes.io/instance'] === a.metadata.name && running(p),
      )
      .map((p) => ({
        agent: a.metadata.name,
        kind: a.spec.agent,
        pod: p.metadata.name,
        // By its DNS name, not its IP: an agent pod restarted while the export runs (or
        // between a failed try and the next) comes back under the same name, elsewhere.
        url: `http://${agentPodHost(a.metadata.name, p.metadata.name, namespace)}:${agentPort(p, agentDefaults.port)}`,
      })),
  );
  const plan = exportPlan(job, window, source, anomalies);
  const { configMap } = exportChildren(job, plan, ctx.settings);
  try {
    await ctx.client.create(EXPORT_RESOURCES.configMap, configMap as KubeObject);
  } catch (error) {
    if (!(error instanceof ApiError && error.conflict)) throw error; // made by a pass before
  }
  return { plan };
}

async function createOnce(
  ctx: ExportContext,
  resource: Resource,
  object: KubeObject,
): Promise<void> {
  try {
    await ctx.client.create(resource, object);
  } catch (error) {
    if (!(error instanceof ApiError && error.conflict)) throw error;
  }
}

async function setFinalizers(
  ctx: ExportContext,
  job: StoredExportJob,
  finalizers: string[],
): Promise<void> {
  await ctx.client.mergePatch(
    EXPORT_RESOURCES.exportJob,
    job.metadata.namespace,
    job.metadata.name,
    {
      metadata: { finalizers, resourceVersion: job.metadata.resourceVersion },
    },
  );
}

/** The files go first (a cleanup Job on the claim), then the finalizer. */
async function cleanUp(
  ctx: ExportContext,
  job: StoredExportJob & KubeObject,
): Promise<ReconcileResult> {
  const { namespace, name } = job.metadata;
  const others = (job.metadata.finalizers ?? []).filter((f) => f !== FILES_FINALIZER);
  const claim = await ctx.client.find(
    EXPORT_RESOURCES.claim,
    namespace,
    job.spec.destination.persistentVolumeClaim.claimName,
  );
  const plan = planIn(ctx, namespace, name);
  if (!claim || !plan) {
    await setFinalizers(ctx, job, others); // no claim, or never started: no files to remove
    return {};
  }
  const cleanup = exportChildren(job, plan, ctx.settings, true).job;
  const current = ctx.jobs.get(namespace, cleanup.metadata.name);
  if (!current) {
    await createOnce(ctx, EXPORT_RESOURCES.job, cleanup as KubeObject);
    return { requeueAfterMs: ctx.progressPollMs };
  }
  const done = current.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  if (!done) return { requeueAfterMs: ctx.progressPollMs };
  if (done.type === 'Failed')
    await ctx.events.record(
      job,
      'Warning',
      'CleanupFailed',
      `the export files under ${job.spec.destination.path} could not all be removed: ${done.message ?? done.reason ?? 'the cleanup Job failed'}`,
    );
  else
    await ctx.events.record(
      job,
      'Normal',
      'FilesRemoved',
      `removed the export files under ${job.spec.destination.path}`,
    );
  await setFinalizers(ctx, job, others);
  return {};
}

export async function reconcileExportJob(
  ctx: ExportContext,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const job = ctx.exportJobs.get(namespace, name);
  if (!job) return {};
  if (job.metadata.deletionTimestamp)
    return job.metadata.finalizers?.includes(FILES_FINALIZER) ? cleanUp(ctx, job) : {};
  const ttl = job.spec.ttlSecondsAfterFinished;
  if (ttl !== undefined && !job.metadata.finalizers?.includes(FILES_FINALIZER)) {
    // The next pass (the patch's own watch event) goes on with the finalizer in place.
    await setFinalizers(ctx, job, [...(job.metadata.finalizers ?? []), FILES_FINALIZER]);
    return {};
  }

  const planned = await ensurePlan(ctx, job);
  const observation: ExportObservation = { ttlSecondsAfterFinished: ttl };
  if ('blocked' in planned) observation.blocked = planned.blocked;
  else {
    const { job: desired } = exportChildren(job, planned.plan, ctx.settings);
    const current = ctx.jobs.get(namespace, desired.metadata.name);
    if (!current) await createOnce(ctx, EXPORT_RESOURCES.job, desired as KubeObject);
    observation.job = current?.status ?? {};
    const pods = podsOf(ctx, namespace, desired.metadata.name);
    const live = pods.find(running);
    if (live)
      observation.progress = await ctx.fetchProgress(live).catch((error: Error) => {
        ctx.log.debug(
          'export progress unreadable',
          { namespace, name, pod: live.metadata.name, error: error.message },
          1,
        );
        return undefined;
      });
    if (!observation.progress)
      for (const p of pods) {
        const report = parseReport(p.status?.containerStatuses?.[0]?.state?.terminated?.message);
        if (report) {
          observation.progress = report;
          break;
        }
      }
    Object.assign(observation, exportPodHold(pods[0]?.status));
  }

  const computed = exportStatus(observation);
  const previous = job.status ?? {};
  // Between pods (a retry starting), the last known figures stay.
  const kept = {
    progress: computed.progress ?? previous.progress,
    files: computed.files ?? previous.files,
    validation: computed.validation ?? previous.validation,
  };
  const now = ctx.now().toISOString();
  const conditions = mergeConditions(
    previous.conditions,
    computed.conditions,
    job.metadata.generation,
    now,
  );
  const status = { ...computed, ...kept, observedGeneration: job.metadata.generation, conditions };
  if (stableJson(status) !== stableJson(previous)) {
    await ctx.client.applyStatus(EXPORT_RESOURCES.exportJob, {
      apiVersion: job.apiVersion,
      kind: job.kind,
      metadata: { name, namespace, resourceVersion: job.metadata.resourceVersion },
      status,
    });
    // A pod held back (not schedulable, an image that does not pull) is worth an Event once
    // per reason: `kubectl describe ewexport` then shows why without a look at the pod.
    const hold = observation.unscheduled ?? observation.waiting;
    const holding = conditions.find((c) => c.type === 'Running');
    const before = previous.conditions?.find((c) => c.type === 'Running');
    if (status.phase === 'Pending' && hold && holding && before?.reason !== holding.reason)
      await ctx.events.record(job, 'Warning', holding.reason, holding.message);
    if (previous.phase !== status.phase) {
      const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
      const succeeded = conditions.find((c) => c.type === 'Succeeded' && c.status === 'True');
      if (failed) await ctx.events.record(job, 'Warning', failed.reason, failed.message);
      else if (succeeded) await ctx.events.record(job, 'Normal', 'Succeeded', succeeded.message);
      else if (status.phase === 'Running')
        await ctx.events.record(
          job,
          'Normal',
          'Started',
          `exporting ${job.spec.dataTypes.join(' and ')} to ${job.spec.destination.path}`,
        );
    }
  }

  // Expiry: delete the ExportJob; its finalizer removes the files first.
  if (status.expiresAt) {
    const left = Date.parse(status.expiresAt) - ctx.now().getTime();
    if (left <= 0) {
      await ctx.client.delete(EXPORT_RESOURCES.exportJob, namespace, name);
      return {};
    }
    return { requeueAfterMs: Math.min(left + 100, 3_600_000) };
  }
  if (status.phase === 'Running' || status.phase === 'Pending')
    return { requeueAfterMs: ctx.progressPollMs };
  return {};
}

/** main's fetchProgress: GET http://<pod IP>:<http port>/progress, with a short timeout. */
export async function fetchExportProgress(
  pod: ExportPod,
  timeoutMs = 2000,
): Promise<ExportProgress> {
  const response = await fetch(agentUrl(pod, exportDefaults.port, exportPaths.progress), {
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`/progress answered ${response.status}`);
  return (await response.json()) as ExportProgress;
}
