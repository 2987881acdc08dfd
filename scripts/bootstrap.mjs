// What `npm test` and `npm run demo` do first on a machine that may be new: install the npm
// dependencies when node_modules is missing or older than the lock file, and build.
// Plain JavaScript on purpose: it runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// onnxruntime-node's install step downloads GPU binaries; its CPU ones ship inside the package.
export const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };

export function run(command, args) {
  const started = Date.now();
  const { status } = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  return { ok: status === 0, seconds: (Date.now() - started) / 1000 };
}

function needsInstall() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return true;
  return statSync(path.join(root, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs;
}

/** Installs npm dependencies if needed; exits the process if that fails. */
export function ensureDependencies() {
  if (!needsInstall()) return;
  console.log('\n== installing npm dependencies (npm ci)');
  if (!run('npm', ['ci', '--no-audit', '--no-fund']).ok) process.exit(1);
}
