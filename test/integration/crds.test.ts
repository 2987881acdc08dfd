// The three CRDs as a user meets them through kubectl: installed and Established, examples
// applied with their defaults filled in, `kubectl explain` documenting the fields, printer
// columns, short names, the category, the status and scale subresources, and an immutable
// ExportJob spec.
import { readdir } from 'node:fs/promises';
import path from 'node:path';

import type { AnalysisAgent, ExportJob, ModelDeployment } from '../../api/src/generated/types.js';

import {
  createNamespace,
  crdNames,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  repoRoot,
  type Result,
} from './kube.js';

let namespace: string;
let install: Result;

beforeAll(async () => {
  install = await installCrds();
  namespace = await createNamespace('crds');
});

afterAll(async () => {
  if (namespace) await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

test('the CRDs install without warnings and become Established', async () => {
  expect(install.stderr).not.toMatch(/warning/i);
  for (const name of crdNames) {
    const crd = await kubectlJson<{ status: { conditions: { type: string; status: string }[] } }>([
      'get',
      'crd',
      name,
    ]);
    const status = Object.fromEntries(crd.status.conditions.map((c) => [c.type, c.status]));
    expect(status).toMatchObject({ Established: 'True', NamesAccepted: 'True' });
  }
});

test('every example in manifests/examples applies, with schema defaults filled in', async () => {
  const files = (await readdir(path.join(repoRoot, 'manifests/examples'))).filter((f) =>
    f.endsWith('.yaml'),
  );
  expect(files.length).toBeGreaterThanOrEqual(3);
  for (const file of files) {
    const result = await kubectlRun(['apply', '-n', namespace, '-f', `manifests/examples/${file}`]);
    expect({ file, ...result }).toMatchObject({ code: 0, stderr: '' });
  }
  const agent = await kubectlJson<AnalysisAgent>(['get', '-n', namespace, 'analysisagent', 'dns']);
  expect(agent.spec.paused).toBe(false);
  expect(agent.spec.source.batchSize).toBe(5000);
  expect(agent.spec.cache?.keyPrefix).toBe('edgewarden:');
  const model = await kubectlJson<ModelDeployment>([
    'get',
    '-n',
    namespace,
    'modeldeployment',
    'dns-model',
  ]);
  expect(model.spec.rollout?.autoRollback).toBe(true);
  const exportJob = await kubectlJson<ExportJob>([
    'get',
    '-n',
    namespace,
    'exportjob',
    'weekly-review',
  ]);
  expect(exportJob.spec).toMatchObject({ activeDeadlineSeconds: 3600, batchSize: 1000 });
  // The claim the ExportJob writes to ships beside it.
  const claim = await kubectlJson<{ spec: { resources: { requests: { storage: string } } } }>([
    'get',
    '-n',
    namespace,
    'pvc',
    exportJob.spec.destination.persistentVolumeClaim.claimName,
  ]);
  expect(claim.spec.resources.requests.storage).toBe('5Gi');
});

test('kubectl explain documents the fields', async () => {
  const source = await kubectl(['explain', 'analysisagent.spec.source']);
  expect(source).toContain('The PostgreSQL database the router logs are collected into');
  expect(source).toMatch(/secretRef\s+<Object> -required-/);
  expect(source).toContain('Secret with the connection');
  const sslMode = await kubectl(['explain', 'analysisagent.spec.source.sslMode']);
  expect(sslMode).toMatch(/ENUM:[\s\S]*verify-full/);
  const modelSource = await kubectl(['explain', 'modeldeployment.spec.source.http.sha256']);
  expect(modelSource).toContain('a download that does not match is refused');
});

test('printer columns show the useful few, and details under -o wide', async () => {
  // Give each object a status, as the controllers will, through the status subresource.
  const patchStatus = (resource: string, status: unknown) =>
    kubectl([
      'patch',
      '-n',
      namespace,
      resource,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
  const condition = {
    type: 'Ready',
    status: 'True',
    reason: 'AgentsReady',
    message: 'all agent pods ready',
    lastTransitionTime: '2026-11-23T10:00:00Z',
  };
  await patchStatus('analysisagent/dns', {
    readyReplicas: 1,
    replicas: 1,
    modelVersion: '2026.11.1',
    conditions: [condition],
    anomalies: { total: 9, last24h: 7 },
  });
  await patchStatus('modeldeployment/dns-model', {
    activeVersion: '2026.11.0',
    targetVersion: '2026.11.1',
    transition: 'InProgress',
    updatedAgents: 1,
    totalAgents: 4,
  });
  await patchStatus('exportjob/weekly-review', {
    phase: 'Running',
    progress: {
      recordsDone: 4500,
      recordsTotal: 10000,
      percent: 45,
      bytes: 1234,
      summary: '45% (4500/10000)',
    },
    conditions: [
      {
        type: 'Running',
        status: 'True',
        reason: 'Exporting',
        message: '45% (4500/10000)',
        lastTransitionTime: '2026-11-23T10:00:00Z',
      },
    ],
  });

  const table = await kubectl([
    'get',
    '-n',
    namespace,
    'analysisagents,modeldeployments,exportjobs',
  ]);
  expect(table).toMatch(/NAME\s+AGENT\s+READY\s+AVAILABLE\s+MODEL\s+AGE/);
  expect(table).toMatch(/analysisagent\.edgewarden\.io\/dns\s+dns\s+True\s+1\s+2026\.11\.1\s/);
  expect(table).toMatch(/NAME\s+AGENT\s+ACTIVE\s+TARGET\s+TRANSITION\s+READY\s+AGE/);
  expect(table).toMatch(/dns-model\s+dns\s+2026\.11\.0\s+2026\.11\.1\s+InProgress\s/);
  expect(table).toMatch(/NAME\s+PHASE\s+PROGRESS\s+REASON\s+AGE/);
  expect(table).toMatch(/weekly-review\s+Running\s+45% \(4500\/10000\)\s+Exporting\s/);

  const wide = await kubectl(['get', '-n', namespace, 'analysisagents', '-o', 'wide']);
  expect(wide).toMatch(/ANOMALIES-24H\s+LAST-CYCLE\s+PAUSED\s+AGE/);
  expect(wide).toMatch(/dns\s+dns\s+True\s+1\s+2026\.11\.1\s+7\s+false\s/);
  const wideExports = await kubectl(['get', '-n', namespace, 'exportjobs', '-o', 'wide']);
  expect(wideExports).toMatch(/REASON\s+FORMAT\s+BYTES\s+COMPLETED\s+MESSAGE\s+AGE/);
  // COMPLETED is blank until it finishes; MESSAGE is the Running condition's.
  expect(wideExports).toMatch(/Exporting\s+jsonl\s+1234\s+45% \(4500\/10000\)\s/);
});

test('short names and the edgewarden category list our kinds', async () => {
  const short = await kubectl(['get', '-n', namespace, 'ewagent,ewmodel,ewexport', '-o', 'name']);
  const category = await kubectl(['get', '-n', namespace, 'edgewarden', '-o', 'name']);
  const expected = [
    'analysisagent.edgewarden.io/dns',
    'exportjob.edgewarden.io/weekly-review',
    'modeldeployment.edgewarden.io/dns-model',
  ];
  expect(short.trim().split('\n').sort()).toEqual(expected);
  expect(category.trim().split('\n').sort()).toEqual(expected);
});

test('the status subresource keeps spec and status apart', async () => {
  const before = await kubectlJson<{ metadata: { generation: number } }>([
    'get',
    '-n',
    namespace,
    'analysisagent',
    'dns',
  ]);
  await kubectl([
    'patch',
    '-n',
    namespace,
    'analysisagent/dns',
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"spec":{"replicas":5},"status":{"observedGeneration":1}}',
  ]);
  const after = await kubectlJson<{ metadata: { generation: number }; spec: { replicas: number } }>(
    ['get', '-n', namespace, 'analysisagent', 'dns'],
  );
  expect(after.spec.replicas).toBe(1);
  expect(after.metadata.generation).toBe(before.metadata.generation);
});

test('an AnalysisAgent scales through the scale subresource, within its bounds', async () => {
  await kubectl(['scale', '-n', namespace, 'analysisagent/dns', '--replicas=3']);
  const agent = await kubectlJson<{ spec: { replicas: number } }>([
    'get',
    '-n',
    namespace,
    'analysisagent',
    'dns',
  ]);
  expect(agent.spec.replicas).toBe(3);
  const tooMany = await kubectlRun([
    'scale',
    '-n',
    namespace,
    'analysisagent/dns',
    '--replicas=40',
  ]);
  expect(tooMany.code).not.toBe(0);
  expect(tooMany.stderr).toContain('spec.replicas');
});

test('an ExportJob spec cannot change once created', async () => {
  const result = await kubectlRun([
    'patch',
    '-n',
    namespace,
    'exportjob/weekly-review',
    '--type=merge',
    '-p',
    '{"spec":{"format":"csv"}}',
  ]);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('spec is immutable');
});
