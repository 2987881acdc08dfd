// The run's progress (ExportProgress, served at GET /progress and left as the termination
// message): rebuilt from a checkpoint when a run resumes or finds itself complete, from the live
// files and checks after every batch, and cut to what Kubernetes keeps of a termination message.
import type { ExportFile, ExportProgress } from '../contract/export.js';
import type { Checkpoint } from './checkpoint.js';
import type { Output } from './output.js';
import { validationReport, type ValidationState } from './validation.js';

/** Kubernetes keeps at most this much of a termination message. */
export const MAX_TERMINATION_MESSAGE = 4096;

export function startingProgress(now: Date = new Date()): ExportProgress {
  return { state: 'starting', recordsDone: 0, bytes: 0, files: [], startedAt: now.toISOString() };
}

/** The progress a checkpoint records: its files, bytes, checks and total. */
export function progressOfCheckpoint(progress: ExportProgress, cp: Checkpoint): ExportProgress {
  const states: Record<string, ValidationState> = {};
  let files: ExportFile[] = [];
  let bytes = 0;
  for (const kind of ['logs', 'anomalies'] as const) {
    const part = cp[kind];
    if (!part) continue;
    states[kind] = part.validation;
    files = files.concat(part.series.files);
    bytes += part.series.files.reduce((n, f) => n + f.bytes, 0) + (part.series.current?.bytes ?? 0);
  }
  return {
    ...progress,
    recordsDone: Object.values(states).reduce((n, v) => n + v.written, 0),
    ...(cp.recordsTotal !== undefined ? { recordsTotal: cp.recordsTotal } : {}),
    bytes,
    files,
    validation: validationReport(states),
  };
}

/** The progress of the live files and checks (after a batch's checkpoint and renames). */
export function progressOfOutputs(
  progress: ExportProgress,
  outputs: readonly Output[],
): ExportProgress {
  const states: Record<string, ValidationState> = {};
  for (const { type, validator } of outputs) states[type] = validator.snapshot();
  return {
    ...progress,
    recordsDone: Object.values(states).reduce((n, v) => n + v.written, 0),
    bytes: outputs.reduce((n, o) => n + o.series.bytes(), 0),
    files: outputs.flatMap((o) => o.series.files()),
    validation: validationReport(states),
  };
}

/** The progress as a termination message: at most 4 KiB, files dropped from the end first. */
export function terminationMessage(progress: ExportProgress): string {
  const p: ExportProgress = { ...progress, files: [...progress.files] };
  let text = JSON.stringify(p);
  while (Buffer.byteLength(text) > MAX_TERMINATION_MESSAGE && p.files.length > 0) {
    const drop = Math.max(1, Math.ceil(p.files.length / 8));
    p.files.splice(p.files.length - drop, drop);
    p.filesOmitted = (progress.filesOmitted ?? 0) + progress.files.length - p.files.length;
    text = JSON.stringify(p);
  }
  // Shrink step by step, adding back what fits.
  while (Buffer.byteLength(text) > MAX_TERMINATION_MESSAGE && p.error) {
    p.error = {
      reason: p.error.reason,
      message: `${p.error.message.slice(0, p.error.message.length / 2)}…`,
    };
    text = JSON.stringify(p);
  }
  if (Buffer.byteLength(text) > MAX_TERMINATION_MESSAGE && p.validation) {
    p.validation = { ...p.validation, nullRates: {} };
    text = JSON.stringify(p);
  }
  return text;
}
