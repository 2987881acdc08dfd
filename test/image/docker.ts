// Docker, as the image tests drive it: Debian's engine (scripts/image/engine.sh starts it),
// the image `bash scripts/image/build.sh` built (EDGEWARDEN_IMAGE, default edgewarden:ci), run
// the way a restricted pod runs it, and its files read back from `docker export`.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const DOCKER = '/usr/bin/docker';
export const IMAGE = process.env.EDGEWARDEN_IMAGE ?? 'edgewarden:ci';

/**
 * What Kubernetes' restricted Pod Security profile and the chart ask of every pod, as Docker
 * flags: a read-only root, uid/gid 65532, no capabilities, no privilege escalation, and the
 * runtime's default seccomp profile (Docker's default); no network.
 */
export const RESTRICTED = [
  '--read-only',
  '--user=65532:65532',
  '--cap-drop=ALL',
  '--security-opt=no-new-privileges',
  '--network=none',
];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `docker run --rm <flags> IMAGE <args>`, never throwing on a non-zero exit. */
export async function dockerRun(
  args: string[],
  flags: string[] = RESTRICTED,
  image = IMAGE,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, ['run', '--rm', ...flags, image, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The image's config, as `docker image inspect` reports it. */
export async function imageConfig(image = IMAGE): Promise<{
  Architecture: string;
  Size: number;
  Config: { User: string; Entrypoint: string[]; Cmd: string[]; WorkingDir: string; Env: string[] };
}> {
  const { stdout } = await exec(DOCKER, ['image', 'inspect', image]);
  return (JSON.parse(stdout) as never[])[0]!;
}

/** The image's whole file tree, unpacked into a new folder (`docker create` + `docker export`). */
export async function exportImage(image = IMAGE): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-image-files-'));
  // A command is named because a base image may have none; the container never starts.
  const { stdout } = await exec(DOCKER, ['create', image, '/exported']);
  const id = stdout.trim();
  try {
    await new Promise<void>((resolve, reject) => {
      const out = spawn(DOCKER, ['export', id], { stdio: ['ignore', 'pipe', 'inherit'] });
      const untar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'inherit', 'inherit'] });
      out.stdout.pipe(untar.stdin);
      untar.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar: ${code}`))));
    });
  } finally {
    await exec(DOCKER, ['rm', id]);
  }
  return dir;
}

/** Every file under `dir` (relative paths), recursively. */
export async function filesUnder(dir: string, under = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, under), { withFileTypes: true })) {
    const rel = path.join(under, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/**
 * `du -sb` of each path. One `du` a path: within one call, du counts a file only once, so a
 * folder inside another listed one would show as nearly empty.
 */
export async function diskUsage(paths: string[]): Promise<Map<string, number>> {
  const sizes = await Promise.all(
    paths.map(async (p) => Number((await exec('du', ['-sb', p])).stdout.split('\t')[0])),
  );
  return new Map(paths.map((p, i) => [p, sizes[i]!]));
}

/** Each package of a node_modules folder with its size, largest first. */
export async function packageSizes(
  nodeModules: string,
): Promise<{ name: string; bytes: number }[]> {
  const dirs: string[] = [];
  for (const e of await readdir(nodeModules, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    if (e.name.startsWith('@'))
      for (const s of await readdir(path.join(nodeModules, e.name))) dirs.push(`${e.name}/${s}`);
    else dirs.push(e.name);
  }
  const sizes = await diskUsage(dirs.map((d) => path.join(nodeModules, d)));
  return dirs
    .map((name) => ({ name, bytes: sizes.get(path.join(nodeModules, name)) ?? 0 }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** The dynamic loader of a linux/<arch> image, which lists a binary's libraries without a shell. */
export const LOADER: Record<string, string> = {
  amd64: '/lib64/ld-linux-x86-64.so.2',
  arm64: '/lib/ld-linux-aarch64.so.1',
};
