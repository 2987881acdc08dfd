// A node of the test control plane whose pods really run, on this machine: a small kubelet
// for the end-to-end suites, which are written against nothing but a kubeconfig, kubectl and
// helm (test/e2e/README.md). kwok's fake nodes only play a pod's status; on this node:
//  - every pod the scheduler puts here runs, from its Pod object alone, as the local kubelet
//    (test/integration/localKubelet.ts) runs one: the image's entrypoint on the checkout, its
//    env, volumes, user and security context. Each gets a network namespace and an IP of its
//    own on the node's pod network (podNetwork.ts), so pods listen on the same port at once;
//  - a pod being deleted gets SIGTERM, SIGKILL after its grace period, and is then removed
//    from the API server (the kubelet's final delete); a pod deleted with --force is killed;
//  - the node is registered, Ready, with this machine's CPUs, memory and architecture, and
//    keeps its Lease renewed as a kubelet does;
//  - `kubectl logs` works: the node serves the kubelet's containerLogs API to the API server;
//  - claims of the default StorageClass `edgewarden-local` are provisioned as folders of this
//    machine (hostPath volumes), as kind's local-path provisioner does;
//  - the API server is reachable from the pods at the node's address (a TCP relay), which its
//    certificate names, as in-cluster clients expect (KUBERNETES_SERVICE_HOST).
// What it does not do: restart a container that exits in a pod of restartPolicy Always (its
// readiness turns False and the exit is logged), exec, port-forward, Services (no kube-proxy
// or DNS: clients use pod IPs, as the operator does).
import { mkdir, writeFile, chmod, readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, connect, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { applyObject, kubectl, kubectlJson, kubectlRun } from '../integration/kube.js';
import {
  patchStatus,
  runPodLocally,
  type LocalPod,
  type Pod,
} from '../integration/localKubelet.js';
import { createPodNetwork, type PodNetwork, type PodNetworkPlan } from './podNetwork.js';

export const LOCAL_NODE_NAME = 'edgewarden-local';
export const LOCAL_STORAGE_CLASS = 'edgewarden-local';
const PROVISIONER = 'edgewarden.io/local-node';
const KUBELET_PORT = 10250;

export interface LocalNodeOptions {
  /** A folder for the node's state: claims' folders, pods' logs. */
  dir: string;
  /** The API server's port on 127.0.0.1, and the folder holding its certificate and key. */
  apiServerPort: number;
  certificates: { cert: string; key: string };
  /** The pod network to make (claimPodNetwork). */
  network: PodNetworkPlan;
  /** Where to say what happens (a log file's stream in the CLI). */
  log?: (line: string) => void;
}

export interface LocalNode {
  name: string;
  /** The node's address on the pod network: what pods reach this machine at. */
  address: string;
  stop(): Promise<void>;
}

type NodePod = Pod & {
  spec: Pod['spec'] & { nodeName?: string };
  metadata: Pod['metadata'] & { deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
};

interface Running {
  pod: NodePod;
  /** Settles once the container has started, or failed to. */
  starting?: Promise<void>;
  local?: LocalPod;
  /** Set once the pod's process is being (or has been) stopped. */
  stopping?: Promise<void>;
  /** The container ended (a pod that runs to completion): nothing more to run. */
  done?: boolean;
  /** The pod is being deleted: the final delete follows its stop. */
  deleting?: boolean;
}

const kubeArch = (): string =>
  ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' })[
    process.arch as string
  ] ?? process.arch;

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const microNow = (): string => new Date().toISOString().replace(/Z$/, '000Z');

export async function startLocalNode(options: LocalNodeOptions): Promise<LocalNode> {
  const log = options.log ?? ((line: string) => console.log(line));
  const name = LOCAL_NODE_NAME;
  await mkdir(path.join(options.dir, 'claims'), { recursive: true });
  await mkdir(path.join(options.dir, 'pod-logs'), { recursive: true });
  const network: PodNetwork = await createPodNetwork(options.network);
  const address = network.gateway;
  const servers: Server[] = [];
  const timers: NodeJS.Timeout[] = [];
  const pods = new Map<string, Running>();
  let stopped = false;

  // The API server at the node's address, for pods' in-cluster clients.
  const relay = createTcpServer((socket) => {
    const upstream = connect(options.apiServerPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(options.apiServerPort, address, () => resolve());
  });
  servers.push(relay);

  // The kubelet's containerLogs API, which `kubectl logs` reaches through the API server.
  const kubelet = createHttpsServer(
    {
      cert: await readFile(options.certificates.cert),
      key: await readFile(options.certificates.key),
    },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://node');
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      const entry = m
        ? [...pods.values()].find(
            (r) => r.pod.metadata.namespace === m[1] && r.pod.metadata.name === m[2],
          )
        : undefined;
      if (!entry?.local) {
        res.writeHead(404).end(m ? `pod ${m[1]}/${m[2]} has no container running here` : '');
        return;
      }
      let text = entry.local.log();
      const tail = Number(url.searchParams.get('tailLines') ?? NaN);
      if (Number.isInteger(tail) && tail >= 0)
        text = text
          .split(/(?<=\n)/)
          .slice(-tail || text.length)
          .join('');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
    },
  );
  await new Promise<void>((resolve, reject) => {
    kubelet.once('error', reject);
    kubelet.listen(KUBELET_PORT, address, () => resolve());
  });

  await registerNode(name, address);
  await applyObject({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: LOCAL_STORAGE_CLASS,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: PROVISIONER,
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'Immediate',
  });

  const every = (ms: number, what: string, task: () => Promise<void>): void => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || stopped) return;
      busy = true;
      task()
        .catch((error: Error) => log(`${what}: ${error.message}`))
        .finally(() => (busy = false));
    }, ms);
    timers.push(timer);
  };
  every(10_000, 'node lease', () => renewLease(name));
  every(30_000, 'node status', () => reportNodeStatus(name, address));
  every(2_000, 'claims', () => provisionClaims(options.dir, log));

  const stopPod = async (entry: Running, graceSeconds: number): Promise<void> => {
    // A pod deleted while it starts is stopped once it has.
    await entry.starting;
    const local = entry.local;
    if (local) {
      const kill = setTimeout(() => local.kill('SIGKILL'), graceSeconds * 1000);
      if (graceSeconds === 0) local.kill('SIGKILL');
      await local
        .stop()
        .catch((error: Error) => log(`stop ${podName(entry.pod)}: ${error.message}`));
      clearTimeout(kill);
      await writeFile(podLogFile(options.dir, entry.pod), local.log()).catch(() => undefined);
    }
    await network.detach(entry.pod.metadata.uid);
  };

  const startPod = (pod: NodePod): void => {
    const entry: Running = { pod };
    pods.set(pod.metadata.uid, entry);
    entry.starting = (async () => {
      try {
        const iface = await network.attach(pod.metadata.uid);
        entry.local = await runPodLocally(pod, {
          ...iface,
          hostIP: address,
          apiServer: { host: address, port: String(options.apiServerPort) },
        });
        log(`started ${podName(pod)} at ${iface.ip}`);
        const local = entry.local;
        void local.exited.then(async (code) => {
          log(`${podName(pod)}: container exited (${code ?? 'signal'})`);
          if ((pod.spec.restartPolicy ?? 'Always') !== 'Never') return;
          await local.terminated.catch(() => undefined);
          entry.done = true;
          if (!entry.stopping) entry.stopping = stopPod(entry, 0);
        });
      } catch (error) {
        // As a kubelet reports a container it cannot create; tried again a little later.
        const message = (error as Error).message;
        log(`${podName(pod)}: cannot start: ${message}`);
        await network.detach(pod.metadata.uid);
        await reportStartError(pod, message).catch(() => undefined);
        setTimeout(() => pods.delete(pod.metadata.uid), 5_000).unref();
      }
    })();
  };

  const syncPods = async (): Promise<void> => {
    const list = await kubectlJson<{ items: NodePod[] }>([
      'get',
      'pods',
      '-A',
      '--field-selector',
      `spec.nodeName=${name}`,
    ]);
    const seen = new Set<string>();
    for (const pod of list.items) {
      const uid = pod.metadata.uid;
      seen.add(uid);
      const entry = pods.get(uid);
      const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      if (pod.metadata.deletionTimestamp) {
        if (!entry) {
          await finalDelete(pod);
          continue;
        }
        // Removed from the API server once its process is gone, as a kubelet does.
        if (!entry.deleting) {
          entry.deleting = true;
          entry.stopping ??= stopPod(entry, pod.metadata.deletionGracePeriodSeconds ?? 30);
          void entry.stopping.then(() => finalDelete(pod));
        }
      } else if (!entry && !terminal) startPod(pod);
    }
    // Gone from the API server (deleted with --force): killed at once.
    for (const [uid, entry] of pods) {
      if (seen.has(uid)) continue;
      entry.stopping ??= stopPod(entry, 0);
      void entry.stopping.then(() => pods.delete(uid));
    }
  };
  every(1_000, 'pods', syncPods);

  log(`node ${name} up at ${address} (${os.cpus().length} CPUs, ${kubeArch()})`);
  return {
    name,
    address,
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.all([...pods.values()].map((entry) => (entry.stopping ??= stopPod(entry, 5))));
      for (const s of [...servers, kubelet])
        await new Promise<void>((resolve) => s.close(() => resolve()));
      await network.destroy();
      await kubectlRun(['delete', 'node', name, '--wait=false']);
    },
  };
}

