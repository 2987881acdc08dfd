// Starts a real Kubernetes control plane as local processes: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, and either kwok (which plays the kubelet for fake
// nodes: the integration tier) or a real node (test/node/: the end-to-end tier). It generates
// its certificates, picks free ports so several runs can share a machine (one real node at a
// time), writes an admin kubeconfig, and stops every process it started. See docs/testing.md.
import { execFile } from 'node:child_process';
import { access, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir, homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { NODE } from '../node/nodeConfig.js';
import {
  prepareNodeHost,
  releaseNodeHost,
  startRealNode,
  type RealNode,
} from '../node/realNode.js';
import { createCa, issueCertificate } from '../services/certs.js';
import { freePort } from '../services/net.js';
import { processGroup } from './processes.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

export interface ToolPaths {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
  kwokStages: string;
  helm: string;
  kubelet: string;
  kubeProxy: string;
  crictl: string;
  prometheus: string;
  promtool: string;
}

export interface ControlPlane {
  /** Folder holding certificates, data, logs and the kubeconfig. */
  dir: string;
  kubeconfig: string;
  server: string;
  tools: ToolPaths;
  /** With `realNode`: the node (its address is where its pods reach this machine). */
  node?: RealNode;
  stop(): Promise<void>;
  /** SIGKILL every process at once, synchronously: for a process 'exit' handler. */
  killSync(): void;
  /** The process ids of what is still running, by name. */
  pids(): Record<string, number>;
}

export interface StartOptions {
  /** Fake nodes to create, all managed by kwok (default 1). */
  nodes?: number;
  /** Keep the folder (logs, etcd data) after stop, for debugging. */
  keep?: boolean;
  /**
   * A real node (test/node/realNode.ts: kubelet, containerd, kube-proxy, CoreDNS, claims)
   * whose pods run these images, imported from Docker: what the end-to-end suites use. The
   * API server then listens on the node's address. Needs root; one per machine.
   */
  realNode?: { images: string[] };
}

/** The source of versions.env, which the build script and this launcher share. */
async function readVersions(): Promise<Record<string, string>> {
  // Compiled to dist/test/control-plane/, run from source by ts-jest: look beside either.
  for (const dir of [here, path.resolve(here, '../../../test/control-plane')]) {
    const text = await readFile(path.join(dir, 'versions.env'), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    return Object.fromEntries(
      text
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.split('=', 2) as [string, string]),
    );
  }
  throw new Error(`versions.env not found near ${here}`);
}

/**
 * The binaries build-binaries.sh made, by role; those named in `required` must be there (a
 * script that needs only helm should not need a node's binaries).
 */
export async function locateTools(
  required: (keyof ToolPaths)[] = [
    'etcd',
    'kubeApiserver',
    'kubeControllerManager',
    'kubeScheduler',
    'kubectl',
    'kwok',
    'kwokStages',
    'helm',
  ],
): Promise<ToolPaths> {
  const v = await readVersions();
  const root =
    process.env.EDGEWARDEN_TOOLS_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'edgewarden-tools');
  const k8s = path.join(root, `kubernetes-${v.KUBERNETES_VERSION}`);
  const tools: ToolPaths = {
    etcd: path.join(root, `etcd-${v.ETCD_VERSION}`, 'etcd'),
    kubeApiserver: path.join(k8s, 'kube-apiserver'),
    kubeControllerManager: path.join(k8s, 'kube-controller-manager'),
    kubeScheduler: path.join(k8s, 'kube-scheduler'),
    kubectl: path.join(k8s, 'kubectl'),
    kwok: path.join(root, `kwok-${v.KWOK_VERSION}`, 'kwok'),
    kwokStages: path.join(root, `kwok-${v.KWOK_VERSION}`, 'stages'),
    helm: path.join(root, `helm-${v.HELM_VERSION}`, 'helm'),
    kubelet: path.join(k8s, 'kubelet'),
    kubeProxy: path.join(k8s, 'kube-proxy'),
    crictl: path.join(root, `crictl-${v.CRI_TOOLS_VERSION}`, 'crictl'),
    prometheus: path.join(root, `prometheus-${v.PROMETHEUS_VERSION}`, 'prometheus'),
    promtool: path.join(root, `prometheus-${v.PROMETHEUS_VERSION}`, 'promtool'),
  };
  const missing: string[] = [];
  for (const name of required) await access(tools[name]).catch(() => missing.push(tools[name]));
  if (missing.length > 0) {
    throw new Error(
      `Kubernetes test binaries missing:\n  ${missing.join('\n  ')}\n` +
        'Build them with: bash test/control-plane/build-binaries.sh',
    );
  }
  return tools;
}

