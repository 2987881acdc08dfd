// The chart's life cycle, as a user drives it, on the test cluster's real node: `helm install`
// into a namespace that enforces the restricted Pod Security Standard; the operator's pod, made
// by the ReplicaSet controller from the rendered Deployment, run by the kubelet from the image
// under its own ServiceAccount's token (so RBAC, not an admin kubeconfig, decides what it may
// do); the examples applied and reconciled; `helm upgrade` with a changed CRD; `helm
// uninstall`, which keeps the CRDs and the users' resources.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  createNamespace,
  crdNames,
  deleteCrds,
  eventually,
  helmRun,
  kubectl,
  kubectlJson,
  kubectlRun,
  repoRoot,
} from '../integration/kube.js';
import { CHART, installChart } from './chart.js';
import { containerProcess } from './inPod.js';

const RELEASE = 'edgewarden';
let releaseNs: string;
let usersNs: string;
let operatorPodName: string | undefined;
let scratch: string;

interface Condition {
  type: string;
  status: string;
  reason: string;
}
interface Resource {
  metadata: { name: string; generation: number; labels?: Record<string, string> };
  status?: { observedGeneration?: number; conditions?: Condition[]; phase?: string };
}

async function helm(args: string[]): Promise<string> {
  const r = await helmRun([...args, '-n', releaseNs]);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

interface OperatorPod {
  metadata: { name: string };
  spec: { containers: { name: string; ports?: { name?: string; containerPort: number }[] }[] };
  status?: { phase?: string; podIP?: string };
}

/** The operator's pod as the ReplicaSet controller made it, once the kubelet runs it. */
async function operatorPod(): Promise<OperatorPod> {
  return eventually(
    'the operator pod, admitted, scheduled and running',
    async () => {
      const list = await kubectlJson<{ items: OperatorPod[] }>([
        'get',
        'pods',
        '-n',
        releaseNs,
        '-l',
        'app.kubernetes.io/component=operator',
      ]);
      return list.items.find((p) => p.status?.phase === 'Running' && p.status.podIP);
    },
    120_000,
  ).catch(async (error: Error) => {
    const events = await kubectlRun(['get', 'events', '-n', releaseNs]);
    throw new Error(`${error.message}\n${events.stdout}`);
  });
}

/** The operator's log, as `kubectl logs` gives it. */
const operatorLog = async (): Promise<string> =>
  operatorPodName
    ? (await kubectlRun(['logs', '-n', releaseNs, operatorPodName])).stdout
    : '(no operator pod yet)';

/** A port of the operator's container, by name. */
const portOf = (pod: OperatorPod, name: string): number =>
  pod.spec.containers[0]!.ports!.find((p) => p.name === name)!.containerPort;

const reconciled = (kind: string, name: string): Promise<Resource> =>
  eventually(
    `${kind} ${name} reconciled by the operator`,
    async () => {
      const r = await kubectlJson<Resource>(['get', kind, name, '-n', usersNs]);
      return r.status?.observedGeneration === r.metadata.generation ? r : undefined;
    },
    60_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\noperator log:\n${(await operatorLog()).slice(-4000)}`);
  });

const can = async (verb: string, what: string, ns?: string): Promise<boolean> => {
  const [resource, subresource] = what.split('/');
  const r = await kubectlRun([
    'auth',
    'can-i',
    verb,
    resource!,
    ...(subresource ? [`--subresource=${subresource}`] : []),
    `--as=system:serviceaccount:${releaseNs}:${RELEASE}`,
    ...(ns ? ['-n', ns] : ['--all-namespaces']),
  ]);
  return r.stdout.trim() === 'yes';
};

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'edgewarden-release-'));
  releaseNs = await createNamespace('ew-release', {
    'pod-security.kubernetes.io/enforce': 'restricted',
  });
  usersNs = await createNamespace('ew-home');
  // A fresh cluster has no edgewarden CRDs; other suites on this API server installed them
  // with kubectl, and Helm refuses to take over objects another tool made.
  await deleteCrds();
}, 120_000);

afterAll(async () => {
  await helmRun(['uninstall', RELEASE, '-n', releaseNs, '--wait']);
  await kubectlRun(['delete', 'namespace', releaseNs, usersNs, '--wait=false']);
  // Leave the CRDs as the other suites expect them: theirs, from crds/.
  await deleteCrds();
  await rm(scratch, { recursive: true, force: true });
}, 120_000);

test('helm install: the operator runs from its Deployment under its own ServiceAccount, and reconciles the examples', async () => {
  await installChart(RELEASE, releaseNs, [
    '--set',
    `operator.watchNamespaces={${usersNs}}`,
    '--set',
    'operator.pollInterval=2s',
  ]);
  for (const crd of crdNames)
    expect(
      (
        await kubectlJson<{ metadata: { annotations: Record<string, string> } }>([
          'get',
          'crd',
          crd,
        ])
      ).metadata.annotations['meta.helm.sh/release-name'],
    ).toBe(RELEASE);

  // Least privilege, as the API server's authorizer sees the operator's ServiceAccount.
  expect(await can('create', 'statefulsets.apps', usersNs)).toBe(true);
  expect(await can('patch', 'analysisagents.edgewarden.io/status', usersNs)).toBe(true);
  expect(await can('get', 'secrets', usersNs)).toBe(true); // model sources may be Secrets
  expect(await can('list', 'statefulsets.apps', 'default')).toBe(false); // not watched
  expect(await can('get', 'secrets', 'default')).toBe(false);
  expect(await can('list', 'nodes')).toBe(false);
  expect(await can('create', 'clusterrolebindings.rbac.authorization.k8s.io')).toBe(false);

  // The pod Pod Security admitted under `restricted`, run by the kubelet as it is: the image's
  // entrypoint with the rendered args, under the projected service-account token.
  const pod = await operatorPod();
  operatorPodName = pod.metadata.name;
  const { argv, env } = await containerProcess(releaseNs, pod.metadata.name);
  expect(argv.slice(0, 3)).toEqual(['/nodejs/bin/node', '/app/bin/edgewarden.js', 'operator']);
  expect(argv).not.toContain('--kubeconfig');
  expect(env.KUBECONFIG).toBeUndefined();
  expect(env.KUBERNETES_SERVICE_HOST).toBe('10.0.0.1');
  // Ready by its own readiness endpoint (caches synced), at its pod IP.
  const health = `http://${pod.status!.podIP}:${portOf(pod, 'health')}`;
  await eventually(
    'the operator to be ready (/readyz: caches synced)',
    async () => ((await fetch(`${health}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${await operatorLog()}`);
  });
  // In-cluster configuration: the projected token and CA, at KUBERNETES_SERVICE_HOST.
  expect(await operatorLog()).toContain('"config":"in-cluster"');

  // The examples, as the README has users apply them.
  for (const f of [
    'analysisagent.yaml',
    'modeldeployment.yaml',
    'exports-claim.yaml',
    'exportjob.yaml',
  ])
    await kubectl(['apply', '-n', usersNs, '-f', path.join(repoRoot, 'manifests/examples', f)]);
  const agent = await reconciled('analysisagent', 'dns');
  // The Secrets the example names do not exist yet: the agent says so, it does not crash.
  expect(agent.status?.conditions?.map((c) => c.type)).toEqual(
    expect.arrayContaining(['Ready', 'SourceReachable']),
  );
  const sts = await kubectlJson<Resource>(['get', 'statefulset', 'dns-agent', '-n', usersNs]);
  expect(sts.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('edgewarden-operator');
  await reconciled('modeldeployment', 'dns-model');
  const exportJob = await reconciled('exportjob', 'weekly-review');
  expect(exportJob.status?.phase).toBeDefined();
  // The control key the ModelDeployment controller signs tokens with, in the operator's namespace.
  await kubectl(['get', 'secret', 'edgewarden-control-key', '-n', releaseNs]);
  expect(await operatorLog()).not.toMatch(/forbidden/i);
  const metrics = await (
    await fetch(`http://${pod.status!.podIP}:${portOf(pod, 'metrics')}/metrics`)
  ).text();
  expect(metrics).toMatch(
    /^edgewarden_operator_reconcile_total\{controller="analysisagent",result="success"\} [1-9]/m,
  );
});

test('helm upgrade carries a changed CRD field to the API server', async () => {
  // The next chart version adds an optional field to AnalysisAgent's spec.
  const next = path.join(scratch, 'edgewarden');
  await cp(CHART, next, { recursive: true });
  const crdFile = path.join(next, 'templates/crds/analysisagents.yaml');
  const crd = await readFile(crdFile, 'utf8');
  const anchor = '              properties:\n                agent:\n';
  expect(crd).toContain(anchor);
  await writeFile(
    crdFile,
    crd.replace(
      anchor,
      '              properties:\n                note:\n                  type: string\n                  description: A note for the admins.\n                agent:\n',
    ),
  );
  const withNote = (
    await readFile(path.join(repoRoot, 'manifests/examples/analysisagent.yaml'), 'utf8')
  ).replace('spec:\n', 'spec:\n  note: watches the home routers\n');

  // Before the upgrade the API server does not know the field: refused, naming it.
  const before = await kubectlRun(['apply', '-n', usersNs, '-f', '-'], withNote);
  expect(before.code).not.toBe(0);
  expect(before.stderr).toMatch(/unknown field "spec\.note"/);

  await helm(['upgrade', RELEASE, next, '--reuse-values']);
  const schema = await kubectlJson<{
    spec: {
      versions: {
        schema: {
          openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } };
        };
      }[];
    };
  }>(['get', 'crd', 'analysisagents.edgewarden.io']);
  expect(schema.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.note).toEqual({
    type: 'string',
    description: 'A note for the admins.',
  });
  await kubectl(['apply', '-n', usersNs, '-f', '-'], withNote);
  const stored = await kubectlJson<{ spec: { note?: string } }>([
    'get',
    'analysisagent',
    'dns',
    '-n',
    usersNs,
  ]);
  expect(stored.spec.note).toBe('watches the home routers');
  // The operator, untouched by the upgrade, reconciles the edit.
  await reconciled('analysisagent', 'dns');
});

test('helm uninstall removes the operator and keeps the CRDs and the users’ resources', async () => {
  await helm(['uninstall', RELEASE, '--wait']);
  const gone = await kubectlJson<{ items: unknown[] }>([
    'get',
    'deployment,serviceaccount,role,rolebinding,service',
    '-n',
    releaseNs,
    '-l',
    'app.kubernetes.io/instance=' + RELEASE,
  ]);
  expect(gone.items).toEqual([]);
  expect(
    (
      await kubectlJson<{ items: unknown[] }>([
        'get',
        'role,rolebinding',
        '-n',
        usersNs,
        '-l',
        'app.kubernetes.io/instance=' + RELEASE,
      ])
    ).items,
  ).toEqual([]);
  for (const crd of crdNames) await kubectl(['get', 'crd', crd]);
  // Users' resources, and what the operator made for them, stay until the user deletes them.
  await kubectl([
    'get',
    'analysisagent/dns',
    'modeldeployment/dns-model',
    'exportjob/weekly-review',
    'statefulset/dns-agent',
    '-n',
    usersNs,
  ]);
});
