// actionlint over .github/workflows/ (`npm run lint:workflows`; test/unit/workflows.test.ts runs
// the same in `npm test`). actionlint is the control-plane tool cache's, built from the Go module
// proxy by test/control-plane/build-binaries.sh at ACTIONLINT_VERSION (versions.env), found as
// locateTools() finds the other tools. It checks each workflow's syntax, its expressions and
// their types, the inputs of the actions it uses (those it knows), and untrusted input
// interpolated into `run:` scripts; with shellcheck on the PATH, the `run:` scripts too.
import { execFile } from 'node:child_process';
import { access, readFile, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// Run from source (scripts/) by ts-jest, or compiled (dist/scripts/).
export const repoRoot =
  path.basename(path.resolve(here, '..')) === 'dist'
    ? path.resolve(here, '../..')
    : path.resolve(here, '..');
export const WORKFLOWS = '.github/workflows';

/** The tool cache's actionlint: ${EDGEWARDEN_TOOLS_DIR}/actionlint-<ACTIONLINT_VERSION>/actionlint. */
export async function locateActionlint(root = repoRoot): Promise<string> {
  const versions = await readFile(path.join(root, 'test/control-plane/versions.env'), 'utf8');
  const version = /^ACTIONLINT_VERSION=(\S+)$/m.exec(versions)?.[1];
  if (!version) throw new Error('ACTIONLINT_VERSION is not set in test/control-plane/versions.env');
  const tools =
    process.env.EDGEWARDEN_TOOLS_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'edgewarden-tools');
  const binary = path.join(tools, `actionlint-${version}`, 'actionlint');
  await access(binary).catch(() => {
    throw new Error(
      `actionlint ${version} is missing (${binary}).\n` +
        'Build it with: bash test/control-plane/build-binaries.sh (npm run tools)',
    );
  });
  return binary;
}

/** Every workflow file, as paths relative to the repository. */
export async function workflowFiles(root = repoRoot): Promise<string[]> {
  const names = await readdir(path.join(root, WORKFLOWS)).catch(() => [] as string[]);
  return names
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => `${WORKFLOWS}/${n}`);
}

export interface LintResult {
  code: number;
  output: string;
}

/** actionlint on `files` (relative to `root`), run from `root`: its exit code and output. */
export async function actionlint(files: string[], root = repoRoot): Promise<LintResult> {
  const binary = await locateActionlint();
  return new Promise((resolve) => {
    execFile(
      binary,
      ['-no-color', ...files],
      { cwd: root, timeout: 120_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

async function main(): Promise<void> {
  const files = await workflowFiles();
  if (files.length === 0) return console.log(`no workflows in ${WORKFLOWS}`);
  const { code, output } = await actionlint(files).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
  if (output) process.stdout.write(output);
  if (code !== 0) process.exit(code);
  console.log(`actionlint: ${files.join(', ')} clean`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))
  await main();
