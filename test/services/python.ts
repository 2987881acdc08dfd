// The Python of the scikit-learn compatibility checks: npm test passes it as EDGEWARDEN_PYTHON;
// run alone, a suite makes (or finds) the same cached environment through scripts/python-env.mjs.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function pythonForChecks(): string {
  if (process.env.EDGEWARDEN_PYTHON) return process.env.EDGEWARDEN_PYTHON;
  const r = spawnSync('node', [path.join(root, 'scripts/python-env.mjs')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0)
    throw new Error('cannot make the Python environment (scripts/python-env.mjs)');
  return r.stdout.trim().split('\n').at(-1)!;
}