const podName = (pod: Pod): string => `${pod.metadata.namespace}/${pod.metadata.name}`;
const podLogFile = (dir: string, pod: Pod): string =>
  path.join(
    dir,
    'pod-logs',
    `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}.log`,
  );

async function finalDelete(pod: Pod): Promise<void> {
  await kubectlRun([
    'delete',
    'pod',
    pod.metadata.name,
    '-n',
    pod.metadata.namespace,
    '--grace-period=0',
    '--force',
    '--wait=false',
  ]);
}

async function reportStartError(pod: Pod, message: string): Promise<void> {
  const container = pod.spec.containers[0]!;
  await patchStatus(
    pod,
    {
      phase: 'Pending',
      containerStatuses: [
        {
          name: container.name,
          image: container.image ?? '',
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: 'CreateContainerConfigError', message } },
        },
      ],
    },
    'merge',
  );
}

async function registerNode(name: string, address: string): Promise<void> {
  await applyObject({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': kubeArch(),
        'edgewarden.io/local-node': 'true',
      },
    },
  });
  await reportNodeStatus(name, address);
  await renewLease(name);
}

async function reportNodeStatus(name: string, address: string): Promise<void> {
  const t = now();
  const resources = {
    cpu: String(os.cpus().length),
    memory: `${Math.floor(os.totalmem() / 1024 / 1024)}Mi`,
    pods: '110',
    'ephemeral-storage': '20Gi',
  };
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: t,
    lastTransitionTime: t,
  });
  await kubectl([
    'patch',
    'node',
    name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        capacity: resources,
        allocatable: resources,
        // No Hostname address: the API server would try it first, and nothing resolves it.
        addresses: [{ type: 'InternalIP', address }],
        daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
        nodeInfo: {
          architecture: kubeArch(),
          operatingSystem: 'linux',
          kubeletVersion: 'v0.0.0-edgewarden-local',
          kubeProxyVersion: '',
          containerRuntimeVersion: 'local://processes',
          kernelVersion: os.release(),
          osImage: 'this machine',
          machineID: '',
          systemUUID: '',
          bootID: '',
        },
        conditions: [
          condition('Ready', 'True', 'KubeletReady', 'the local node runs pods as processes'),
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', ''),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', ''),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID', ''),
        ],
      },
    }),
  ]);
}

