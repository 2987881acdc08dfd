// Opening the running agent's store when it cannot be read: a file that is not a database, a
// damaged one, or one written by a newer edgewarden. Rather than exit on every start (with no
// way out but deleting the volume), the agent moves the file and its -wal/-shm aside, next to
// it, with the time in its name, and starts a fresh store; /status reports what was moved and
// why. Nothing is ever deleted: a newer edgewarden's store is kept whole for a rollforward.
import { existsSync, linkSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

import type { StoreRecovery } from '../contract/index.js';
import { AnomalyStore, type StoreOptions } from './anomalyStore.js';

/** SQLite's codes for a file that is not a database, or a damaged one (and its extended codes). */
const CORRUPT_CODES = /^SQLITE_(NOTADB|CORRUPT)(_|$)/;

/** The files that make up a store in WAL mode (and a rollback journal, left by an older SQLite). */
const STORE_FILES = ['', '-wal', '-shm', '-journal'];

/** Why `error`, thrown opening a store, means the store must be moved aside; undefined if not. */
export function unreadableStore(error: unknown): StoreRecovery['reason'] | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'NEWER_SCHEMA') return 'NewerSchema';
  return CORRUPT_CODES.test(code) ? 'Corrupt' : undefined;
}

/** 2026-12-07T06:46:32.123Z -> 20261207T064632Z: a file name's time, sortable, no colons. */
export function fileTime(time: Date): string {
  return time
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * Moves the store at `file` and its companions to `<file>.<corrupt|newer>-<time>`, in the same
 * folder; returns the new name of the main file (relative to that folder).
 */
export function moveStoreAside(file: string, reason: StoreRecovery['reason'], time: Date): string {
  const movedTo = `${path.basename(file)}.${reason === 'NewerSchema' ? 'newer' : 'corrupt'}-${fileTime(time)}`;
  for (const suffix of STORE_FILES)
    if (existsSync(`${file}${suffix}`))
      renameSync(`${file}${suffix}`, path.join(path.dirname(file), `${movedTo}${suffix}`));
  return movedTo;
}

/**
 * Opens the store at `file`; if it cannot be read (not a database, damaged, a newer schema),
 * moves it aside and opens a fresh one. Any other failure (permissions, a full disk) is thrown:
 * moving the store would not help, and the data in it is good.
 */
export function openStoreRecovering(
  file: string,
  options: StoreOptions,
  now: () => Date = () => new Date(),
): { store: AnomalyStore; recovery?: StoreRecovery } {
  // SQLite deletes a -wal it cannot use when it closes an unreadable store: a second name for
  // it, taken before the open, keeps it (after a clean stop there is no -wal, and no link).
  const wal = `${file}-wal`;
  const walKept = `${wal}.opening`;
  rmSync(walKept, { force: true });
  if (existsSync(wal)) linkSync(wal, walKept);
  try {
    const store = new AnomalyStore(file, options);
    rmSync(walKept, { force: true });
    return { store };
  } catch (error) {
    const reason = unreadableStore(error);
    if (reason === undefined) {
      rmSync(walKept, { force: true });
      throw error;
    }
    const time = now();
    const movedTo = moveStoreAside(file, reason, time);
    if (existsSync(walKept)) renameSync(walKept, path.join(path.dirname(file), `${movedTo}-wal`));
    const recovery: StoreRecovery = {
      recoveredAt: time.toISOString(),
      reason,
      message: (error as Error).message,
      movedTo,
    };
    return { store: new AnomalyStore(file, options), recovery };
  }
}
