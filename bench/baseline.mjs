// The "before" of a before/after benchmark: an earlier commit of this repository, built where
// the benchmark can run it side by side with the working tree in one run. The commit is
// checked out into a detached git worktree under the system's temporary folder (kept between
// runs, keyed by the commit), shares this checkout's node_modules (a superset: dependencies
// are only ever added for the "after"), and is compiled with its own tsconfig.build.json.
//   const before = await baselineBuild('8120e74');  // -> { root, rev, bin }
// `node <before.bin> agent|export|operator` then runs that commit's code.
import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The last commit before issue 22's memory and export changes: what the benchmarks compare
 * against unless `--before REV` names another.
 */
export const BEFORE_ISSUE_22 = '8120e74';

function git(args, cwd = root) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Builds `rev` once (a later call reuses the build) and says where its entry point is. */
export async function baselineBuild(rev = BEFORE_ISSUE_22) {
  const full = git(['rev-parse', '--verify', `${rev}^{commit}`]);
  const dir = path.join(tmpdir(), `edgewarden-baseline-${full.slice(0, 12)}`);
  const bin = path.join(dir, 'bin/edgewarden.js');
  const built = path.join(dir, 'dist/cli/src/main.js');
  if (!existsSync(dir)) {
    // A worktree left registered by a removed folder would refuse the add: forget such ones.
    git(['worktree', 'prune']);
    git(['worktree', 'add', '--detach', dir, full]);
  }
  if (!existsSync(path.join(dir, 'node_modules')))
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  if (!existsSync(built)) {
    process.stderr.write(`building the baseline ${full.slice(0, 12)} in ${dir} ...\n`);
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      { cwd: dir, stdio: 'inherit' },
    );
    if (r.status !== 0) throw new Error(`building ${rev} failed`);
  }
  return { root: dir, rev: full.slice(0, 12), bin };
}
