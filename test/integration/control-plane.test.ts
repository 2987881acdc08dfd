// The test control plane is a working cluster, not an API server alone: the scheduler places
// pods, kwok runs them on fake nodes, the controller manager runs Deployments and collects
// garbage through owner references, and PodSecurity admission enforces "restricted".
import { access, readFile } from 'node:fs/promises';

import { startControlPlane } from '../control-plane/controlPlane.js';
import { createNamespace, eventually, helmRun, kubectl, kubectlJson, kubectlRun } from './kube.js';

interface PodList {
  items: {
    metadata: { name: string };
    spec: { nodeName?: string };
    status: { phase?: string; conditions?: { type: string; status: string }[] };
  }[];
}

let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace('plane', {
    'pod-security.kubernetes.io/enforce': 'restricted',
  });
});

afterAll(async () => {
  if (namespace) await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

const restrictedPod = {
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 65532,
    seccompProfile: { type: 'RuntimeDefault' },
  },
  containers: [
    {
      name: 'app',
      image: 'registry.k8s.io/pause:3.10',
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
      resources: {
        requests: { cpu: '10m', memory: '16Mi' },
        limits: { cpu: '100m', memory: '32Mi' },
      },
    },
  ],
};

test('a Deployment gets Running pods on a kwok node, and is collected when its owner goes', async () => {
  await kubectl(['create', 'configmap', '-n', namespace, 'owner']);
  const owner = await kubectlJson<{ metadata: { uid: string } }>([
    'get',
    '-n',
    namespace,
    'configmap',
    'owner',
  ]);
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid },
      ],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: restrictedPod },
    },
  };
  await kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(deployment));

  const pods = await eventually('two Running, Ready pods', async () => {
    const list = await kubectlJson<PodList>(['get', 'pods', '-n', namespace, '-l', 'app=web']);
    const running = list.items.filter(
      (p) =>
        p.status.phase === 'Running' &&
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    return running.length === 2 ? running : undefined;
  });
  for (const pod of pods) expect(pod.spec.nodeName).toMatch(/^kwok-pi-/);
  await eventually('the Deployment to report 2 available replicas', async () => {
    const d = await kubectlJson<{ status: { availableReplicas?: number } }>([
      'get',
      '-n',
      namespace,
      'deployment',
      'web',
    ]);
    return d.status.availableReplicas === 2 ? true : undefined;
  });

  await kubectl(['delete', '-n', namespace, 'configmap', 'owner']);
  await eventually('the Deployment, its ReplicaSet and pods to be garbage-collected', async () => {
    const left = await kubectl([
      'get',
      '-n',
      namespace,
      'deployments,replicasets,pods',
      '-o',
      'name',
    ]);
    return left.trim() === '' ? true : undefined;
  });
});

test('a Job pod on a kwok node runs but never completes by itself (pods that must run go to the real node)', async () => {
  // kwok's pod-complete stage is not loaded: a Job completes only when its pod really ran (on
  // the end-to-end tier's real node). Here nothing runs the pod, so the Job must stay active.
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'once' },
    spec: { backoffLimit: 0, template: { spec: { ...restrictedPod, restartPolicy: 'Never' } } },
  };
  await kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(job));
  await kubectl([
    'wait',
    '-n',
    namespace,
    '--for=jsonpath={.status.active}=1',
    '--timeout=60s',
    'job/once',
  ]);
  await new Promise((r) => setTimeout(r, 3000));
  const still = await kubectlJson<{ status: { active?: number; succeeded?: number } }>([
    'get',
    '-n',
    namespace,
    'job',
    'once',
  ]);
  expect(still.status).toMatchObject({ active: 1 });
  expect(still.status.succeeded ?? 0).toBe(0);
});

test('PodSecurity admission refuses a pod that is not restricted', async () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'root' },
    spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
  };
  const result = await kubectlRun(['apply', '-n', namespace, '-f', '-'], JSON.stringify(pod));
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('violates PodSecurity "restricted');
});

test('a second control plane runs beside the first, and stop() ends every process it started', async () => {
  const second = await startControlPlane();
  let pids: number[] = [];
  try {
    pids = Object.values(second.pids());
    expect(Object.keys(second.pids()).sort()).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'kwok',
    ]);
    // Its own API server, on another port than the suite's.
    expect(await readFile(process.env.KUBECONFIG!, 'utf8')).not.toContain(second.server);
    const nodes = await kubectl(['--kubeconfig', second.kubeconfig, 'get', 'nodes', '-o', 'name']);
    expect(nodes.trim()).toBe('node/kwok-pi-0');
  } finally {
    await second.stop();
  }
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  expect(pids.filter(alive)).toEqual([]);
  expect(second.pids()).toEqual({});
  await expect(access(second.dir)).rejects.toThrow();
});

test('the server, kubectl and helm report the versions they were built as', async () => {
  const versions = await kubectlJson<{
    clientVersion: { gitVersion: string };
    serverVersion: { gitVersion: string; minor: string };
  }>(['version']);
  expect(versions.serverVersion.gitVersion).toMatch(/^v1\.34\.\d+$/);
  expect(versions.clientVersion.gitVersion).toBe(versions.serverVersion.gitVersion);
  const helm = await helmRun(['version', '--short']);
  expect(helm.stdout).toMatch(/^v3\.\d+\.\d+/);
});
