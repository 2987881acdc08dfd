// An ExportJob's status write: the status rebuilt from what was observed, the last known figures
// kept between pods (a retry starting), written when it changed, with the Events that tell the
// story in `kubectl describe ewexport`.
import type { StoredExportJob } from '../../domain/exportJob/desired.js';
import { exportStatus, type ExportObservation } from '../../domain/exportJob/status.js';
import { RESOURCES } from '../../domain/resources.js';
import { mergeConditions, type Condition } from '../../runtime/conditions.js';
import type { KubeObject } from '../../runtime/kubeClient.js';
import { writeStatusIfChanged } from '../../runtime/statusWrite.js';
import type { ExportContext } from './context.js';

type Status = NonNullable<StoredExportJob['status']>;

/** The Events of a status change: a pod held back, a start, a success or a failure. */
async function recordChange(
  ctx: ExportContext,
  job: StoredExportJob & KubeObject,
  observation: ExportObservation,
  previous: Status,
  status: Status & { conditions: Condition[] },
): Promise<void> {
  const { conditions } = status;
  // A pod held back (not schedulable, an image that does not pull) is worth an Event once
  // per reason: `kubectl describe ewexport` then shows why without a look at the pod.
  const hold = observation.unscheduled ?? observation.waiting;
  const holding = conditions.find((c) => c.type === 'Running');
  const before = previous.conditions?.find((c) => c.type === 'Running');
  if (status.phase === 'Pending' && hold && holding && before?.reason !== holding.reason)
    await ctx.events.record(job, 'Warning', holding.reason, holding.message);
  if (previous.phase === status.phase) return;
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

/** Writes the status observed, when it changed; the status, written or not. */
export async function writeExportStatus(
  ctx: ExportContext,
  job: StoredExportJob & KubeObject,
  observation: ExportObservation,
): Promise<Status> {
  const computed = exportStatus(observation);
  const previous: Status = job.status ?? {};
  // Between pods (a retry starting), the last known figures stay.
  const kept = {
    progress: computed.progress ?? previous.progress,
    files: computed.files ?? previous.files,
    validation: computed.validation ?? previous.validation,
  };
  const generation = job.metadata.generation;
  const now = ctx.now().toISOString();
  const conditions = mergeConditions(previous.conditions, computed.conditions, generation, now);
  const status = { ...computed, ...kept, observedGeneration: generation, conditions };
  if (await writeStatusIfChanged(ctx.client, RESOURCES.exportJob, job, status))
    await recordChange(ctx, job, observation, previous, status);
  return status;
}
