// An ExportJob's files outlive its pods: with ttlSecondsAfterFinished it carries a finalizer, and
// when it is deleted a cleanup Job on the destination claim removes the files first, then the
// finalizer goes (a claim gone, or an export never started, leaves no files to remove).
import {
  exportChildren,
  FILES_FINALIZER,
  type StoredExportJob,
} from '../../domain/exportJob/desired.js';
import { RESOURCES } from '../../domain/resources.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import type { KubeObject } from '../../runtime/kubeClient.js';
import { ChildConflictError, controlledBy } from '../../runtime/ownership.js';
import { createOnce, planIn } from './plan.js';
import type { ExportContext } from './context.js';

export async function setFinalizers(
  ctx: ExportContext,
  job: StoredExportJob,
  finalizers: string[],
): Promise<void> {
  await ctx.client.mergePatch(RESOURCES.exportJob, job.metadata.namespace, job.metadata.name, {
    metadata: { finalizers, resourceVersion: job.metadata.resourceVersion },
  });
}

/** The Event that says how the cleanup Job ended. */
async function recordCleanup(
  ctx: ExportContext,
  job: StoredExportJob & KubeObject,
  done: { type: string; reason?: string; message?: string },
): Promise<void> {
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
}

/** The files go first (a cleanup Job on the claim), then the finalizer. */
export async function cleanUp(
  ctx: ExportContext,
  job: StoredExportJob & KubeObject,
): Promise<ReconcileResult> {
  const { namespace } = job.metadata;
  const others = (job.metadata.finalizers ?? []).filter((f) => f !== FILES_FINALIZER);
  const claim = await ctx.client.find(
    RESOURCES.claim,
    namespace,
    job.spec.destination.persistentVolumeClaim.claimName,
  );
  const plan = planIn(ctx, job);
  if (!claim || !plan) {
    await setFinalizers(ctx, job, others); // no claim, or never started: no files to remove
    return {};
  }
  const cleanup = exportChildren(job, plan, ctx.settings, true).job;
  const cached = ctx.jobs.get(namespace, cleanup.metadata.name);
  const current = cached && controlledBy(cached, job.metadata.uid) ? cached : undefined;
  if (!current) {
    // A Job of the cleanup's name that is not ours keeps the finalizer (retried with backoff).
    await createOnce(ctx, job, RESOURCES.job, cleanup as KubeObject).catch(async (error) => {
      if (error instanceof ChildConflictError)
        await ctx.events.record(job, 'Warning', error.reason, error.message);
      throw error;
    });
    return { requeueAfterMs: ctx.progressPollMs };
  }
  const done = current.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  if (!done) return { requeueAfterMs: ctx.progressPollMs };
  await recordCleanup(ctx, job, done);
  await setFinalizers(ctx, job, others);
  return {};
}
