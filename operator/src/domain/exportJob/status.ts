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

type Phase = NonNullable<ExportJobStatus['phase']>;
type JobCondition = NonNullable<JobObservation['conditions']>[number];

/** The phase and its three conditions, which always say the same thing three ways. */
interface Verdict {
  phase: Phase;
  running: DesiredCondition;
  succeeded: DesiredCondition;
  failed: DesiredCondition;
}

/** Pending: nothing runs yet, for `reason` (the Running condition's); nothing has failed. */
function pendingVerdict(reason: string, message: string): Verdict {
  return {
    phase: 'Pending',
    running: { type: 'Running', status: 'False', reason, message },
    succeeded: { type: 'Succeeded', status: 'False', reason: 'Pending', message },
    failed: { type: 'Failed', status: 'False', reason: 'Pending', message },
  };
}

/** The figures for the printer column: percent and records, from the freshest report. */
function exportProgress(
  p: ExportProgress | undefined,
  complete: boolean,
): ComputedStatus['progress'] {
  if (!p) return undefined;
  const done = p.recordsDone ?? 0; // a termination message may lack it
  const total = p.recordsTotal;
  const percent = complete
    ? 100
    : total
      ? Math.min(100, Math.floor((100 * done) / total))
      : total === 0
        ? 100
        : 0;
  return {
    recordsDone: done,
    ...(total !== undefined ? { recordsTotal: total } : {}),
    percent,
    bytes: p.bytes,
    summary: `${percent}% (${done}/${total ?? '?'})`,
  };
}

/** Blocked before a Job exists: Pending while it may clear, Failed when it cannot. */
function blockedVerdict(blocked: NonNullable<ExportObservation['blocked']>): Verdict {
  const { reason, message, permanent } = blocked;
  return {
    phase: permanent ? 'Failed' : 'Pending',
    running: { type: 'Running', status: 'False', reason, message },
    succeeded: { type: 'Succeeded', status: 'False', reason, message },
    failed: permanent
      ? { type: 'Failed', status: 'True', reason, message }
      : { type: 'Failed', status: 'False', reason: 'Waiting', message },
  };
}

function completedVerdict(p: ExportProgress | undefined): Verdict {
  const message = `${p?.recordsDone ?? 0} records in ${p?.files.length ?? 0} files${p?.filesOmitted ? ` (+${p.filesOmitted} more in the manifest)` : ''}${p?.manifest ? `; manifest ${p.manifest}` : ''}`;
  return {
    phase: 'Succeeded',
    running: { type: 'Running', status: 'False', reason: 'Completed', message },
    succeeded: { type: 'Succeeded', status: 'True', reason: 'Completed', message },
    failed: { type: 'Failed', status: 'False', reason: 'Completed', message },
  };
}

function failedVerdict(p: ExportProgress | undefined, failed: JobCondition): Verdict {
  // The exporter's own reason (UnknownColumn, ...) says more than the Job's (PodFailurePolicy).
  const reason = p?.error?.reason ?? failed.reason ?? 'Failed';
  const message = p?.error?.message ?? failed.message ?? 'the export Job failed';
  return {
    phase: 'Failed',
    running: { type: 'Running', status: 'False', reason, message },
    succeeded: { type: 'Succeeded', status: 'False', reason, message },
    failed: {
      type: 'Failed',
      status: 'True',
      reason,
      message:
        failed.reason && failed.reason !== reason ? `${message} (Job: ${failed.reason})` : message,
    },
  };
}

function runningVerdict(o: ExportObservation, progress: ComputedStatus['progress']): Verdict {
  const p = o.progress;
  const message = progress
    ? `${progress.summary}${p?.resumedAt !== undefined ? `, resumed after ${p.resumedAt} records` : ''}${(o.job?.failed ?? 0) > 0 ? `; retry ${o.job!.failed}` : ''}`
    : 'the export pod is starting';
  return {
    phase: 'Running',
    running: {
      type: 'Running',
      status: 'True',
      reason: p?.state === 'counting' ? 'Counting' : 'Exporting',
      message,
    },
    succeeded: { type: 'Succeeded', status: 'False', reason: 'Running', message },
    failed: { type: 'Failed', status: 'False', reason: 'Running', message },
  };
}

/** Where the export stands: blocked, finished either way, running, or pending, and why. */
function exportVerdict(o: ExportObservation, progress: ComputedStatus['progress']): Verdict {
  const complete = jobCondition(o.job, 'Complete');
  const failed = jobCondition(o.job, 'Failed');
  if (o.blocked) return blockedVerdict(o.blocked);
  if (complete) return completedVerdict(o.progress);
  if (failed) return failedVerdict(o.progress, failed);
  if ((o.job?.active ?? 0) > 0 && !o.waiting && !o.unscheduled) return runningVerdict(o, progress);
  if (o.unscheduled)
    // The Job counts its pending pod as active, but nothing runs: say why, and keep it
    // Pending, not Failed. A claim or a node may still appear (the scheduler retries by
    // itself); activeDeadlineSeconds bounds the wait.
    return pendingVerdict(
      o.unscheduled.reason,
      `the export pod cannot be scheduled: ${o.unscheduled.message ?? o.unscheduled.reason}`,
    );
  return pendingVerdict(
    o.waiting?.reason ?? 'Pending',
    o.waiting?.message ?? o.waiting?.reason ?? 'waiting for the export pod',
  );
}

export function exportStatus(o: ExportObservation): ComputedStatus {
  const p = o.progress;
  const failed = jobCondition(o.job, 'Failed');
  const progress = exportProgress(p, !!jobCondition(o.job, 'Complete'));
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
  const { phase, running, succeeded, failed: failedCondition } = exportVerdict(o, progress);
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
