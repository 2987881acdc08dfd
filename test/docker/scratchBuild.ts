// The Dockerfile's build without Docker: each stage gets a folder for its root file system
// under a scratch folder, and its instructions are carried out there with the same commands.
//
// - WORKDIR /x is <stage root>/x. COPY from the context copies from the checkout what `docker
//   build` would send (.dockerignore honoured, dockerignore.ts); COPY --from=<stage> copies
//   from that stage's folder, or, for a file of the stage's base image (the Node binary of
//   node:20-bookworm-slim), from this machine's equivalent (BASE_IMAGES).
// - RUN runs `/bin/sh -c <command>` in the mapped WORKDIR with the stage's ENV and ARGs, plus
//   what it takes to run here: this machine's PATH, a HOME of the build's own (no user npmrc
//   of this machine's by accident), npm's cache where it already is (warm: `npm ci` reads
//   packages from it, not the network), this machine's npm settings file and proxy variables.
//   A RUN naming an absolute path is refused, except the Debian package step, which is
//   checked against dpkg and run (without deleting this machine's apt lists) only for missing
//   packages, as root.
// - The image runs as its ENTRYPOINT with absolute paths mapped into the final stage's folder,
//   from its WORKDIR, with the image's ENV only, as its USER (setpriv, when run as root).
// Which base images are known, and what each stands for on this machine, is BASE_IMAGES: a
// FROM of any other image, or a base whose Debian release or Node major differs from this
// machine's, stops the build.
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  cp,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  symlink,
} from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { cleanPath, type ContextFilter } from './dockerignore.js';
import {
  absolutePaths,
  aptInstallPackages,
  imageConfigOf,
  normalizeImagePath,
  resolveWorkdir,
  stageNamed,
  stagesNeeded,
  type Dockerfile,
  type ImageConfig,
  type Stage,
  type Vars,
} from './dockerfile.js';

const exec = promisify(execFile);

export interface BaseImage {
  /** The Debian release it is built on: this machine's must be the same (glibc, compilers). */
  debian: string;
  /** The Node.js major version it carries, if any: this machine's must be the same. */
  nodeMajor?: number;
  /** Whether it has a shell, so that RUN can work in it. */
  shell: boolean;
  /** Files of the image that a COPY --from may take, as files on this machine. */
  files: Record<string, string>;
  /** The shared libraries the image has (soname -> Debian package), when native code must load in it. */
  libraries?: Record<string, string>;
}

// What distroless's base-debian12 and cc-debian12 install (libc6, libssl3; libgcc-s1,
// libstdc++6, libgomp1: GoogleContainerTools/distroless base/config.bzl and cc/config.bzl).
const LIBC6 = [
  'libc.so.6',
  'libm.so.6',
  'libdl.so.2',
  'librt.so.1',
  'libpthread.so.0',
  'libresolv.so.2',
  'libutil.so.1',
  'libanl.so.1',
  'libmvec.so.1',
  'ld-linux-x86-64.so.2',
  'ld-linux-aarch64.so.1',
];
export const CC_DEBIAN12_LIBRARIES: Record<string, string> = {
  ...Object.fromEntries(LIBC6.map((so) => [so, 'libc6'])),
  'libgcc_s.so.1': 'libgcc-s1',
  'libstdc++.so.6': 'libstdc++6',
  'libgomp.so.1': 'libgomp1',
  'libssl.so.3': 'libssl3',
  'libcrypto.so.3': 'libssl3',
};

export const BASE_IMAGES: Record<string, BaseImage> = {
  'node:20-bookworm-slim': {
    debian: '12',
    nodeMajor: 20,
    shell: true,
    // The official image's Node, which the runtime stage copies: the same build as this machine's.
    files: { '/usr/local/bin/node': process.execPath },
  },
  'gcr.io/distroless/cc-debian12:nonroot': {
    debian: '12',
    shell: false,
    files: {},
    libraries: CC_DEBIAN12_LIBRARIES,
  },
};

export interface BuiltImage {
  scratch: string;
  /** The final stage's root folder: the image's file system. */
  root: string;
  config: ImageConfig;
  base: BaseImage;
  /** One line per step, with its time. */
  steps: string[];
}

export interface BuildOptions {
  context: string;
  dockerfile: Dockerfile;
  filter: ContextFilter;
  scratch: string;
  /** Each step, with its time, as it ends: for the test's log. */
  log?: (line: string) => void;
}

function hostDebianRelease(): string | undefined {
  try {
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    if (!/^ID=debian$/m.test(osRelease)) return undefined;
    return /^VERSION_ID="?(\d+)"?$/m.exec(osRelease)?.[1];
  } catch {
    return undefined;
  }
}

