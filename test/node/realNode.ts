// A real Kubernetes node on this machine, joined to the test control plane: Debian's
// containerd and runc, the CNI bridge plugin, and a kubelet and kube-proxy built from the Go
// module proxy at the control plane's version, with CoreDNS and rancher's local-path
// provisioner running on it as pods. Pods run from real images (imported into containerd:
// the image `docker build` made from our Dockerfile, and the add-ons' from
// test/node/images.sh), under the runtime's own enforcement of their security context.
// One per machine (its addresses, bridges and iptables rules are fixed); needs root.
// Facts behind each setting: ../shared/guides/real-node.md; the layout: docs/testing.md.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import { processGroup, sleep, type ProcessGroup } from '../control-plane/processes.js';
import { corednsManifest, localPathManifest } from './addons.js';
import { NODE, containerdSocket } from './nodeConfig.js';
import {
  alive,
  killKubepods,
  killProcessesMentioning,
  mountsUnder,
  unmountUnder,
} from './leftovers.js';
import { writeNodeFiles } from './nodeFiles.js';
import { CTR, importFromDocker, nodeImages } from './nodeImages.js';
import { createNodeNetwork, removeNodeNetwork } from './nodeNetwork.js';

const exec = promisify(execFile);
// Beside the runs' folders in /tmp, not in /run: a machine reset empties /run but keeps /tmp, and
// the lock is how the next run finds a killed run's folder to remove.
const LOCK = '/tmp/edgewarden-test-node.json';

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
  // The killed run's certificates, etcd and container layers (about 700 MB): nothing to debug in
  // them that its logs folder would not say, and a few killed runs would fill the disk. Only once
  // nothing is mounted under it: removing through a mount would reach outside the folder.
  if (dir && mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
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
    const { refs, tarballs } = await nodeImages();
    const { socket, crictl } = await writeNodeFiles({
      controlPlaneDir: cp,
      dir,
      server: options.server,
      sandboxImage: refs.pause!,
      crictlBinary: tools.crictl,
    });

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
