// The manifest written when every record is in its file: <name>.manifest.json beside the
// files, with each file's records, bytes and SHA-256, the checks, and the spec it was made by
// (no secrets: a hash key's Secret is only named). Written atomically: whoever sees it sees
// the export complete.
import path from 'node:path';

import { apiVersion } from '../../../api/src/validate.js';
import type { ExportValidation } from '../contract/export.js';
import { writeAtomically, type Checkpoint } from './checkpoint.js';
import { manifestName } from './exportFileNames.js';
import { specSummary, type ExportSettings } from './plan.js';

/** Writes the manifest of a complete export; its name and the number of files it lists. */
export async function writeManifest(
  dir: string,
  s: ExportSettings,
  cp: Checkpoint,
  validation: ExportValidation | undefined,
): Promise<{ manifest: string; files: number }> {
  const files = [
    ...(cp.logs?.series.files ?? []).map((f) => ({ dataType: 'logs', ...f })),
    ...(cp.anomalies?.series.files ?? []).map((f) => ({ dataType: 'anomalies', ...f })),
  ];
  const manifest = manifestName(s.name);
  const body = {
    apiVersion,
    kind: 'ExportManifest',
    name: s.name,
    namespace: s.plan.namespace,
    uid: s.uid,
    from: s.from.iso,
    to: s.to.iso,
    startedAt: cp.startedAt,
    finishedAt: new Date().toISOString(),
    resumes: cp.resumes,
    records: {
      ...(cp.logs ? { logs: cp.logs.validation.written } : {}),
      ...(cp.anomalies ? { anomalies: cp.anomalies.validation.written } : {}),
    },
    recordsTotal: cp.recordsTotal,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    files,
    validation,
    spec: specSummary(s),
  };
  await writeAtomically(path.join(dir, manifest), `${JSON.stringify(body, null, 2)}\n`);
  return { manifest, files: files.length };
}