function checkBase(stage: Stage): BaseImage {
  const base = BASE_IMAGES[stage.base];
  if (!base)
    throw new Error(
      `FROM ${stage.base} (line ${stage.line}): not a base the scratch build knows; add it to BASE_IMAGES in test/docker/scratchBuild.ts with what stands for it here`,
    );
  const debian = hostDebianRelease();
  if (debian !== base.debian)
    throw new Error(
      `FROM ${stage.base} is Debian ${base.debian}; this machine is ${debian ? `Debian ${debian}` : 'not Debian'}: the scratch build would not compile or load what the image does`,
    );
  const major = Number(process.versions.node.split('.')[0]);
  if (base.nodeMajor !== undefined && base.nodeMajor !== major)
    throw new Error(
      `FROM ${stage.base} has Node ${base.nodeMajor}; this machine has ${process.versions.node}`,
    );
  return base;
}

/** What a RUN sees besides the stage's ENV and ARGs: see the file's header. */
function runEnvironment(home: string): Vars {
  const env: Vars = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    npm_config_cache: process.env.npm_config_cache ?? path.join(homedir(), '.npm'),
  };
  const userconfig = process.env.npm_config_userconfig ?? path.join(homedir(), '.npmrc');
  if (existsSync(userconfig)) env.npm_config_userconfig = userconfig;
  for (const name of [
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'http_proxy',
    'https_proxy',
    'no_proxy',
  ])
    if (process.env[name]) env[name] = process.env[name];
  return env;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function runLogged(
  argv: string[],
  opts: { cwd: string; env: Vars; logFile: string; timeoutMs: number },
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(opts.logFile);
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
    });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', reject);
    child.on('close', (code, signal) => out.end(() => resolve({ code, signal })));
  });
}

async function tail(file: string, lines = 60): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

async function dpkgInstalled(pkg: string): Promise<boolean> {
  try {
    const { stdout } = await exec('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', pkg]);
    return stdout.startsWith('ii');
  } catch {
    return false;
  }
}

/** Copies one file or symlink, keeping its mode (Docker keeps it too). */
async function copyEntry(from: string, to: string): Promise<void> {
  const st = await lstat(from);
  await mkdir(path.dirname(to), { recursive: true });
  if (st.isSymbolicLink()) await symlink(await readlink(from), to);
  else {
    await copyFile(from, to);
    await chmod(to, st.mode & 0o7777);
  }
}

/** Copies what the context sends of `rel` (a folder) into `to`; returns how many files. */
async function copyContextTree(
  context: string,
  filter: ContextFilter,
  rel: string,
  to: string,
): Promise<number> {
  let copied = 0;
  const entries = await readdir(path.join(context, rel), { withFileTypes: true });
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = `${rel}/${e.name}`;
    const excluded = filter.excluded(child);
    if (e.isDirectory()) {
      if (excluded && !filter.mayIncludeBelow(child)) continue;
      if (!excluded) await mkdir(path.join(to, e.name), { recursive: true });
      copied += await copyContextTree(context, filter, child, path.join(to, e.name));
    } else if (!excluded) {
      await copyEntry(path.join(context, child), path.join(to, e.name));
      copied += 1;
    }
  }
  return copied;
}

