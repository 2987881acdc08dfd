// The AnalysisAgent controller against the real control plane, driven by the real kubectl,
// with `edgewarden operator` running as a process: children with owner references, pods that
// kwok runs, status and conditions, Events, a spec edit that rolls the pods, and garbage
// collection on delete. Assertions read the API server, never the operator's cache.
import type { ChildProcess } from 'node:child_process';

import { ApiError, KubeClient } from '../../operator/src/runtime/kubeClient.js';
import { loadKubeConfigFile } from '../../operator/src/runtime/kubeConfig.js';
import { RESOURCES } from '../../operator/src/domain/resources.js';

import {
  createNamespace,
  eventually,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  startOperator,
} from './kube.js';

let namespace: string;
let operator: ChildProcess;
let operatorLog: () => string;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
interface Agent {
  metadata: { generation: number; uid: string; resourceVersion: string };
  status?: {
    observedGeneration?: number;
    readyReplicas?: number;
    replicas?: number;
    conditions?: Condition[];
  };
}

const example = (name: string, extra = ''): string => `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${name}, namespace: NS }
spec:
  agent: dns
  source:
    secretRef: { name: ${name}-db }
  nodeSelector: { kubernetes.io/arch: arm64 }
${extra}`;

const apply = (yaml: string): Promise<string> =>
  kubectl(['apply', '-f', '-'], yaml.replace(/NS/g, namespace));

const agentOf = (name: string): Promise<Agent> =>
  kubectlJson<Agent>(['get', 'analysisagent', name, '-n', namespace]);

const condition = (a: Agent, type: string): Condition | undefined =>
  a.status?.conditions?.find((c) => c.type === type);

/** Waits until the operator has seen the current generation and `check` holds. */
async function settled(name: string, what: string, check: (a: Agent) => boolean): Promise<Agent> {
  return eventually(
    `${name}: ${what}`,
    async () => {
      const a = await agentOf(name);
      return a.status?.observedGeneration === a.metadata.generation && check(a) ? a : undefined;
    },
    60_000,
  );
}

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('agents');
  const started = startOperator(namespace);
  operator = started.proc;
  operatorLog = started.log;
  await eventually('the operator to sync its caches', () =>
    Promise.resolve(operatorLog().includes('caches synced') ? true : undefined),
  );
}, 90_000);

afterAll(async () => {
  if (operator && operator.exitCode === null) {
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
  }
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
});

test('a missing Secret: Ready=False naming it, and an Event; created, the agent runs', async () => {
  await apply(example('dns'));
  const waiting = await settled(
    'dns',
    'SecretMissing',
    (a) => condition(a, 'Ready')?.reason === 'SecretMissing',
  );
  expect(condition(waiting, 'Ready')).toMatchObject({
    status: 'False',
    message: `Secret "dns-db" (spec.source.secretRef) does not exist in namespace ${namespace}`,
    observedGeneration: waiting.metadata.generation,
  });
  await eventually('a Warning event', async () => {
    const events = await kubectlJson<{ items: { reason: string; type: string }[] }>([
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      'involvedObject.name=dns',
    ]);
    return events.items.some((e) => e.reason === 'SecretMissing' && e.type === 'Warning')
      ? true
      : undefined;
  });

  await kubectl([
    'create',
    'secret',
    'generic',
    'dns-db',
    '-n',
    namespace,
    '--from-literal=url=postgresql://ro:pw@db:5432/logs',
  ]);
  // The children, owned by the agent; kwok runs the pod; the agent is Ready.
  const ready = await settled(
    'dns',
    'ready',
    (a) => a.status?.readyReplicas === 1 && condition(a, 'Ready')?.status === 'True',
  );
  expect(condition(ready, 'Ready')).toMatchObject({ reason: 'AgentsReady' });
  for (const kind of ['statefulset', 'service', 'configmap', 'serviceaccount']) {
    const child = await kubectlJson<{
      metadata: { ownerReferences: { uid: string; controller: boolean }[] };
    }>(['get', kind, 'dns-agent', '-n', namespace]);
    expect(child.metadata.ownerReferences).toEqual([
      expect.objectContaining({ uid: ready.metadata.uid, controller: true, kind: 'AnalysisAgent' }),
    ]);
  }
  const config = await kubectlJson<{ data: Record<string, string> }>([
    'get',
    'configmap',
    'dns-agent',
    '-n',
    namespace,
  ]);
  expect(config.data['agent.yaml']).toContain('dns-db');
  expect(config.data['agent.yaml']).not.toContain('pw@db'); // names, never values
  const pods = await kubectl([
    'get',
    'pods',
    '-n',
    namespace,
    '-l',
    'app.kubernetes.io/instance=dns',
    '-o',
    'jsonpath={.items[*].status.phase}',
  ]);
  expect(pods).toBe('Running');
  const printed = await kubectl(['get', 'analysisagents', '-n', namespace]);
  expect(printed).toMatch(/^NAME\s+AGENT\s+/);
  expect(printed).toMatch(/\ndns\s+dns\s+/);
}, 120_000);