/**
 * A CA, the API server's serving certificate, an admin client certificate and a
 * service-account key. With a real node, the serving certificate also names what in-cluster
 * clients dial (the `kubernetes` Service's IP and names, the node's address), and the API
 * server gets a client certificate for the kubelets (logs, exec).
 */
async function writeCertificates(dir: string, realNode: boolean): Promise<void> {
  await createCa(dir, 'edgewarden-test-ca');
  const inCluster = realNode
    ? `IP:${NODE.address},IP:${NODE.apiServiceIp},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.${NODE.clusterDomain},`
    : '';
  await issueCertificate(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    `subjectAltName=IP:127.0.0.1,${inCluster}DNS:localhost\nextendedKeyUsage=serverAuth`,
  );
  await issueCertificate(dir, 'admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth');
  if (realNode)
    await issueCertificate(
      dir,
      'apiserver-kubelet-client',
      '/O=system:masters/CN=kube-apiserver-kubelet-client',
      'extendedKeyUsage=clientAuth',
    );
  const openssl = (...args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir });
  await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key');
  await openssl('ec', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
}

function kubeconfigFor(server: string, dir: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: edgewarden-test',
    `  cluster: { server: "${server}", certificate-authority: "${dir}/ca.crt" }`,
    'users:',
    '- name: admin',
    `  user: { client-certificate: "${dir}/admin.crt", client-key: "${dir}/admin.key" }`,
    'contexts:',
    '- name: edgewarden-test',
    '  context: { cluster: edgewarden-test, user: admin, namespace: default }',
    'current-context: edgewarden-test',
    '',
  ].join('\n');
}

/**
 * One GET, without keep-alive (no socket may outlive the check and hold the process open);
 * over https it presents the admin client certificate from `tlsDir`.
 */
