// An ExportJob's status, rebuilt every pass from what is observed: its Job's status, its
// pods (a finished pod's termination message is the exporter's last report; a pending one's
// conditions say why it does not run), and the running pod's GET /progress. Pure: the same
// observations give the same status.
import type { ExportJobStatus } from '../../../../api/src/generated/types.js';
import type { ExportProgress } from '../../../../agent-runtime/src/contract/export.js';
import type { DesiredCondition } from '../../runtime/conditions.js';

export interface JobObservation {
  active?: number;
  succeeded?: number;
  failed?: number;
  startTime?: string;
  completionTime?: string;
  conditions?: {
    type: string;
    status: string;
    reason?: string;
    message?: string;
    lastTransitionTime?: string;
  }[];
}

export interface ExportObservation {
  /** Why the Job is not there (yet): the AnalysisAgent is missing, the window is wrong. */
  blocked?: { reason: string; message: string; permanent: boolean };
  job?: JobObservation;
  /** The freshest report: the running pod's /progress, else the newest termination message. */
  progress?: ExportProgress;
  /** Why the pod's container is waiting (ImagePullBackOff, CreateContainerConfigError, ...). */
  waiting?: { reason: string; message?: string };
  /**
   * Why the pod is on no node: its PodScheduled=False condition, as the scheduler wrote it
   * (Unschedulable: a claim missing or unbound, no node that fits; or SchedulingGated).
   */
  unscheduled?: { reason: string; message?: string };
  ttlSecondsAfterFinished?: number;
}

/** The parts of an export pod's status that say what holds it back. */
export interface ExportPodStatus {
  phase?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[];
}

/**
 * What holds an export pod back, from its status: the scheduler's verdict first (a pod on no
 * node has no container to wait), then its container's waiting reason. ContainerCreating is
 * a pod starting as it should, not a reason to report.
 */
export function exportPodHold(
  status: ExportPodStatus | undefined,
): Pick<ExportObservation, 'waiting' | 'unscheduled'> {
  const scheduled = status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False')
    return {
      unscheduled: {
        reason: scheduled.reason || 'Unschedulable',
        ...(scheduled.message ? { message: scheduled.message } : {}),
      },
    };
  const waiting = status?.containerStatuses?.[0]?.state?.waiting;
  if (waiting?.reason && waiting.reason !== 'ContainerCreating')
    return {
      waiting: {
        reason: waiting.reason,
        ...(waiting.message ? { message: waiting.message } : {}),
      },
    };
  return {};
}

export type ComputedStatus = Omit<ExportJobStatus, 'conditions' | 'observedGeneration'> & {
  conditions: DesiredCondition[];
};

const jobCondition = (job: JobObservation | undefined, type: string) =>
  job?.conditions?.find((c) => c.type === type && c.status === 'True');

/** Parses a termination message: the exporter's last ExportProgress, or undefined. */
export function parseReport(text: string | undefined): ExportProgress | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as ExportProgress;
    return typeof value === 'object' && value !== null && typeof value.state === 'string'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

