// What a test node leaves on this machine when its run is killed before it can stop it (jest
// killed, a machine reset mid-run): its daemons and the containerd shims that outlive them, the
// pods' processes, and the mounts under its folder (secret tmpfs, container root filesystems).
// Synchronous where it can be: these run in process 'exit' handlers too.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Whether a process of that id is still there. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Every process whose command line names `text` (a run's folder): its daemons and shims. */
export function killProcessesMentioning(text: string): void {
  for (const entry of safeReaddir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(text)) kill(pid);
  }
}

/** The pods' processes: everything in the kubelet's cgroup tree (the pids controller). */
export function killKubepods(): void {
  const walk = (dir: string): void => {
    for (const pid of safeRead(`${dir}/cgroup.procs`).split('\n').filter(Boolean))
      kill(Number(pid));
    for (const entry of safeReaddir(dir, true)) walk(`${dir}/${entry}`);
  };
  for (const root of ['/sys/fs/cgroup/pids/kubepods', '/sys/fs/cgroup/unified/kubepods'])
    if (existsSync(root)) walk(root);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function safeReaddir(dir: string, directoriesOnly = false): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => !directoriesOnly || e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** The mount points under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  return safeRead('/proc/self/mountinfo')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)))
    .map((p) => p.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts every mount point under `dir` (secret tmpfs, container root filesystems), deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of mountsUnder(dir)) {
    await exec('umount', [point]).catch(() => exec('umount', ['-l', point]).catch(() => undefined));
  }
}
