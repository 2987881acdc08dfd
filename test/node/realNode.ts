// A real Kubernetes node on this machine, joined to the test control plane: Debian's
// containerd and runc, the CNI bridge plugin, and a kubelet and kube-proxy built from the Go
// module proxy at the control plane's version, with CoreDNS and rancher's local-path
// provisioner running on it as pods. Pods run from real images (imported into containerd:
// the image `docker build` made from our Dockerfile, and the add-ons' from
// test/node/images.sh), under the runtime's own enforcement of their security context.
// One per machine (its addresses, bridges and iptables rules are fixed); needs root.
// Facts behind each setting: ../shared/guides/real-node.md; the layout: docs/testing.md.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { issueCertificate } from '../services/certs.js';
import { freePort } from '../services/net.js';
import { processGroup, sleep, type ProcessGroup } from '../control-plane/processes.js';
import { corednsManifest, localPathManifest } from './addons.js';
import {
  NODE,
  clientKubeconfig,
  cniConfig,
  containerdConfig,
  containerdSocket,
  kubeletConfig,
  kubeProxyConfig,
  type NodeLayout,
} from './nodeConfig.js';
import { createNodeNetwork, removeNodeNetwork } from './nodeNetwork.js';

const exec = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(
  here,
  here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..',
);
const LOCK = '/run/edgewarden-test-node.json';
const DOCKER = '/usr/bin/docker';
const CTR = '/usr/bin/ctr';

export interface NodeTools {
  kubelet: string;
  kubeProxy: string;
  kubectl: string;
  crictl: string;
}

export interface RealNodeOptions {
  /** The control plane's folder: its CA (ca.crt, ca.key) signs the node's certificates. */
  controlPlaneDir: string;
  /** The API server, at the node's address. */
  server: string;
  /** An admin kubeconfig, to apply the add-ons. */
  kubeconfig: string;
  tools: NodeTools;
  /** Images to import from Docker into the node's containerd (e.g. edgewarden:ci). */
  images: string[];
}

export interface RealNode {
  name: string;
  /** The node's address: pods reach this machine (and the API server) there. */
  address: string;
  /** The node's folder; claims' folders are under `claims`. */
  dir: string;
  claims: string;
  /** A crictl wrapper script talking to this node's containerd. */
  crictl: string;
  stop(): Promise<void>;
  killSync(): void;
  pids(): Record<string, number>;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Before the control plane starts (its API server listens on the node's address): takes the
 * machine's one node slot, removes what a killed run left behind, and makes the node's
 * address. Throws, naming the holder, if another run's node is up.
 */
export async function prepareNodeHost(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the test node needs root (a real kubelet)');
  if (existsSync(LOCK)) {
    const held = JSON.parse(readFileSync(LOCK, 'utf8')) as { pid: number; dir: string };
    if (held.pid !== process.pid && alive(held.pid))
      throw new Error(
        `another test node is running on this machine (process ${held.pid}, ${held.dir}); ` +
          'one node per machine: its addresses and iptables rules are fixed',
      );
    await removeLeftovers(held.dir);
  } else {
    await removeLeftovers(undefined);
  }
  writeFileSync(LOCK, JSON.stringify({ pid: process.pid, dir }));
  await createNodeNetwork();
}

/** Gives the node slot back: the node's address and rules go (after a failed start). */
export async function releaseNodeHost(): Promise<void> {
  await removeNodeNetwork();
  rmSync(LOCK, { force: true });
}

/** Kills what a run left running (its containers, shims and daemons), unmounts, cleans up. */
async function removeLeftovers(dir: string | undefined): Promise<void> {
  if (dir) killProcessesMentioning(dir);
  killKubepods();
  if (dir) await unmountUnder(dir);
  await removeNodeNetwork();
}

/** Every process whose command line names `text` (a run's folder): its daemons and shims. */
function killProcessesMentioning(text: string): void {
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
function killKubepods(): void {
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

// Synchronous on purpose: these run in process 'exit' handlers too.
function safeReaddir(dir: string, directoriesOnly = false): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => !directoriesOnly || e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** Unmounts every mount point under `dir` (secret tmpfs, container root filesystems), deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const points = safeRead('/proc/self/mountinfo')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)))
    .map((p) => p.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    await exec('umount', [point]).catch(() => exec('umount', ['-l', point]).catch(() => undefined));
  }
}

