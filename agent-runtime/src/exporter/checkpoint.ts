// The checkpoint: where a run is, written about once a second at a flush point (exportRun.ts),
// so a killed or retried pod goes on from there. <dir>/.edgewarden-export/<uid>/checkpoint.json, written to
// a temporary file, synced, and renamed over the old one (then the folder synced): a reader
// sees the old checkpoint or the new one, never a mix.
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

import type { SeriesState } from './files.js';
import { fsyncDir } from './files.js';
import type { ValidationState } from './validation.js';

export const CHECKPOINT_DIR = '.edgewarden-export';

/** Where the logs' cursor is: after the row (ts, id), or, without an id, after `skip` rows at ts. */
export interface LogKey {
  ts: string;
  id?: string;
  skip?: number;
}

export interface DataTypeState {
  series: SeriesState;
  validation: ValidationState;
  done: boolean;
}

export interface LogsState extends DataTypeState {
  key?: LogKey;
}

export interface AnomaliesState extends DataTypeState {
  /** By agent pod (the plan's `pod`): the cursor of the last anomaly written, and whether it is read to the end. */
  sources: Record<string, { after?: string; done: boolean }>;
}

export interface Checkpoint {
  version: 1;
  uid: string;
  /** The plan's digest: a checkpoint of another plan is not resumed. */
  plan: string;
  startedAt: string;
  /** Times the run was resumed from this checkpoint. */
  resumes: number;
  recordsTotal?: number;
  /** The random hashing key (base64) when no Secret gives one, so a resumed run hashes alike. */
  hashKey?: string;
  logs?: LogsState;
  anomalies?: AnomaliesState;
  /** Set once the manifest is written. */
  complete?: boolean;
  manifest?: string;
}

export function checkpointDir(dir: string, uid: string): string {
  return path.join(dir, CHECKPOINT_DIR, uid);
}

export async function readCheckpoint(dir: string, uid: string): Promise<Checkpoint | undefined> {
  const file = path.join(checkpointDir(dir, uid), 'checkpoint.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const value = JSON.parse(text) as Checkpoint;
  return value.version === 1 && value.uid === uid ? value : undefined;
}

/**
 * Writes a file whole or not at all: temporary file, fsync, rename, and (unless `syncDir` is
 * false) fsync of the folder so the rename itself survives a power loss.
 */
export async function writeAtomically(
  file: string,
  text: string,
  sync: { file: boolean; dir: boolean } = { file: true, dir: true },
): Promise<void> {
  // Synchronous calls: a checkpoint is a few kilobytes, written about once a second, and four
  // trips through libuv's thread pool cost more than the writes themselves.
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  const fd = openSync(temporary, 'w');
  try {
    writeFileSync(fd, text);
    if (sync.file) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  if (sync.dir) await fsyncDir(path.dirname(file));
}

/**
 * Always atomic (a killed process leaves the old checkpoint or the new one, and the page
 * cache keeps both the data and the checkpoint across a process kill). With `sync` the data
 * written before it and the checkpoint itself are also forced to disk; the run does that at
 * most once a second and at every file's end. After a power loss the checkpoint on disk may
 * be older than the data (the files are cut back to it) or newer (the prefix digest no longer
 * matches, and the export starts afresh): never a mix that loses or repeats a row.
 */
const made = new Set<string>();

export async function writeCheckpoint(
  dir: string,
  checkpoint: Checkpoint,
  sync: boolean,
): Promise<void> {
  const folder = checkpointDir(dir, checkpoint.uid);
  if (!made.has(folder)) {
    await mkdir(folder, { recursive: true });
    made.add(folder);
  }
  await writeAtomically(path.join(folder, 'checkpoint.json'), JSON.stringify(checkpoint), {
    file: sync,
    dir: false,
  });
}

export async function removeCheckpoint(dir: string, uid: string): Promise<void> {
  await rm(checkpointDir(dir, uid), { recursive: true, force: true });
}
