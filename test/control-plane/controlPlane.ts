// Starts a real Kubernetes control plane as local processes on loopback: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok (which plays the kubelet for fake nodes). It
// generates its certificates, picks free ports so several runs can share a machine, writes an
// admin kubeconfig, and stops every process it started. See docs/testing.md.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { access, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir, homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { createCa, issueCertificate } from '../services/certs.js';
import { freePort } from '../services/net.js';
import { LOCAL_NODE_NAME } from './localNode.js';
import { claimPodNetwork, type PodNetworkPlan } from './podNetwork.js';

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
}

export interface ControlPlane {
  /** Folder holding certificates, data, logs and the kubeconfig. */
  dir: string;
  kubeconfig: string;
  server: string;
  tools: ToolPaths;
  /** With `localNode`: the node's address, at which its pods reach this machine. */
  localNodeAddress?: string;
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
   * Also a node whose pods really run on this machine (localNode.ts), with its own pod
   * network: what the end-to-end suites use. Needs root; one per machine.
   */
  localNode?: boolean;
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

export async function locateTools(): Promise<ToolPaths> {
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
  };
  const missing: string[] = [];
  for (const file of Object.values(tools) as string[]) {
    await access(file).catch(() => missing.push(file));
  }
  if (missing.length > 0) {
    throw new Error(
      `control-plane binaries missing:\n  ${missing.join('\n  ')}\n` +
        'Build them with: bash test/control-plane/build-binaries.sh',
    );
  }
  return tools;
}

/** A CA, a serving certificate for 127.0.0.1, an admin client certificate and a service-account key. */
async function writeCertificates(dir: string, podNetwork?: PodNetworkPlan): Promise<void> {
  await createCa(dir, 'edgewarden-test-ca');
  await issueCertificate(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    // The local node's pods reach the API server at the pod network's gateway.
    `subjectAltName=IP:127.0.0.1,${podNetwork ? `IP:${podNetwork.gateway},` : ''}DNS:localhost\nextendedKeyUsage=serverAuth`,
  );
  await issueCertificate(dir, 'admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth');
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

interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
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
  const tools = await locateTools();
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-cp-'));
  const logs = path.join(dir, 'logs');
  await mkdir(logs);
  const started: Started[] = [];

  const launch = (name: string, binary: string, args: string[]): Started => {
    // The child writes its log straight to the file: no pipes through this process.
    const log = openSync(path.join(logs, `${name}.log`), 'w');
    const child = spawn(binary, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const entry = { name, child, exited };
    started.push(entry);
    return entry;
  };

  const stop = async (): Promise<void> => {
    for (const { child, exited } of [...started].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      // The fallback timer is unref'd: once the process has exited it must not hold ours open.
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<false>((r) => setTimeout(r, 10_000, false).unref()),
      ]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    started.length = 0;
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  };

  /** Polls until `ready` holds, failing early (with the log's tail) if a process exits. */
  const waitFor = async (
    what: string,
    ready: () => Promise<boolean>,
    timeoutMs = 90_000,
  ): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const dead = started.find((s) => s.child.exitCode !== null);
      if (dead)
        throw new Error(
          `${dead.name} exited with ${dead.child.exitCode}:\n${await tail(dead.name)}`,
        );
      if (await ready().catch(() => false)) return;
      await sleep(250);
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const tail = async (name: string): Promise<string> =>
    (await readFile(path.join(logs, `${name}.log`), 'utf8').catch(() => ''))
      .split('\n')
      .slice(-30)
      .join('\n');

  try {
    // The local node's pod network, chosen first: the API server's certificate names its gateway.
    const podNetwork = options.localNode ? claimPodNetwork() : undefined;
    await writeCertificates(dir, podNetwork);
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

    const server = `https://127.0.0.1:${apiPort}`;
    launch('kube-apiserver', tools.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${dir}/apiserver-certs`,
      `--tls-cert-file=${dir}/apiserver.crt`,
      `--tls-private-key-file=${dir}/apiserver.key`,
      `--client-ca-file=${dir}/ca.crt`,
      `--secure-port=${apiPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${dir}/sa.pub`,
      `--service-account-signing-key-file=${dir}/sa.key`,
      '--authorization-mode=Node,RBAC',
      '--endpoint-reconciler-type=none',
      '--enable-admission-plugins=NodeRestriction',
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
    // Not kwok's pod-complete stage: it marks every Running pod a Job owns as Succeeded, exit
    // code 0, at once, without running anything. Job pods are run to completion by the local
    // kubelet (test/integration/localKubelet.ts), which reports their real exit code and
    // termination message; a faked completion would make export tests pass without running
    // the exporter, and would race the local kubelet's report. A Job pod no test runs stays
    // Running.
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

    const kubectl = async (...args: string[]): Promise<string> =>
      (await run(tools.kubectl, [`--kubeconfig=${kubeconfig}`, ...args])).stdout;
    for (let i = 0; i < (options.nodes ?? 1); i++) {
      await run(tools.kubectl, [
        `--kubeconfig=${kubeconfig}`,
        'apply',
        '-f',
        path.join(dir, await writeNode(dir, i)),
      ]);
    }
    // Ready means: kwok has initialised the nodes, and the controller manager is running its
    // controllers (the default ServiceAccount exists, which pods need to be admitted).
    await waitFor('fake nodes Ready', async () => {
      const out = await kubectl(
        'get',
        'nodes',
        '-o',
        'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
      );
      return out.split(' ').filter((s) => s === 'True').length === (options.nodes ?? 1);
    });
    if (options.localNode) {
      // A process of its own (its pods are its children), logging beside the others.
      launch('local-node', process.execPath, [
        // Compiled beside this file, or (run from source by ts-jest) in dist/.
        existsSync(path.join(here, 'local-node-cli.js'))
          ? path.join(here, 'local-node-cli.js')
          : path.resolve(here, '../../dist/test/control-plane/local-node-cli.js'),
        `--kubeconfig=${kubeconfig}`,
        `--kubectl=${tools.kubectl}`,
        `--dir=${path.join(dir, 'local-node')}`,
        `--api-server-port=${apiPort}`,
        `--cert=${dir}/apiserver.crt`,
        `--key=${dir}/apiserver.key`,
        `--network=${podNetwork!.index}`,
      ]);
      await waitFor('the local node Ready', async () =>
        (
          await kubectl(
            'get',
            'node',
            LOCAL_NODE_NAME,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          )
        ).includes('True'),
      );
    }
    await waitFor(
      'default ServiceAccount',
      async () => (await kubectl('get', 'serviceaccount', 'default', '-o', 'name')).trim() !== '',
    );

    const killSync = (): void => {
      for (const { child } of started) if (child.exitCode === null) child.kill('SIGKILL');
    };
    const pids = (): Record<string, number> =>
      Object.fromEntries(
        started
          .filter((s) => s.child.exitCode === null && s.child.pid)
          .map((s) => [s.name, s.child.pid!]),
      );
    const localNodeAddress = podNetwork?.gateway;
    return { dir, kubeconfig, server, tools, localNodeAddress, stop, killSync, pids };
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