async function isDirectory(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Runs the Dockerfile's stages that the last one needs, in order. */
export async function buildInScratch(opts: BuildOptions): Promise<BuiltImage> {
  const { context, dockerfile, filter, scratch } = opts;
  const log = opts.log ?? (() => {});
  await chmod(scratch, 0o755); // the image's user must reach its files
  const logs = path.join(scratch, 'logs');
  const home = path.join(scratch, 'build-home');
  await mkdir(logs, { recursive: true });
  await mkdir(home, { recursive: true });
  const roots = new Map<number, string>();
  const steps: string[] = [];
  const needed = stagesNeeded(dockerfile);
  for (const s of needed) checkBase(s);

  for (const stage of needed) {
    const base = BASE_IMAGES[stage.base]!;
    const label = stage.name ?? String(stage.index);
    const root = path.join(scratch, 'stages', `${stage.index}-${label}`);
    await mkdir(root, { recursive: true });
    roots.set(stage.index, root);
    let workdir = '/';
    const host = (imagePath: string): string => path.join(root, normalizeImagePath(imagePath));
    for (const i of stage.instructions) {
      const started = Date.now();
      let what: string;
      switch (i.kind) {
        case 'ARG':
        case 'ENV':
        case 'USER':
        case 'ENTRYPOINT':
        case 'CMD':
          continue; // recorded by the parser: the environment, the image's configuration
        case 'WORKDIR':
          workdir = resolveWorkdir(workdir, i.path);
          await mkdir(host(workdir), { recursive: true });
          continue;
        case 'COPY': {
          const destImage = i.dest.startsWith('/') ? i.dest : `${workdir}/${i.dest}`;
          const dest = host(destImage);
          const intoDir = i.dest.endsWith('/') || i.sources.length > 1 || (await isDirectory(dest));
          for (const source of i.sources) {
            if (i.from === undefined) {
              const rel = cleanPath(source.replace(/^\/+/, ''));
              if (rel.startsWith('..'))
                throw new Error(`COPY ${source} (line ${i.line}): outside the build context`);
              const from = path.join(context, rel);
              const st = await lstat(from).catch(() => undefined);
              if (!st) throw new Error(`COPY ${source} (line ${i.line}): not in the build context`);
              if (st.isDirectory()) {
                await mkdir(dest, { recursive: true });
                const n = await copyContextTree(context, filter, rel, dest);
                if (n === 0 && filter.excluded(rel))
                  throw new Error(
                    `COPY ${source} (line ${i.line}): excluded by .dockerignore, so not in the build context`,
                  );
              } else {
                if (filter.excluded(rel))
                  throw new Error(
                    `COPY ${source} (line ${i.line}): excluded by .dockerignore, so not in the build context`,
                  );
                await copyEntry(from, intoDir ? path.join(dest, path.basename(rel)) : dest);
              }
            } else {
              const fromStage = stageNamed(dockerfile, i.from);
              const imagePath = normalizeImagePath(source);
              let from = path.join(roots.get(fromStage.index)!, imagePath);
              if (!existsSync(from)) {
                const provided = BASE_IMAGES[fromStage.base]?.files[imagePath];
                if (!provided)
                  throw new Error(
                    `COPY --from=${i.from} ${source} (line ${i.line}): not in that stage (nor a file of ${fromStage.base} the scratch build knows)`,
                  );
                from = provided;
              }
              const target = (await isDirectory(from))
                ? dest
                : intoDir
                  ? path.join(dest, path.basename(imagePath))
                  : dest;
              await mkdir(path.dirname(target), { recursive: true });
              await cp(from, target, { recursive: true, verbatimSymlinks: true });
            }
          }
          what = `COPY ${i.from ? `--from=${i.from} ` : ''}${i.sources.join(' ')} ${i.dest}`;
          break;
        }
        case 'RUN': {
          const short = i.command.replace(/\s+/g, ' ');
          what = `RUN ${short.length > 90 ? `${short.slice(0, 87)}...` : short}`;
          if (!base.shell)
            throw new Error(`RUN (line ${i.line}): ${stage.base} has no shell to run it`);
          const env = { ...runEnvironment(home), ...i.env };
          for (const [k, v] of Object.entries(i.env))
            if (absolutePaths(v).length > 0)
              throw new Error(
                `RUN (line ${i.line}): ${k}=${v} names a path of the image, not mapped here`,
              );
          const named = absolutePaths(i.command);
          const packages = named.length > 0 ? aptInstallPackages(i.command) : undefined;
          if (named.length > 0 && !packages)
            throw new Error(
              `RUN (line ${i.line}) names ${named.join(', ')}: the scratch build cannot map absolute paths; teach test/docker/scratchBuild.ts what it means, or use relative ones`,
            );
          let argv = ['/bin/sh', '-c', i.command];
          if (packages) {
            const missing: string[] = [];
            for (const p of packages) if (!(await dpkgInstalled(p))) missing.push(p);
            if (missing.length === 0) {
              const line = `${label}  ${what}: ${packages.join(' ')} installed here already (dpkg), not run`;
              steps.push(line);
              log(line);
              continue;
            }
            if (process.getuid?.() !== 0)
              throw new Error(
                `RUN (line ${i.line}): ${missing.join(' ')} not installed and this is not root: run bash .ci/run`,
              );
            // This machine's own apt lists stay: the image's `rm -rf` is not ours to run here.
            argv = [
              '/bin/sh',
              '-c',
              `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`,
            ];
          }
          const logFile = path.join(logs, `${stage.index}-${label}-line${i.line}.log`);
          const exit = await runLogged(argv, {
            cwd: host(workdir),
            env,
            logFile,
            timeoutMs: 15 * 60_000,
          });
          if (exit.code !== 0)
            throw new Error(
              `RUN (line ${i.line}) failed (${exit.code ?? exit.signal}): ${i.command}\n--- last lines of ${logFile}\n${await tail(logFile)}`,
            );
          break;
        }
      }
      const line = `${label}  ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
      steps.push(line);
      log(line);
    }
  }
  const last = dockerfile.stages[dockerfile.stages.length - 1]!;
  return {
    scratch,
    root: roots.get(last.index)!,
    config: imageConfigOf(last),
    base: BASE_IMAGES[last.base]!,
    steps,
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  argv: string[];
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** The user a USER line names, as uid and gid (numeric only: the image has no /etc/passwd of ours). */
export function numericUser(user: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) throw new Error(`USER ${user}: give it as uid[:gid], numbers`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

/**
 * Runs the image: its ENTRYPOINT (or `opts.entrypoint`, as `docker run --entrypoint`; absolute
 * paths mapped into its root) with `args` (its CMD when none), from its WORKDIR, with its ENV,
 * HOME and the caller's `env` only, as its USER when this is root.
 */
export async function runImage(
  image: BuiltImage,
  args: string[] | undefined,
  opts: { entrypoint?: string[]; env?: Vars; timeoutMs?: number } = {},
): Promise<RunResult> {
  const entrypoint = (opts.entrypoint ?? image.config.entrypoint).map((a) => {
    if (!a.startsWith('/')) return a;
    const mapped = path.join(image.root, normalizeImagePath(a));
    if (!existsSync(mapped)) throw new Error(`ENTRYPOINT names ${a}, which is not in the image`);
    return mapped;
  });
  const cwd = path.join(image.root, image.config.workdir);
  if (!(await isDirectory(cwd)))
    throw new Error(`WORKDIR ${image.config.workdir} is not in the image`);
  const home = path.join(image.scratch, 'image-home');
  await mkdir(home, { recursive: true });
  let argv = [...entrypoint, ...(args ?? image.config.cmd)];
  const root = process.getuid?.() === 0;
  if (image.config.user !== undefined && root) {
    if (!SETPRIV) throw new Error('setpriv is not installed (util-linux): run bash .ci/run');
    const { uid, gid } = numericUser(image.config.user);
    await chown(home, uid, gid);
    argv = [
      SETPRIV,
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--clear-groups',
      '--no-new-privs',
      '--',
      ...argv,
    ];
  }
  const env: Vars = { HOME: home, ...image.config.env, ...opts.env };
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, argv }));
  });
}

/**
 * `du -sb`: apparent sizes in bytes. The paths must not contain one another (du counts a
 * folder once, so it leaves out one inside another it was given); call it once for each.
 */
export async function diskUsage(paths: string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (paths.length === 0) return sizes;
  const { stdout } = await exec('du', ['-sb', ...paths], { maxBuffer: 16 * 1024 * 1024 });
  for (const line of stdout.trim().split('\n')) {
    const [bytes, p] = line.split('\t');
    sizes.set(p!, Number(bytes));
  }
  for (const p of paths) if (!sizes.has(p)) throw new Error(`du: no size for ${p}`);
  return sizes;
}

export async function bytesOf(p: string): Promise<number> {
  return (await diskUsage([p])).get(p)!;
}

/** The packages in a node_modules folder (scoped ones as @scope/name), largest first. */
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

export interface NeededLibrary {
  soname: string;
  /** Where the loader found it here, or undefined when it did not. */
  resolved: string | undefined;
}

/** The shared libraries in `ldd` output (the kernel's vDSO left out). */
export function parseLdd(output: string): NeededLibrary[] {
  const out: NeededLibrary[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('linux-vdso') || line.startsWith('statically linked'))
      continue;
    const arrow = /^(\S+) => (?:(not found)|(\S+))/.exec(line);
    if (arrow) out.push({ soname: arrow[1]!, resolved: arrow[2] ? undefined : arrow[3] });
    else {
      const loader = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
      if (loader) out.push({ soname: path.basename(loader[1]!), resolved: loader[1] });
      else throw new Error(`ldd: a line not understood: ${line}`);
    }
  }
  return out;
}

/** The ELF files of the image that the loader maps: node and every native add-on or library. */
export async function nativeFiles(root: string, dirs: string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && /\.node$|\.so(\.\d+)*$/.test(e.name)) found.push(p);
    }
  };
  for (const d of dirs) await walk(path.join(root, d));
  return found.sort();
}

/**
 * Each native file's libraries that the image's base does not have and that the image does
 * not carry itself (a library under its root): what would fail to load in the real image.
 */
export async function librariesMissingFromBase(
  image: BuiltImage,
  files: string[],
): Promise<{ file: string; soname: string }[]> {
  const has = image.base.libraries;
  if (!has) throw new Error('the runtime base lists no libraries (BASE_IMAGES)');
  const missing: { file: string; soname: string }[] = [];
  for (const file of files) {
    const { stdout } = await exec('ldd', [file]);
    for (const lib of parseLdd(stdout)) {
      const carried = lib.resolved !== undefined && lib.resolved.startsWith(`${image.root}/`);
      if (!carried && !(lib.soname in has))
        missing.push({ file: path.relative(image.root, file), soname: lib.soname });
    }
  }
  return missing;
}
