// `npm run demo`: installs what it needs, builds, and runs `edgewarden demo` (arguments after
// `--` are passed on, e.g. `npm run demo -- --seed 7`).
import { spawnSync } from 'node:child_process';

import { ensureDependencies, env, root, run } from './bootstrap.mjs';

ensureDependencies();
if (!run('npm', ['run', '--silent', 'build']).ok) process.exit(1);
const { status } = spawnSync('node', ['bin/edgewarden.js', 'demo', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env,
});
process.exit(status ?? 1);
