// The images the test node runs, none of them pulled (no registry is reachable where the tests
// run): its own (test/node/images.sh: pause, CoreDNS, local-path), and the images Docker built
// (ours, from the Dockerfile), imported into the node's containerd as `k3s ctr images import`
// does on an air-gapped Pi.
import { execFile, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(
  here,
  here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..',
);
const DOCKER = '/usr/bin/docker';
export const CTR = '/usr/bin/ctr';

/** The images test/node/images.sh made: name -> reference, and the tarballs to import. */
export async function nodeImages(): Promise<{ refs: Record<string, string>; tarballs: string[] }> {
  const { stdout } = await exec('bash', [path.join(repoRoot, 'test/node/images.sh')], {
    maxBuffer: 1 << 20,
  });
  const folder = stdout.trim().split('\n').pop()!;
  const tarballs = (await readdir(folder))
    .filter((f) => f.endsWith('.tar'))
    .map((f) => path.join(folder, f));
  const refs: Record<string, string> = {};
  for (const tarball of tarballs) {
    const manifest = JSON.parse((await exec('tar', ['-xOf', tarball, 'manifest.json'])).stdout) as {
      RepoTags: string[];
    }[];
    refs[path.basename(tarball, '.tar')] = manifest[0]!.RepoTags[0]!;
  }
  return { refs, tarballs };
}

/** `docker save ref | ctr import -`: an image Docker built, into the node's containerd. */
export async function importFromDocker(socket: string, ref: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const save = spawn(DOCKER, ['save', ref], { stdio: ['ignore', 'pipe', 'pipe'] });
    const load = spawn(CTR, ['--address', socket, '-n', 'k8s.io', 'images', 'import', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    save.stdout.pipe(load.stdin);
    let errors = '';
    save.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    load.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    let saved: number | null = null;
    save.on('exit', (code) => (saved = code));
    load.on('exit', (code) => {
      if (saved === 0 && code === 0) resolve();
      else
        reject(
          new Error(
            `importing ${ref} from Docker failed (docker save ${saved}, ctr import ${code}): ${errors.trim()}\n` +
              'build the image first: bash scripts/image/build.sh',
          ),
        );
    });
  });
}
