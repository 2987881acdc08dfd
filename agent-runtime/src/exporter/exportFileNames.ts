// The names of the files an export writes in its folder (data files, their partials, the
// manifest), and their removal: a restart afresh or `--clean` removes this export's files and
// leaves other exports in the same folder alone.
import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';

export const manifestName = (name: string): string => `${name}.manifest.json`;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The files an export of this name writes (data files, partials, the manifest). */
export function exportFilePattern(name: string): RegExp {
  const n = escapeRe(name);
  return new RegExp(
    `^(?:\\.?${n}-(?:logs|anomalies)-\\d{4,}\\.(?:json|jsonl|csv)(?:\\.gz)?(?:\\.partial)?|\\.?${n}\\.manifest\\.json(?:\\.tmp)?)$`,
  );
}

/** Removes an export's files (not those of other exports in the same folder). */
export async function removeExportFiles(dir: string, name: string): Promise<string[]> {
  const pattern = exportFilePattern(name);
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw error;
  }
  for (const entry of entries)
    if (pattern.test(entry)) {
      await unlink(path.join(dir, entry));
      removed.push(entry);
    }
  return removed;
}
