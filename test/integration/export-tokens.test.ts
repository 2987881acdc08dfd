// Issue 20, H2, against the real control plane with `edgewarden operator` running as a
// process: every agent pod is started with the digests of its control and read tokens (not only
// with spec.model), and an ExportJob that reads anomalies gets a Secret of its own holding its
// agents' read tokens, owned by it, mounted read-only by its pod; no token is in a pod spec's
// environment, in the plan or in the ExportJob's status.
import { createHash, createHmac } from 'node:crypto';

import {
  createNamespace,
  eventually,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
} from './kube.js';
import { runOperator, type RunningOperator } from './namespaceSuite.js';

let namespace: string;
let operator: RunningOperator | undefined;

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('tokens');
  operator = await runOperator(namespace, ['--control-key-namespace', namespace]);
}, 90_000);

afterAll(async () => {
  await operator?.stop();
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
});

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
/** As the operator derives them (operator/src/domain/agentTokens.ts), written out here. */
const token = (key: Buffer, label: string, uid: string): string =>
  createHmac('sha256', key).update(`edgewarden-${label}:${uid}`).digest('hex');

interface Env {
  name: string;
  value?: string;
}
interface PodTemplate {
  spec: {
    containers: { env?: Env[]; volumeMounts?: Record<string, unknown>[] }[];
    volumes?: Record<string, unknown>[];
  };
}

test('agents get both token digests; an ExportJob gets its agents’ read tokens in a Secret it owns', async () => {
  await kubectl([
    ...['create', 'secret', 'generic', 'dns-db', '-n', namespace],
    '--from-literal=url=postgresql://ro@db/logs',
  ]);
  // No spec.model: the digests are there all the same (the API needs them for /status).
  await kubectl(
    ['apply', '-f', '-'],
    `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: dns, namespace: ${namespace} }
spec:
  agent: dns
  source:
    secretRef: { name: dns-db }
  nodeSelector: { kubernetes.io/arch: arm64 }
`,
  );
  const agentUid = (
    await kubectlJson<{ metadata: { uid: string } }>([
      'get',
      'analysisagent',
      'dns',
      '-n',
      namespace,
    ])
  ).metadata.uid;
  const keySecret = await eventually('the control key', () =>
    kubectlJson<{ data: { key: string } }>([
      'get',
      'secret',
      'edgewarden-control-key',
      '-n',
      namespace,
    ]),
  );
  const key = Buffer.from(keySecret.data.key, 'base64');
  const control = token(key, 'control', agentUid);
  const read = token(key, 'read', agentUid);

  const set = await eventually('the StatefulSet', () =>
    kubectlJson<{ spec: { template: PodTemplate } }>([
      'get',
      'statefulset',
      'dns-agent',
      '-n',
      namespace,
    ]),
  );
  const env = set.spec.template.spec.containers[0]!.env ?? [];
  const value = (name: string) => env.find((e) => e.name === name)?.value;
  expect(value('EDGEWARDEN_CONTROL_TOKEN_SHA256')).toBe(sha256(control));
  expect(value('EDGEWARDEN_READ_TOKEN_SHA256')).toBe(sha256(read));
  expect(JSON.stringify(set)).not.toContain(control);
  expect(JSON.stringify(set)).not.toContain(read);

  await eventually('the agent pod to run', async () => {
    const p = await kubectlJson<{ status: { phase?: string } }>([
      ...['get', 'pod', 'dns-agent-0', '-n', namespace],
    ]);
    return p.status.phase === 'Running' ? true : undefined;
  });
  await kubectl(
    ['apply', '-f', '-'],
    `apiVersion: edgewarden.io/v1alpha1
kind: ExportJob
metadata: { name: ex, namespace: ${namespace} }
spec:
  dataTypes: [anomalies]
  timeRange: { last: 24h }
  format: jsonl
  destination:
    persistentVolumeClaim: { claimName: exports }
    path: reviews
`,
  );
  const exportUid = (
    await kubectlJson<{ metadata: { uid: string } }>(['get', 'exportjob', 'ex', '-n', namespace])
  ).metadata.uid;
  const secret = await eventually('the token Secret', () =>
    kubectlJson<{
      metadata: { ownerReferences?: { uid: string; controller?: boolean }[] };
      data: Record<string, string>;
    }>(['get', 'secret', 'ex-agent-tokens', '-n', namespace]),
  );
  expect(secret.metadata.ownerReferences).toEqual([
    expect.objectContaining({ uid: exportUid, controller: true }),
  ]);
  expect(Object.keys(secret.data)).toEqual(['dns']);
  expect(Buffer.from(secret.data.dns!, 'base64').toString()).toBe(read);

  const job = await eventually('the export Job', () =>
    kubectlJson<{ spec: { template: PodTemplate } }>(['get', 'job', 'ex-export', '-n', namespace]),
  );
  const pod = job.spec.template.spec;
  expect(pod.volumes).toContainEqual({
    name: 'agent-tokens',
    secret: { secretName: 'ex-agent-tokens', defaultMode: 0o440 },
  });
  expect(pod.containers[0]!.volumeMounts).toContainEqual({
    name: 'agent-tokens',
    mountPath: '/etc/edgewarden/agent-tokens',
    readOnly: true,
  });
  const elsewhere = JSON.stringify([
    job,
    await kubectlJson(['get', 'exportjob', 'ex', '-n', namespace]),
    await kubectlJson(['get', 'configmap', 'ex-export-plan', '-n', namespace]),
  ]);
  expect(elsewhere).not.toContain(read);
  expect(elsewhere).not.toContain(control);
  expect(operator!.log()).not.toContain(read);
}, 180_000);
