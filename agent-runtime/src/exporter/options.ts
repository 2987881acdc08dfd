// What the exporter takes from its environment (the export contract's variables), read and
// checked once at start: a bad value stops the run with exit code badSpec, naming the variable.
import { parsePort } from '../../../api/src/port.js';
import { exportDefaults, exportEnv, exportExit } from '../contract/export.js';
import { ExportFailure } from './plan.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The plan file and the folder of the files: `--clean` needs only these. */
export interface ExportPlace {
  planFile: string;
  dir: string;
}

export function exportPlace(env: Env): ExportPlace {
  return {
    planFile: env[exportEnv.plan] ?? exportDefaults.plan,
    dir: env[exportEnv.dir] ?? exportDefaults.volume,
  };
}

/** The progress server's port: the contract's default when unset, 0 picks a free one. */
export function progressPort(env: Env): number {
  const text = env[exportEnv.port];
  if (text === undefined || text === '') return exportDefaults.port;
  const port = parsePort(text, { option: exportEnv.port, allowZero: true });
  if (typeof port !== 'number')
    throw new ExportFailure('InvalidEnvironment', port.message, exportExit.badSpec);
  return port;
}
