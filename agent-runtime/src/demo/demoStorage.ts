// Where `edgewarden demo` keeps what it makes: the log it analyses (routers.log) and its SQLite
// store (anomalies.db). On a laptop that is a folder under the home folder, so the files can be
// read afterwards. In a container with a read-only root file system there is no such folder,
// and the demo needs none: nothing has to outlive the run, so it analyses into an in-memory
// store and says so. A folder asked for with --data-dir is never swapped for memory: it must
// be writable, or the demo stops and says why.
import path from 'node:path';

import {
  ensureWritableFolder,
  unwritableReason,
  UnwritableFolderError,
  type FolderUse,
} from '../files/writableFolder.js';

/** A folder that holds the demo's files, or memory only (and why the default folder was not used). */
export type DemoStorage = { kind: 'folder'; dir: string } | { kind: 'memory'; why: string };

export const demoFolderUse: FolderUse = {
  what: "the demo's log (routers.log) and SQLite store (anomalies.db)",
  setting: '--data-dir',
};

/**
 * The demo's default folder: $XDG_DATA_HOME/edgewarden/demo, else
 * <home>/.local/share/edgewarden/demo; undefined with neither (no home folder known).
 */
export function defaultDemoFolder(
  env: Readonly<Record<string, string | undefined>>,
  home: string | undefined,
): string | undefined {
  const xdg = env.XDG_DATA_HOME;
  // The XDG Base Directory specification has relative paths ignored.
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'edgewarden', 'demo');
  if (!home) return undefined;
  return path.resolve(home, '.local', 'share', 'edgewarden', 'demo');
}

/**
 * Where this run keeps its data: the folder asked for, which must be writable (else
 * UnwritableFolderError); without one, the default folder if it can be written, else memory.
 */
export async function chooseDemoStorage(
  requested: string | undefined,
  defaultFolder: string | undefined,
): Promise<DemoStorage> {
  if (requested !== undefined) {
    const dir = path.resolve(requested);
    await ensureWritableFolder(dir, demoFolderUse);
    return { kind: 'folder', dir };
  }
  if (defaultFolder === undefined)
    return { kind: 'memory', why: 'no home folder is known (HOME is unset)' };
  try {
    await ensureWritableFolder(defaultFolder, demoFolderUse);
    return { kind: 'folder', dir: defaultFolder };
  } catch (error) {
    if (!(error instanceof UnwritableFolderError)) throw error;
    return {
      kind: 'memory',
      why: `the default folder ${defaultFolder} cannot be written: ${unwritableReason(error.errorCode)}`,
    };
  }
}