test('editing the spec rolls the pods; paused scales to zero and says so', async () => {
  const hash = async (): Promise<string> =>
    kubectl([
      'get',
      'statefulset',
      'dns-agent',
      '-n',
      namespace,
      '-o',
      "jsonpath={.spec.template.metadata.annotations['edgewarden\\.io/config-hash']}",
    ]);
  const before = await hash();
  await apply(example('dns', '  interval: 10m\n'));
  await settled('dns', 'the edit seen', () => true);
  expect(await hash()).not.toBe(before);
  await apply(example('dns', '  interval: 10m\n  paused: true\n'));
  const paused = await settled('dns', 'paused', (a) => condition(a, 'Ready')?.reason === 'Paused');
  expect(condition(paused, 'Ready')?.message).toContain('scaled to zero');
  expect(
    await kubectl([
      'get',
      'statefulset',
      'dns-agent',
      '-n',
      namespace,
      '-o',
      'jsonpath={.spec.replicas}',
    ]),
  ).toBe('0');
}, 120_000);

test('deleting the agent garbage-collects its children', async () => {
  await kubectl(['delete', 'analysisagent', 'dns', '-n', namespace]);
  await eventually('the children to be collected', async () => {
    const left = await kubectl([
      'get',
      'statefulset,service,configmap,serviceaccount',
      '-n',
      namespace,
      '-l',
      'app.kubernetes.io/instance=dns',
      '-o',
      'name',
    ]);
    return left.trim() === '' ? true : undefined;
  });
}, 120_000);

test('a status made for an agent since deleted and created again is refused (409); the new one gets its own', async () => {
  await apply(example('again'));
  const first = await settled('again', 'a first status', (a) => a.status !== undefined);
  await kubectl(['delete', 'analysisagent', 'again', '-n', namespace]);
  await apply(example('again', '  interval: 15m\n'));
  const client = new KubeClient(
    await loadKubeConfigFile(process.env.KUBECONFIG!),
    'edgewarden-operator',
  );
  // The write a reconcile still holding the old object would make, as the operator makes it.
  const stale = client.applyStatus(RESOURCES.analysisAgent, {
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'AnalysisAgent',
    metadata: { name: 'again', namespace, resourceVersion: first.metadata.resourceVersion },
    status: { ...first.status, observedGeneration: first.metadata.generation },
  });
  await expect(stale).rejects.toBeInstanceOf(ApiError);
  await expect(stale).rejects.toMatchObject({ status: 409, reason: 'Conflict' });
  const again = await settled('again', "the new agent's status", (a) => a.status !== undefined);
  expect(again.metadata.uid).not.toBe(first.metadata.uid);
  expect(again.status?.observedGeneration).toBe(again.metadata.generation);
  await kubectl(['delete', 'analysisagent', 'again', '-n', namespace]);
}, 120_000);

test('an operator limited to some namespaces manages those, and leaves the others alone', async () => {
  const [a, b, other] = await Promise.all([
    createNamespace('ns-a'),
    createNamespace('ns-b'),
    createNamespace('ns-other'),
  ]);
  const second = startOperator(a, ['--namespace', `${b}`]);
  try {
    for (const ns of [a, b, other])
      await kubectl(['apply', '-f', '-'], example('multi').replace(/NS/g, ns));
    for (const ns of [a, b])
      await eventually(`the agent in ${ns} reconciled`, async () => {
        const agent = await kubectlJson<Agent>(['get', 'analysisagent', 'multi', '-n', ns]);
        return agent.status?.observedGeneration === agent.metadata.generation ? true : undefined;
      }).catch((error: Error) => {
        throw new Error(`${error.message}\noperator:\n${second.log().slice(-4000)}`);
      });
    // Both namespaces have been handled; the third, never: no status, no children.
    const untouched = await kubectlJson<Agent>(['get', 'analysisagent', 'multi', '-n', other]);
    expect(untouched.status).toBeUndefined();
    expect(await kubectl(['get', 'statefulsets', '-n', other, '-o', 'name'])).toBe('');
    expect(second.log()).toContain(`"namespaces":"${a},${b}"`);
  } finally {
    second.proc.kill('SIGTERM');
    await new Promise((r) => second.proc.once('exit', r));
    await Promise.all(
      [a, b, other].map((ns) => kubectlRun(['delete', 'namespace', ns, '--wait=false'])),
    );
  }
}, 120_000);

test('the operator serves probes and per-controller metrics', async () => {
  const ports = /"metricsPort":(\d+),"healthPort":(\d+)/.exec(operatorLog());
  expect(ports).not.toBeNull();
  const get = (port: string, p: string) => fetch(`http://127.0.0.1:${port}${p}`);
  expect((await get(ports![2]!, '/healthz')).status).toBe(200);
  expect((await get(ports![2]!, '/readyz')).status).toBe(200);
  const metrics = await (await get(ports![1]!, '/metrics')).text();
  expect(metrics).toMatch(
    /^edgewarden_operator_reconcile_total\{controller="analysisagent",result="success"\} [1-9]\d*$/m,
  );
  expect(metrics).toMatch(
    /^edgewarden_operator_workqueue_depth\{controller="analysisagent"\} \d+$/m,
  );
  expect(metrics).toContain('edgewarden_operator_reconcile_duration_seconds_bucket');
  expect(metrics).toContain('edgewarden_operator_workqueue_latency_seconds_bucket');
  expect(metrics).toMatch(
    /^edgewarden_operator_reconcile_total\{controller="modeldeployment",result="success"\} \d+$/m,
  );
  // Logs are JSON lines, Kubernetes style: each controller says when its caches are synced.
  const synced = operatorLog()
    .split('\n')
    .filter((l) => l.includes('caches synced'))
    .map((l) => JSON.parse(l) as { v: number; msg: string; controller: string });
  expect(synced.map((l) => l.controller).sort()).toEqual([
    'analysisagent',
    'exportjob',
    'modeldeployment',
  ]);
  for (const l of synced) expect(l).toMatchObject({ v: 0, msg: 'caches synced; starting workers' });
});
