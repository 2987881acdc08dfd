// The Python environment of the scikit-learn compatibility checks: a virtual environment with
// training/requirements.txt's pinned packages, outside the checkout and keyed by that file's
// hash (~/.cache/edgewarden-tools/python-<hash>), so it is built once and a changed pin gets a
// new one. `node scripts/python-env.mjs` makes it if needed and prints its python.
// Plain JavaScript on purpose: npm test runs it before anything is built.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requirements = path.join(root, 'training', 'requirements.txt');

export function pythonEnvDir() {
  const tools =
    process.env.EDGEWARDEN_TOOLS_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'edgewarden-tools');
  const hash = createHash('sha256').update(readFileSync(requirements)).digest('hex').slice(0, 12);
  return path.join(tools, `python-${hash}`);
}

/** Creates the environment unless a complete one exists; returns its python. Throws on failure. */
export function ensurePythonEnv() {
  const dir = pythonEnvDir();
  const python = path.join(dir, 'bin', 'python');
  const done = path.join(dir, '.complete');
  if (existsSync(done)) return python;
  rmSync(dir, { recursive: true, force: true }); // a half-made one from an interrupted run
  const step = (command, args) => {
    const r = spawnSync(command, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status})`);
  };
  step(process.env.EDGEWARDEN_PYTHON3 ?? 'python3', ['-m', 'venv', dir]);
  step(python, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-input',
    '-r',
    requirements,
  ]);
  writeFileSync(done, `${new Date().toISOString()}\n`);
  return python;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensurePythonEnv());
  } catch (error) {
    console.error(`edgewarden: cannot make the Python environment: ${error.message}`);
    process.exit(1);
  }
}
