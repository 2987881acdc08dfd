// `npm test`: every check the project has, in order, on a machine that may be new.
// It installs what npm and Go can provide (node_modules, the control-plane binaries, cached
// outside the checkout), runs each stage, and closes with one line of totals. Debian packages
// are .ci/run's job (they need root); this script says which are missing.
// Plain JavaScript on purpose: it must run before node_modules exists.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { ensureDependencies, env, root, run } from './bootstrap.mjs';
import { ensurePythonEnv } from './python-env.mjs';

const results = path.join(root, 'dist', 'test-results');

for (const tool of [
  'go',
  'openssl',
  'make',
  'g++',
  'gcc',
  'python3',
  'setpriv',
  'ip',
  'iptables',
  'conntrack',
  '/usr/lib/postgresql/15/bin/postgres',
  'redis-server',
  '/usr/sbin/rsyslogd',
  // The image's builder, and the test node's runtime.
  '/usr/sbin/dockerd',
  '/usr/bin/containerd',
  '/usr/bin/ctr',
  '/usr/sbin/runc',
  '/usr/lib/cni/bridge',
  'mmdebstrap',
]) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(
      `edgewarden: ${tool} is not installed; run \`bash .ci/run\` (as root) to install what the tests need`,
    );
    process.exit(1);
  }
}

ensureDependencies();
console.log('\n== Kubernetes and tool binaries (built once, cached by version)');
if (!run('bash', ['test/control-plane/build-binaries.sh']).ok) process.exit(1);
// The image the image tests and the end-to-end node run: our Dockerfile, built by Docker's
// BuildKit (its layer cache makes an unchanged tree a matter of seconds).
console.log("\n== the image, from the Dockerfile by Docker's BuildKit (scripts/image/build.sh)");
if (!run('bash', ['scripts/image/build.sh']).ok) process.exit(1);
console.log("\n== the test node's own images: pause, CoreDNS, local-path (made once, cached)");
if (!run('bash', ['test/node/images.sh']).ok) process.exit(1);
console.log('\n== Python packages for the scikit-learn checks (made once, cached by their pins)');
try {
  env.EDGEWARDEN_PYTHON = ensurePythonEnv();
  console.log(env.EDGEWARDEN_PYTHON);
} catch (error) {
  console.error(`edgewarden: ${error.message}`);
  process.exit(1);
}

rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
const jestArgs = (name) => ['--', '--json', `--outputFile=${path.join(results, `${name}.json`)}`];
const stages = [
  ['lint (ESLint, Prettier)', ['run', 'lint']],
  ['typecheck', ['run', 'typecheck']],
  ['import graph', ['run', 'check:imports']],
  ['API drift (api/schema -> crds/, types)', ['run', 'check:api']],
  ['manifests drift (charts/edgewarden -> manifests/)', ['run', 'check:manifests']],
  ['API docs drift (crds/ -> docs/resources/)', ['run', 'check:api-docs']],
  ['unit tests', ['run', 'test:unit', ...jestArgs('unit')], 'unit'],
  [
    'data-path tests (real PostgreSQL, Redis, SQLite)',
    ['run', 'test:data', ...jestArgs('data')],
    'data',
  ],
  [
    'image tests (the image Docker built, run under the restricted profile)',
    ['run', 'test:image', ...jestArgs('image')],
    'image',
  ],
  [
    'integration tests (real control plane, kwok nodes)',
    ['run', 'test:integration', ...jestArgs('integration')],
    'integration',
  ],
  [
    'end-to-end tests (real control plane and node running the image; PostgreSQL, Prometheus)',
    ['run', 'test:e2e', ...jestArgs('e2e')],
    'e2e',
  ],
];

const summary = [];
for (const [name, args, report] of stages) {
  console.log(`\n== ${name}`);
  summary.push({ name, report, ...run('npm', args) });
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const stage of summary) {
  const file = stage.report && path.join(results, `${stage.report}.json`);
  const report = file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  if (report) {
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
  }
  // A failed stage with no failed test in it (lint, types, a suite that could not start) is
  // one failed check of its own, so the totals never read as a pass when the run was not.
  if (!stage.ok && !(report?.numFailedTests > 0)) failed += 1;
}
const failedStages = summary.filter((s) => !s.ok);

console.log('\n== summary');
for (const s of summary)
  console.log(`  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.name} (${s.seconds.toFixed(1)} s)`);
console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failedStages.length > 0 || failed > 0 ? 1 : 0);
