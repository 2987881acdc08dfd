// Tables beyond the presets' are read only when the operator's administrator allows them (issue
// 20, M4), against the real control plane with `edgewarden operator` running as a process with
// --allowed-source-tables: an AnalysisAgent naming pg_catalog.pg_stat_activity gets no pods
// (Ready False, SourceTableNotAllowed, a Warning Event), one that ran is scaled to zero when its
// table changes to it, an ExportJob reading logs through it fails for good without a Job; an
// allowed table runs and exports.

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

interface Observed {
  metadata: { generation: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    readyReplicas?: number;
    replicas?: number;
    phase?: string;
    conditions?: Condition[];
  };
}

const SYSTEM_TABLE = 'pg_catalog.pg_stat_activity';
const ALLOWED_TABLE = 'logging.router_lines';

const agentYaml = (name: string, table: string): string => `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  agent: dns
  source:
    secretRef: { name: tables-db }
    preset: custom
    table: ${table}
    columns: { timestamp: query_start, message: query }
  nodeSelector: { kubernetes.io/arch: arm64 }
`;

const exportYaml = (name: string, agent: string): string => `apiVersion: edgewarden.io/v1alpha1
kind: ExportJob
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  dataTypes: [logs]
  source: { analysisAgentRef: { name: ${agent} } }
  timeRange: { last: 24h }
  format: jsonl
  destination:
    persistentVolumeClaim: { claimName: exports }
    path: reviews
`;

const { get, exists, settled, warned } = namespaceObjects<Observed>(() => namespace);
const condition = conditionOf;

const refusedTable = (c: Condition | undefined) => {
  expect(c).toMatchObject({ status: 'False', reason: 'SourceTableNotAllowed' });
  expect(c!.message).toContain(SYSTEM_TABLE);
};

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('tables');
  await kubectl([
    ...['create', 'secret', 'generic', 'tables-db', '-n', namespace],
    '--from-literal=url=postgresql://reader@db.example/logs',
  ]);
  // Only the allowed table: listing a system one stops the operator at start (cli/src's tests).
  operator = await runOperator(namespace, [`--allowed-source-tables=${ALLOWED_TABLE}`]);
}, 90_000);

afterAll(async () => {
  await operator?.stop();
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
});

test('an AnalysisAgent reading pg_catalog.pg_stat_activity gets no pods', async () => {
  await kubectl(['apply', '-f', '-'], agentYaml('peek', SYSTEM_TABLE));
  const refused = await settled('analysisagent', 'peek', 'a Ready condition', (a) =>
    Boolean(condition(a, 'Ready')),
  );
  refusedTable(condition(refused, 'Ready'));
  expect(condition(refused, 'Ready')!.message).toContain('system schema');
  expect(await warned('peek', 'SourceTableNotAllowed')).toContain(SYSTEM_TABLE);
  // Its StatefulSet asks for no pod: nothing reads the table.
  const set = await get('statefulset', 'peek-agent');
  expect(set.spec?.replicas).toBe(0);
  expect(refused.status?.readyReplicas ?? 0).toBe(0);
}, 120_000);

test('an allowed table runs; changed to a system table, the agent is scaled to zero', async () => {
  await kubectl(['apply', '-f', '-'], agentYaml('lines', ALLOWED_TABLE));
  await settled(
    'analysisagent',
    'lines',
    'ready',
    (a) => a.status?.readyReplicas === 1 && condition(a, 'Ready')?.status === 'True',
  );
  await kubectl(['apply', '-f', '-'], agentYaml('lines', SYSTEM_TABLE));
  const refused = await settled(
    'analysisagent',
    'lines',
    'SourceTableNotAllowed',
    (a) => condition(a, 'Ready')?.reason === 'SourceTableNotAllowed',
  );
  refusedTable(condition(refused, 'Ready'));
  await eventually('the StatefulSet at zero pods', async () => {
    const set = await get('statefulset', 'lines-agent');
    return set.spec?.replicas === 0 && (set.status?.replicas ?? 0) === 0 ? true : undefined;
  });
  await warned('lines', 'SourceTableNotAllowed');
}, 180_000);

test('an ExportJob of logs through a refused table fails for good, with no Job', async () => {
  await kubectl(['apply', '-f', '-'], exportYaml('peek-logs', 'peek'));
  const failed = await settled(
    'exportjob',
    'peek-logs',
    'Failed',
    (e) => e.status?.phase === 'Failed',
  );
  const c = condition(failed, 'Failed');
  expect(c).toMatchObject({ status: 'True', reason: 'SourceTableNotAllowed' });
  expect(c!.message).toContain(SYSTEM_TABLE);
  expect(c!.message).toContain('AnalysisAgent "peek"');
  expect(await warned('peek-logs', 'SourceTableNotAllowed')).toContain(SYSTEM_TABLE);
  expect(await exists('job', 'peek-logs-export')).toBe(false);
  expect(await exists('configmap', 'peek-logs-export-plan')).toBe(false);

  // Through an agent whose table is allowed, the export goes ahead.
  await kubectl(['apply', '-f', '-'], agentYaml('router', ALLOWED_TABLE));
  await kubectl(['apply', '-f', '-'], exportYaml('router-logs', 'router'));
  await eventually('the Job of the allowed export', async () =>
    (await exists('job', 'router-logs-export')) ? true : undefined,
  );
  expect(condition(await get('exportjob', 'router-logs'), 'Failed')?.reason).not.toBe(
    'SourceTableNotAllowed',
  );
}, 180_000);