async function renewLease(name: string): Promise<void> {
  await applyObject({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microNow() },
  });
}

interface Claim {
  metadata: { name: string; namespace: string; uid: string };
  spec: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    resources?: { requests?: { storage?: string } };
  };
  status?: { phase?: string };
}

/** A hostPath volume for each pending claim of our StorageClass, as a provisioner makes one. */
async function provisionClaims(dir: string, log: (line: string) => void): Promise<void> {
  const claims = await kubectlJson<{ items: Claim[] }>(['get', 'pvc', '-A']);
  for (const claim of claims.items) {
    if (claim.spec.volumeName || claim.spec.storageClassName !== LOCAL_STORAGE_CLASS) continue;
    const volume = `pvc-${claim.metadata.uid}`;
    const folder = path.join(dir, 'claims', `${claim.metadata.namespace}_${claim.metadata.name}`);
    await mkdir(folder, { recursive: true });
    // As local-path makes its folders: anyone may write (the pod's user is not known here).
    await chmod(folder, 0o777);
    await applyObject({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: volume,
        annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER },
      },
      spec: {
        capacity: { storage: claim.spec.resources?.requests?.storage ?? '1Gi' },
        accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: LOCAL_STORAGE_CLASS,
        hostPath: { path: folder, type: 'Directory' },
        claimRef: {
          namespace: claim.metadata.namespace,
          name: claim.metadata.name,
          uid: claim.metadata.uid,
        },
      },
    });
    log(`provisioned ${volume} for claim ${claim.metadata.namespace}/${claim.metadata.name}`);
  }
}
