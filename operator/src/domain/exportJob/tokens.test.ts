// Issue 20, H2: an export that reads anomalies gets its agents' read tokens in a Secret it owns,
// mounted as files; the tokens are never in its plan, its Job or an environment value.
import { exportChildren, exportPlan, exportTokenSecret, type StoredExportJob } from './desired.js';
import { controlToken, readToken } from '../agentTokens.js';

const job: StoredExportJob = {
  apiVersion: 'edgewarden.io/v1alpha1',
  kind: 'ExportJob',
  metadata: {
    name: 'weekly',
    namespace: 'net',
    uid: 'u-1',
    creationTimestamp: '2026-11-24T12:00:00Z',
  },
  spec: {
    dataTypes: ['anomalies'],
    timeRange: { last: '24h' },
    destination: { persistentVolumeClaim: { claimName: 'exports' }, path: 'weekly' },
  },
};
const settings = { agentImage: 'edgewarden:test', imagePullPolicy: 'IfNotPresent' as const };
const window = { from: '2026-11-23T12:00:00.000Z', to: '2026-11-24T12:00:00.000Z' };
const key = new Uint8Array(32).fill(3);

type PodSpec = {
  volumes: { name: string; secret?: { secretName: string; defaultMode: number } }[];
  containers: {
    env: { name: string; value?: string }[];
    volumeMounts: Record<string, unknown>[];
  }[];
};
const podOf = (j: unknown): PodSpec =>
  (j as { spec: { template: { spec: PodSpec } } }).spec.template.spec;

test('the read token: an HMAC of the uid like the control token, under another label', () => {
  expect(readToken(key, 'uid-a')).toMatch(/^[a-f0-9]{64}$/);
  expect(readToken(key, 'uid-a')).toBe(readToken(key, 'uid-a'));
  expect(readToken(key, 'uid-a')).not.toBe(controlToken(key, 'uid-a'));
  expect(readToken(key, 'uid-a')).not.toBe(readToken(key, 'uid-b'));
  expect(readToken(new Uint8Array(32).fill(4), 'uid-a')).not.toBe(readToken(key, 'uid-a'));
});

test('the token Secret: a key per agent, owned by the ExportJob; the pod mounts it read-only', () => {
  const token = readToken(key, 'uid-dns');
  const secret = exportTokenSecret(job, { dns: token }) as unknown as {
    metadata: { name: string; namespace: string; ownerReferences: { uid: string }[] };
    data: Record<string, string>;
  };
  expect(secret.metadata).toMatchObject({ name: 'weekly-agent-tokens', namespace: 'net' });
  expect(secret.metadata.ownerReferences).toEqual([expect.objectContaining({ uid: 'u-1' })]);
  expect(Buffer.from(secret.data.dns!, 'base64').toString()).toBe(token);

  const anomalies = [{ agent: 'dns', kind: 'dns', pod: 'dns-0', url: 'http://dns-0.dns:8080' }];
  const plan = exportPlan(job, window, undefined, anomalies);
  const children = exportChildren(job, plan, settings);
  const pod = podOf(children.job);
  expect(pod.volumes).toContainEqual({
    name: 'agent-tokens',
    secret: { secretName: 'weekly-agent-tokens', defaultMode: 0o440 },
  });
  expect(pod.containers[0]!.volumeMounts).toContainEqual({
    name: 'agent-tokens',
    mountPath: '/etc/edgewarden/agent-tokens',
    readOnly: true,
  });
  expect(JSON.stringify(children)).not.toContain(token);
  // The cleanup Job reads no agent; an export without anomalies mounts no tokens.
  expect(JSON.stringify(exportChildren(job, plan, settings, true).job)).not.toContain(
    'agent-tokens',
  );
  const logsOnly = exportPlan(
    { ...job, spec: { ...job.spec, dataTypes: ['logs'] } },
    window,
    undefined,
    [],
  );
  expect(JSON.stringify(exportChildren(job, logsOnly, settings).job)).not.toContain('agent-tokens');
});
