// The folders a command writes to, made ready before anything is written there. In a
// container with a read-only root file system (Kubernetes' readOnlyRootFilesystem, `docker run
// --read-only`) only mounted volumes are writable, and Node's own error (`ENOENT: ... mkdir
// '/home/nonroot/.local'`) names neither the setting that chose the folder nor the way out. So
// a folder that cannot be written stops the command with one message saying which folder, why,
// what goes there, and how to give it a writable one.
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** What a command keeps in a folder, and the setting that chooses the folder. */
export interface FolderUse {
  /** What goes there, e.g. "the agent's SQLite anomaly store". */
  what: string;
  /** The flag or environment variable that points elsewhere, e.g. "EDGEWARDEN_DATA_DIR". */
  setting: string;
}

export class UnwritableFolderError extends Error {
  readonly code = 'EW_UNWRITABLE_FOLDER';
  constructor(
    readonly folder: string,
    /** The file system's error code (EROFS, EACCES, ...), when there was one. */
    readonly errorCode: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'UnwritableFolderError';
  }
}

/** Why a folder cannot be written, in words, from the file system's error code. */
export function unwritableReason(code: string | undefined): string {
  switch (code) {
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied to this user';
    case 'ENOENT':
      return 'a folder on its path is missing and cannot be made';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file stands where a folder should be';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left';
    default:
      return code ?? 'unknown error';
  }
}

/** The message of a folder that cannot be written: which, why, what it is for, the way out. */
export function unwritableFolderMessage(
  folder: string,
  code: string | undefined,
  use: FolderUse,
): string {
  return (
    `cannot write ${folder} (${unwritableReason(code)}), the folder for ${use.what}. ` +
    `Point ${use.setting} at a writable folder, or mount a writable volume at ${folder} ` +
    `(in Kubernetes an emptyDir or a persistentVolumeClaim; with docker run, -v or --tmpfs)`
  );
}

/**
 * Makes `folder` (and its parents) if missing and checks that this process may write in it;
 * throws UnwritableFolderError otherwise.
 */
export async function ensureWritableFolder(folder: string, use: FolderUse): Promise<void> {
  try {
    await makeFolder(folder);
    // mkdir succeeds on a folder that exists on a read-only mount, or that belongs to another
    // user: ask for write access too.
    await access(folder, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UnwritableFolderError(folder, code, unwritableFolderMessage(folder, code, use));
  }
}

/**
 * mkdir -p, one level at a time. Node's own `mkdir(..., { recursive: true })` reports a folder
 * it cannot make on a read-only file system as ENOENT (the path it then fails to stat), which
 * is how the demo came to say `ENOENT: mkdir '/home/nonroot/.local'`; a plain mkdir of the first
 * missing level gives the real cause (EROFS, EACCES).
 */
async function makeFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return isFolder(folder);
    const parent = path.dirname(folder);
    if (code !== 'ENOENT' || parent === folder) throw error;
  }
  await makeFolder(path.dirname(folder));
  try {
    await mkdir(folder);
  } catch (error) {
    // Made meanwhile by someone else: fine, if it is a folder.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await isFolder(folder);
  }
}

/** Resolves if `folder` is a folder; throws ENOTDIR if a file stands there. */
async function isFolder(folder: string): Promise<void> {
  if ((await stat(folder)).isDirectory()) return;
  throw Object.assign(new Error(`ENOTDIR: not a folder: ${folder}`), { code: 'ENOTDIR' });
}