async function getOnce(url: string, tlsDir?: string): Promise<{ status: number; body: string }> {
  const tls = tlsDir
    ? await Promise.all(
        ['ca.crt', 'admin.crt', 'admin.key'].map((f) => readFile(path.join(tlsDir, f))),
      )
    : [];
  const [ca, cert, key] = tls;
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { ca, cert, key, timeout: 5000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  const tools = await locateTools(
    options.realNode
      ? [
          'etcd',
          'kubeApiserver',
          'kubeControllerManager',
          'kubeScheduler',
          'kubectl',
          'helm',
          'kubelet',
          'kubeProxy',
          'crictl',
        ]
      : undefined,
  );
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-cp-'));
  const logs = path.join(dir, 'logs');
  await mkdir(logs);
  const group = processGroup(logs);
  const { launch, waitFor } = group;
  let node: RealNode | undefined;
  let hostPrepared = false;

  const stop = async (): Promise<void> => {
    if (node) await node.stop();
    await group.stop();
    if (hostPrepared && !node) await releaseNodeHost();
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  };

  try {
    const realNode = options.realNode !== undefined;
    // With a real node, the API server listens on the node's address (made first): pods reach
    // it there, through the `kubernetes` Service, and so does everything on this machine.
    if (realNode) {
      await prepareNodeHost(dir);
      hostPrepared = true;
    }
    const host = realNode ? NODE.address : '127.0.0.1';
    await writeCertificates(dir, realNode);
    const [etcdPort, peerPort, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, freePort),
    );
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    launch('etcd', tools.etcd, [
      `--data-dir=${dir}/etcd`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync', // test data only: skip fsync so the suite is not disk-bound
      '--log-level=warn',
    ]);
    await waitFor('etcd', async () =>
      (await getOnce(`${etcdUrl}/health`)).body.includes('"health":"true"'),
    );

    const server = `https://${host}:${apiPort}`;
    launch('kube-apiserver', tools.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${dir}/apiserver-certs`,
      `--tls-cert-file=${dir}/apiserver.crt`,
      `--tls-private-key-file=${dir}/apiserver.key`,
      `--client-ca-file=${dir}/ca.crt`,
      `--secure-port=${apiPort}`,
      `--bind-address=${host}`,
      `--advertise-address=${host}`,
      `--service-cluster-ip-range=${NODE.serviceCidr}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${dir}/sa.pub`,
      `--service-account-signing-key-file=${dir}/sa.key`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      ...(realNode
        ? [
            // The `kubernetes` Service gets its endpoint (this server at the node's address)
            // from the lease reconciler, as in any cluster; the kubelet is reached by its
            // InternalIP with a client certificate, and its serving certificate verified.
            '--endpoint-reconciler-type=lease',
            `--kubelet-client-certificate=${dir}/apiserver-kubelet-client.crt`,
            `--kubelet-client-key=${dir}/apiserver-kubelet-client.key`,
            `--kubelet-certificate-authority=${dir}/ca.crt`,
            '--kubelet-preferred-address-types=InternalIP',
          ]
        : // No pods run (kwok): nothing dials the `kubernetes` Service.
          ['--endpoint-reconciler-type=none']),
    ]);
    await waitFor(
      'kube-apiserver',
      async () => (await getOnce(`${server}/readyz`, dir)).status === 200,
      120_000,
    );

    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigFor(server, dir));
    const clientFlags = [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
    ];
    launch('kube-controller-manager', tools.kubeControllerManager, [
      ...clientFlags,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--service-account-private-key-file=${dir}/sa.key`,
      `--root-ca-file=${dir}/ca.crt`,
      '--use-service-account-credentials=true',
      '--controllers=*',
    ]);
    launch('kube-scheduler', tools.kubeScheduler, [
      ...clientFlags,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
    ]);

    const kubectl = async (...args: string[]): Promise<string> =>
      (await run(tools.kubectl, [`--kubeconfig=${kubeconfig}`, ...args])).stdout;
    const fakeNodes = options.nodes ?? (realNode ? 0 : 1);
    if (fakeNodes > 0) {
      // Not kwok's pod-complete stage: it marks every Running pod a Job owns as Succeeded,
      // exit code 0, at once, without running anything. On fake nodes nothing runs, and a
      // faked completion would let a test pass on a result nothing produced: a Job pod on a
      // fake node stays Running. Pods that must run go to the real node (the end-to-end tier).
      const stages = (await readdir(tools.kwokStages)).filter(
        (f) => f.endsWith('.yaml') && f !== 'pod-complete.yaml',
      );
      launch('kwok', tools.kwok, [
        `--kubeconfig=${kubeconfig}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--node-lease-duration-seconds=40',
        `--server-address=127.0.0.1:${kwokPort}`,
        ...stages.map((s) => `--config=${path.join(tools.kwokStages, s)}`),
      ]);
      for (let i = 0; i < fakeNodes; i++) {
        await run(tools.kubectl, [
          `--kubeconfig=${kubeconfig}`,
          'apply',
          '-f',
          path.join(dir, await writeNode(dir, i)),
        ]);
      }
      // Ready means: kwok has initialised the nodes.
      await waitFor('fake nodes Ready', async () => {
        const out = await kubectl(
          'get',
          'nodes',
          '-o',
          'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
        );
        return out.split(' ').filter((s) => s === 'True').length === fakeNodes;
      });
    }
    // The controller manager is running its controllers once the default ServiceAccount
    // exists (pods need it to be admitted).
    await waitFor(
      'default ServiceAccount',
      async () => (await kubectl('get', 'serviceaccount', 'default', '-o', 'name')).trim() !== '',
    );
    if (options.realNode)
      node = await startRealNode({
        controlPlaneDir: dir,
        server,
        kubeconfig,
        tools,
        images: options.realNode.images,
      });

    const killSync = (): void => {
      node?.killSync();
      group.killSync();
    };
    const pids = (): Record<string, number> => ({ ...group.pids(), ...node?.pids() });
    return { dir, kubeconfig, server, tools, node, stop, killSync, pids };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** A fake arm64 node shaped like a Raspberry Pi 5 (4 cores, 8 GiB), managed by kwok. */
async function writeNode(dir: string, index: number): Promise<string> {
  const name = `kwok-pi-${index}`;
  const file = `${name}.yaml`;
  await writeFile(
    path.join(dir, file),
    `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: ${name}
    kubernetes.io/os: linux
    kubernetes.io/arch: arm64
spec: {}
status:
  allocatable: { cpu: "4", memory: 8Gi, pods: "110" }
  capacity: { cpu: "4", memory: 8Gi, pods: "110" }
`,
  );
  return file;
}
