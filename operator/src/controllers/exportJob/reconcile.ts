// The ExportJob reconcile: makes the plan (once) and the Job (once), follows the Job and its
// pods, reads the running exporter's GET /progress (every few seconds while it runs) and a
// finished one's termination message, and writes the status. After ttlSecondsAfterFinished
// it deletes the ExportJob; a finalizer first runs a cleanup Job that removes the files.
import type { ExportPlan, ExportProgress } from '../../../../agent-runtime/src/contract/export.js';
import {
  exportChildren,
  FILES_FINALIZER,
  type StoredExportJob,
} from '../../domain/exportJob/desired.js';
import {
  exportPodHold,
  parseReport,
  type ExportObservation,
} from '../../domain/exportJob/status.js';
import { RESOURCES } from '../../domain/resources.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import type { KubeObject } from '../../runtime/kubeClient.js';
import { ChildConflictError, controlledBy } from '../../runtime/ownership.js';
import { isRunningPod } from '../../runtime/pods.js';
import { isTerminal, type TerminalError } from '../../runtime/terminalError.js';
import { cleanUp, setFinalizers } from './cleanup.js';
import { createOnce, ensurePlan } from './plan.js';
import { ensureTokenSecret } from './tokens.js';
import type { ExportContext, ExportPod } from './context.js';
import { writeExportStatus } from './status.js';

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

/** The freshest report: the running pod's /progress, else the newest termination message. */
async function progressOf(
  ctx: ExportContext,
  job: StoredExportJob,
  pods: ExportPod[],
): Promise<ExportProgress | undefined> {
  const live = pods.find(isRunningPod);
  const progress =
    live &&
    (await ctx.fetchProgress(live).catch((error: Error) => {
      const { namespace, name } = job.metadata;
      const fields = { namespace, name, pod: live.metadata.name, error: error.message };
      ctx.log.debug('export progress unreadable', fields, 1);
      return undefined;
    }));
  if (progress) return progress;
  for (const p of pods) {
    const report = parseReport(p.status?.containerStatuses?.[0]?.state?.terminated?.message);
    if (report) return report;
  }
  return undefined;
}

/** Makes the Job of the plan (once) and observes it, its pods and their progress. */
async function observeExport(
  ctx: ExportContext,
  job: StoredExportJob,
  plan: ExportPlan,
): Promise<ExportObservation> {
  const { job: desired } = exportChildren(job, plan, ctx.settings);
  const cached = ctx.jobs.get(job.metadata.namespace, desired.metadata.name);
  // A Job of that name the export does not control is not its Job (createOnce says so).
  const current = cached && controlledBy(cached, job.metadata.uid) ? cached : undefined;
  if (!current) {
    await ensureTokenSecret(ctx, job, plan); // the agents' read tokens, mounted by the pod
    await createOnce(ctx, job, RESOURCES.job, desired as KubeObject);
  }
  const pods = podsOf(ctx, job.metadata.namespace, desired.metadata.name);
  return {
    ttlSecondsAfterFinished: job.spec.ttlSecondsAfterFinished,
    job: current?.status ?? {},
    progress: await progressOf(ctx, job, pods),
    ...exportPodHold(pods[0]?.status),
  };
}

/**
 * What the plan allows to observe: the export, or why it is blocked (a terminal error too; or
 * objects in the places of its children, not permanent: the user may remove them).
 */
async function observe(
  ctx: ExportContext,
  job: StoredExportJob,
): Promise<{
  observation: ExportObservation;
  terminal?: TerminalError;
  conflict?: ChildConflictError;
}> {
  const ttlSecondsAfterFinished = job.spec.ttlSecondsAfterFinished;
  try {
    const planned = await ensurePlan(ctx, job);
    if ('blocked' in planned)
      return { observation: { ttlSecondsAfterFinished, blocked: planned.blocked } };
    return { observation: await observeExport(ctx, job, planned.plan) };
  } catch (error) {
    if (error instanceof ChildConflictError) {
      const { reason, message } = error;
      const blocked = { reason, message, permanent: false };
      return { observation: { ttlSecondsAfterFinished, blocked }, conflict: error };
    }
    if (!isTerminal(error)) throw error;
    const terminal = error as TerminalError;
    const blocked = { reason: terminal.reason, message: terminal.message, permanent: true };
    return { observation: { ttlSecondsAfterFinished, blocked }, terminal };
  }
}

/** Expiry deletes the ExportJob (its finalizer removes the files first); else how long to wait. */
async function expireOrWait(
  ctx: ExportContext,
  job: StoredExportJob,
  status: { expiresAt?: string; phase?: string },
): Promise<ReconcileResult> {
  if (status.expiresAt) {
    const left = Date.parse(status.expiresAt) - ctx.now().getTime();
    if (left > 0) return { requeueAfterMs: Math.min(left + 100, 3_600_000) };
    await ctx.client.delete(RESOURCES.exportJob, job.metadata.namespace, job.metadata.name);
    return {};
  }
  if (status.phase === 'Running' || status.phase === 'Pending')
    return { requeueAfterMs: ctx.progressPollMs };
  return {};
}

export async function reconcileExportJob(
  ctx: ExportContext,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const job = ctx.exportJobs.get(namespace, name);
  if (!job) return {};
  const finalizers = job.metadata.finalizers ?? [];
  if (job.metadata.deletionTimestamp)
    return finalizers.includes(FILES_FINALIZER) ? cleanUp(ctx, job) : {};
  if (job.spec.ttlSecondsAfterFinished !== undefined && !finalizers.includes(FILES_FINALIZER)) {
    // The next pass (the patch's own watch event) goes on with the finalizer in place.
    await setFinalizers(ctx, job, [...finalizers, FILES_FINALIZER]);
    return {};
  }
  const { observation, terminal, conflict } = await observe(ctx, job);
  const before = job.status?.conditions?.find((c) => c.type === 'Running')?.reason;
  const status = await writeExportStatus(ctx, job, observation);
  if (terminal) throw terminal; // recorded in Failed: not retried until the spec changes
  if (conflict) {
    // Recorded in Running (Pending); retried with backoff: no watch tells of the object's going.
    if (before !== conflict.reason)
      await ctx.events.record(job, 'Warning', conflict.reason, conflict.message);
    throw conflict;
  }
  return expireOrWait(ctx, job, status);
}