/** The images test/node/images.sh made: name -> reference, and the tarballs to import. */
async function nodeImages(): Promise<{ refs: Record<string, string>; tarballs: string[] }> {
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
async function importFromDocker(socket: string, ref: string): Promise<void> {
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

export async function startRealNode(options: RealNodeOptions): Promise<RealNode> {
  const { controlPlaneDir: cp, tools } = options;
  const dir = path.join(cp, 'node');
  const logs = path.join(cp, 'logs');
  const claims = path.join(dir, 'claims');
  await mkdir(path.join(dir, 'cni/net.d'), { recursive: true });
  await mkdir(claims, { recursive: true });
  const group: ProcessGroup = processGroup(logs);
  const kubectl = async (...args: string[]): Promise<string> =>
    (await exec(tools.kubectl, [`--kubeconfig=${options.kubeconfig}`, ...args])).stdout;

  try {
    // Certificates from the control plane's CA: the kubelet's client (the Node authorizer
    // knows it by system:node:<name>), its serving certificate (the API server verifies it),
    // and kube-proxy's client (bound to system:node-proxier by the default policy).
    const ca = path.join(cp, 'ca.crt');
    await issueCertificate(
      cp,
      'kubelet-client',
      `/O=system:nodes/CN=system:node:${NODE.name}`,
      'extendedKeyUsage=clientAuth',
    );
    await issueCertificate(
      cp,
      'kubelet-serving',
      `/CN=${NODE.name}`,
      `subjectAltName=IP:${NODE.address},DNS:${NODE.name}\nextendedKeyUsage=serverAuth`,
    );
    await issueCertificate(
      cp,
      'kube-proxy',
      '/CN=system:kube-proxy',
      'extendedKeyUsage=clientAuth',
    );
    const { refs, tarballs } = await nodeImages();
    const [kubeletPort, kubeletHealthzPort, proxyHealthzPort, proxyMetricsPort] = await Promise.all(
      [freePort(), freePort(), freePort(), freePort()],
    );
    const layout: NodeLayout = {
      dir,
      caFile: ca,
      sandboxImage: refs.pause!,
      kubeletPort,
      kubeletHealthzPort,
      proxyHealthzPort,
      proxyMetricsPort,
    };
    for (const name of ['kubelet-serving.crt', 'kubelet-serving.key'])
      await writeFile(path.join(dir, name), await readFile(path.join(cp, name)));
    await writeFile(path.join(dir, 'containerd.toml'), containerdConfig(layout));
    await writeFile(path.join(dir, 'cni/net.d/10-edgewarden.conflist'), cniConfig(dir));
    await writeFile(path.join(dir, 'kubelet.yaml'), kubeletConfig(layout));
    await writeFile(path.join(dir, 'kube-proxy.yaml'), kubeProxyConfig(layout));
    await writeFile(
      path.join(dir, 'kubelet.kubeconfig'),
      clientKubeconfig(options.server, ca, `${cp}/kubelet-client.crt`, `${cp}/kubelet-client.key`),
    );
    await writeFile(
      path.join(dir, 'kube-proxy.kubeconfig'),
      clientKubeconfig(options.server, ca, `${cp}/kube-proxy.crt`, `${cp}/kube-proxy.key`),
    );
    const socket = containerdSocket(dir);
    const crictl = path.join(dir, 'crictl');
    await writeFile(
      path.join(dir, 'crictl.yaml'),
      `runtime-endpoint: unix://${socket}\nimage-endpoint: unix://${socket}\ntimeout: 30\n`,
    );
    await writeFile(
      crictl,
      `#!/bin/sh\nexec ${tools.crictl} --config ${path.join(dir, 'crictl.yaml')} "$@"\n`,
    );
    await chmod(crictl, 0o755);

    group.launch('containerd', '/usr/bin/containerd', [
      '--config',
      path.join(dir, 'containerd.toml'),
    ]);
    await group.waitFor('containerd', async () => {
      await exec(CTR, ['--address', socket, 'version']);
      return true;
    });
    for (const tarball of tarballs)
      await exec(CTR, ['--address', socket, '-n', 'k8s.io', 'images', 'import', tarball]);
    for (const image of options.images) await importFromDocker(socket, image);

    group.launch('kubelet', tools.kubelet, [
      `--config=${path.join(dir, 'kubelet.yaml')}`,
      `--kubeconfig=${path.join(dir, 'kubelet.kubeconfig')}`,
      `--root-dir=${path.join(dir, 'kubelet')}`,
      `--hostname-override=${NODE.name}`,
      `--node-ip=${NODE.address}`,
      '--node-labels=node.kubernetes.io/instance-type=edgewarden-test',
      '--v=1',
    ]);
    group.launch('kube-proxy', tools.kubeProxy, [`--config=${path.join(dir, 'kube-proxy.yaml')}`]);
    await group.waitFor(
      `node ${NODE.name} Ready`,
      async () =>
        (
          await kubectl(
            'get',
            'node',
            NODE.name,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          )
        ).includes('True'),
      120_000,
    );

    // The add-ons, as pods on the node; the suites start once DNS answers and claims bind.
    const addons = path.join(dir, 'addons.yaml');
    await writeFile(
      addons,
      `${corednsManifest(refs.coredns!)}---\n${localPathManifest(
        {
          coredns: refs.coredns!,
          localPathProvisioner: refs['local-path-provisioner']!,
          busybox: refs.busybox!,
        },
        claims,
      )}`,
    );
    await kubectl('apply', '-f', addons);
    for (const [namespace, name] of [
      ['kube-system', 'coredns'],
      ['local-path-storage', 'local-path-provisioner'],
    ] as const) {
      await group.waitFor(
        `${namespace}/${name} available`,
        async () =>
          (
            await kubectl(
              'get',
              'deployment',
              name,
              '-n',
              namespace,
              '-o',
              'jsonpath={.status.availableReplicas}',
            )
          ).trim() === '1',
        180_000,
      );
    }

    const stop = async (): Promise<void> => {
      // The kubelet first, or it would start again what is stopped below; then every pod
      // sandbox through the CRI (the CNI plugins remove their addresses and rules).
      const kubelet = group.pids().kubelet;
      if (kubelet) {
        process.kill(kubelet, 'SIGTERM');
        for (let i = 0; i < 50 && alive(kubelet); i++) await sleep(100);
      }
      await exec(crictl, ['rmp', '--all', '--force'], { timeout: 60_000 }).catch(() => undefined);
      await group.stop();
      await exec(tools.kubeProxy, ['--cleanup'], { timeout: 30_000 }).catch(() => undefined);
      killProcessesMentioning(socket);
      killKubepods();
      await unmountUnder(dir);
      await releaseNodeHost();
    };
    return {
      name: NODE.name,
      address: NODE.address,
      dir,
      claims,
      crictl,
      stop,
      killSync: () => {
        group.killSync();
        killProcessesMentioning(socket);
        killKubepods();
      },
      pids: () => group.pids(),
    };
  } catch (error) {
    await group.stop().catch(() => undefined);
    killProcessesMentioning(containerdSocket(dir));
    killKubepods();
    await unmountUnder(dir);
    throw error;
  }
}
