// Children are never adopted (issue 20, M3), against the real control plane with
// `edgewarden operator` running as a process: objects made by someone else under the names of
// an AnalysisAgent's or an ExportJob's children keep their data and get no owner reference (so
// the garbage collector leaves them when the resource goes); the resource says which object is
// in the way (a condition and a Warning Event); once it is removed, the children appear.

import { createNamespace, eventually, installCrds, kubectl, kubectlRun } from './kube.js';
import {
  conditionOf,
  namespaceObjects,
  runOperator,
  type Condition,
  type RunningOperator,
} from './namespaceSuite.js';

let namespace: string;
let operator: RunningOperator | undefined;

interface Owned {
  metadata: {
    uid: string;
    generation: number;
    ownerReferences?: { uid: string; controller?: boolean; kind: string }[];
  };
  data?: Record<string, string>;
  status?: { observedGeneration?: number; readyReplicas?: number; conditions?: Condition[] };
}

const agentYaml = (name: string): string => `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  agent: dns
  source:
    secretRef: { name: ${name}-db }
  nodeSelector: { kubernetes.io/arch: arm64 }
`;

const exportYaml = (name: string): string => `apiVersion: edgewarden.io/v1alpha1
kind: ExportJob
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  dataTypes: [anomalies]
  timeRange: { last: 24h }
  format: jsonl
  destination:
    persistentVolumeClaim: { claimName: exports }
    path: reviews
`;

const { get, exists, settled, warned } = namespaceObjects<Owned>(() => namespace);
const condition = conditionOf;

/** The object is someone else's still: its data as made, no owner reference. */
async function untouched(kind: string, name: string, data?: Record<string, string>) {
  const o = await get(kind, name);
  expect(o.metadata.ownerReferences).toBeUndefined();
  if (data) expect(o.data).toEqual(data);
}

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('conflict');
  operator = await runOperator(namespace);
}, 90_000);

afterAll(async () => {
  await operator?.stop();
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
});

test('an AnalysisAgent does not adopt a ConfigMap and a ServiceAccount in its way', async () => {
  const mine = { 'settings.yaml': 'mine: true\n' };
  await kubectl(['create', 'secret', 'generic', 'cf-db', '-n', namespace, '--from-literal=url=x']);
  await kubectl([
    'create',
    'configmap',
    'cf-agent',
    '-n',
    namespace,
    '--from-literal=settings.yaml=mine: true\n',
  ]);
  await kubectl(['create', 'serviceaccount', 'cf-agent', '-n', namespace]);
  await kubectl(['apply', '-f', '-'], agentYaml('cf'));

  const blocked = await settled('analysisagent', 'cf', 'a Ready condition', (a) =>
    Boolean(condition(a, 'Ready')),
  );
  await untouched('configmap', 'cf-agent', mine);
  await untouched('serviceaccount', 'cf-agent');
  expect(condition(blocked, 'Ready')).toMatchObject({ status: 'False', reason: 'ChildConflict' });
  const message = condition(blocked, 'Ready')!.message;
  expect(message).toContain('ServiceAccount "cf-agent" already exists');
  expect(message).toContain('ConfigMap "cf-agent" already exists');
  expect(message).toContain('delete or rename them');
  await warned('cf', 'ChildConflict');
  // The set is refused whole: no pods with another's configuration or service account.
  expect(await exists('statefulset', 'cf-agent')).toBe(false);

  // Deleting the agent leaves them: they were never its own.
  await kubectl(['delete', 'analysisagent', 'cf', '-n', namespace, '--wait=true']);
  await new Promise((r) => setTimeout(r, 3000)); // the garbage collector's time
  await untouched('configmap', 'cf-agent', mine);
  await untouched('serviceaccount', 'cf-agent');

  // Once they are out of the way, the agent makes its own, and runs.
  await kubectl(['apply', '-f', '-'], agentYaml('cf'));
  await settled(
    'analysisagent',
    'cf',
    'ChildConflict',
    (a) => condition(a, 'Ready')?.reason === 'ChildConflict',
  );
  await kubectl(['delete', 'configmap,serviceaccount', 'cf-agent', '-n', namespace]);
  const ready = await settled(
    'analysisagent',
    'cf',
    'ready',
    (a) => a.status?.readyReplicas === 1 && condition(a, 'Ready')?.status === 'True',
  );
  for (const kind of ['configmap', 'serviceaccount', 'statefulset']) {
    const child = await get(kind, 'cf-agent');
    expect(child.metadata.ownerReferences).toEqual([
      expect.objectContaining({ uid: ready.metadata.uid, controller: true }),
    ]);
  }
}, 180_000);

test("an ExportJob does not take a ConfigMap in its plan's place for its plan", async () => {
  const mine = { 'plan.json': '{"not":"a plan of yours"}' };
  await kubectl([
    'create',
    'configmap',
    'ex-export-plan',
    '-n',
    namespace,
    `--from-literal=plan.json=${mine['plan.json']}`,
  ]);
  await kubectl(['apply', '-f', '-'], exportYaml('ex'));

  const blocked = await settled('exportjob', 'ex', 'a Running condition', (e) =>
    Boolean(condition(e, 'Running')),
  );
  await untouched('configmap', 'ex-export-plan', mine);
  expect(condition(blocked, 'Running')).toMatchObject({ status: 'False', reason: 'ChildConflict' });
  expect(condition(blocked, 'Running')!.message).toContain(
    'ConfigMap "ex-export-plan" already exists',
  );
  expect(condition(blocked, 'Failed')?.status).toBe('False'); // the user may remove it
  await warned('ex', 'ChildConflict');
  expect(await exists('job', 'ex-export')).toBe(false);

  await kubectl(['delete', 'configmap', 'ex-export-plan', '-n', namespace]);
  const started = await eventually(
    'the Job of the export',
    async () => ((await exists('job', 'ex-export')) ? get('exportjob', 'ex') : undefined),
    60_000,
  );
  for (const [kind, name] of [
    ['configmap', 'ex-export-plan'],
    ['job', 'ex-export'],
  ] as const) {
    const child = await get(kind, name);
    expect(child.metadata.ownerReferences).toEqual([
      expect.objectContaining({ uid: started.metadata.uid, controller: true }),
    ]);
  }
}, 180_000);