export function exportStatus(o: ExportObservation): ComputedStatus {
  const p = o.progress;
  const complete = jobCondition(o.job, 'Complete');
  const failed = jobCondition(o.job, 'Failed');
  const done = p?.recordsDone ?? 0;
  const total = p?.recordsTotal;
  const percent = complete
    ? 100
    : total
      ? Math.min(100, Math.floor((100 * done) / total))
      : total === 0
        ? 100
        : 0;
  const progress = p
    ? {
        recordsDone: done,
        ...(total !== undefined ? { recordsTotal: total } : {}),
        percent,
        bytes: p.bytes,
        summary: `${percent}% (${done}/${total ?? '?'})`,
      }
    : undefined;
  const validation = p?.validation
    ? {
        rows: p.validation.rows,
        nullRates: p.validation.nullRates,
        duplicates: p.validation.duplicates,
        rejectedRows: p.validation.rejectedRows,
        rejected: p.validation.rejected,
        outOfRange: p.validation.outOfRange,
      }
    : undefined;
  const files = p?.files.map((f) => ({ ...f }));

  let phase: NonNullable<ExportJobStatus['phase']>;
  let running: DesiredCondition;
  let succeeded: DesiredCondition;
  let failedCondition: DesiredCondition;
  if (o.blocked) {
    phase = o.blocked.permanent ? 'Failed' : 'Pending';
    running = {
      type: 'Running',
      status: 'False',
      reason: o.blocked.reason,
      message: o.blocked.message,
    };
    succeeded = {
      type: 'Succeeded',
      status: 'False',
      reason: o.blocked.reason,
      message: o.blocked.message,
    };
    failedCondition = o.blocked.permanent
      ? { type: 'Failed', status: 'True', reason: o.blocked.reason, message: o.blocked.message }
      : { type: 'Failed', status: 'False', reason: 'Waiting', message: o.blocked.message };
  } else if (complete) {
    phase = 'Succeeded';
    const message = `${done} records in ${files?.length ?? 0} files${p?.filesOmitted ? ` (+${p.filesOmitted} more in the manifest)` : ''}${p?.manifest ? `; manifest ${p.manifest}` : ''}`;
    running = { type: 'Running', status: 'False', reason: 'Completed', message };
    succeeded = { type: 'Succeeded', status: 'True', reason: 'Completed', message };
    failedCondition = { type: 'Failed', status: 'False', reason: 'Completed', message };
  } else if (failed) {
    phase = 'Failed';
    // The exporter's own reason (UnknownColumn, ...) says more than the Job's (PodFailurePolicy).
    const reason = p?.error?.reason ?? failed.reason ?? 'Failed';
    const message = p?.error?.message ?? failed.message ?? 'the export Job failed';
    running = { type: 'Running', status: 'False', reason, message };
    succeeded = { type: 'Succeeded', status: 'False', reason, message };
    failedCondition = {
      type: 'Failed',
      status: 'True',
      reason,
      message:
        failed.reason && failed.reason !== reason ? `${message} (Job: ${failed.reason})` : message,
    };
  } else if ((o.job?.active ?? 0) > 0 && !o.waiting && !o.unscheduled) {
    phase = 'Running';
    const message = progress
      ? `${progress.summary}${p?.resumedAt !== undefined ? `, resumed after ${p.resumedAt} records` : ''}${(o.job?.failed ?? 0) > 0 ? `; retry ${o.job!.failed}` : ''}`
      : 'the export pod is starting';
    running = {
      type: 'Running',
      status: 'True',
      reason: p?.state === 'counting' ? 'Counting' : 'Exporting',
      message,
    };
    succeeded = { type: 'Succeeded', status: 'False', reason: 'Running', message };
    failedCondition = { type: 'Failed', status: 'False', reason: 'Running', message };
  } else if (o.unscheduled) {
    // The Job counts its pending pod as active, but nothing runs: say why, and keep it
    // Pending, not Failed. A claim or a node may still appear (the scheduler retries by
    // itself); activeDeadlineSeconds bounds the wait.
    phase = 'Pending';
    const message = `the export pod cannot be scheduled: ${o.unscheduled.message ?? o.unscheduled.reason}`;
    running = { type: 'Running', status: 'False', reason: o.unscheduled.reason, message };
    succeeded = { type: 'Succeeded', status: 'False', reason: 'Pending', message };
    failedCondition = { type: 'Failed', status: 'False', reason: 'Pending', message };
  } else {
    phase = 'Pending';
    const reason = o.waiting?.reason ?? 'Pending';
    const message = o.waiting?.message ?? o.waiting?.reason ?? 'waiting for the export pod';
    running = { type: 'Running', status: 'False', reason, message };
    succeeded = { type: 'Succeeded', status: 'False', reason: 'Pending', message };
    failedCondition = { type: 'Failed', status: 'False', reason: 'Pending', message };
  }
  const completionTime = o.job?.completionTime ?? (failed ? failed.lastTransitionTime : undefined);
  const finished = phase === 'Succeeded' || phase === 'Failed';
  const expiresAt =
    finished && completionTime && o.ttlSecondsAfterFinished !== undefined
      ? new Date(Date.parse(completionTime) + o.ttlSecondsAfterFinished * 1000).toISOString()
      : undefined;
  return {
    phase,
    conditions: [running, succeeded, failedCondition],
    ...(progress ? { progress } : {}),
    ...(o.job?.startTime ? { startTime: o.job.startTime } : {}),
    ...(finished && completionTime ? { completionTime } : {}),
    ...(files ? { files } : {}),
    ...(validation ? { validation } : {}),
    ...(expiresAt ? { expiresAt } : {}),
  };
}
