// Where the operator may read no Secrets (a cluster-wide install: the ClusterRole grants no
// `get secrets`, issue 20), its two Secret reads answer 403: neither stops a reconcile.
import { ApiError, type KubeClient } from '../runtime/kubeClient.js';
import type { AgentContext } from './analysisAgent/context.js';
import { missingSecrets } from './analysisAgent/children.js';
import { modelSource } from './modelDeployment/modelSource.js';
import type { StoredAgent } from '../domain/analysisAgent/desired.js';

const answering = (status: number): KubeClient =>
  ({
    request: () => Promise.reject(new ApiError(status, 'Forbidden', `HTTP ${status}`)),
    find: () => Promise.reject(new Error('no Secret is read after a refused metadata read')),
  }) as unknown as KubeClient;

const agent = {
  apiVersion: 'edgewarden.io/v1alpha1',
  kind: 'AnalysisAgent',
  metadata: { name: 'dns', namespace: 'home', uid: 'agent-1' },
  spec: {
    agent: 'dns',
    source: { secretRef: { name: 'db' } },
    cache: { secretRef: { name: 'r' } },
  },
} as unknown as StoredAgent;

test('a referenced Secret the operator may not read is not reported missing: the pod says so', async () => {
  const ctx = { client: answering(403) } as unknown as AgentContext;
  await expect(missingSecrets(ctx, agent)).resolves.toEqual([]);
  // Any other failure still fails the pass, and 404 is still "missing".
  await expect(
    missingSecrets({ client: answering(500) } as unknown as AgentContext, agent),
  ).rejects.toThrow('HTTP 500');
  await expect(
    missingSecrets({ client: answering(404) } as unknown as AgentContext, agent),
  ).resolves.toEqual([
    { name: 'db', field: 'spec.source.secretRef' },
    { name: 'r', field: 'spec.cache.secretRef' },
  ]);
});

test('a Secret model source the operator may not read: SourceForbidden, naming the chart value', async () => {
  const refused = modelSource(answering(403), 'home', {
    secret: { name: 'dns-model', key: 'model.onnx' },
  });
  await expect(refused).rejects.toMatchObject({
    reason: 'SourceForbidden',
    message:
      "the operator may not read Secret dns-model in home: list the namespace in the chart's operator.secretNamespaces, or use a ConfigMap source",
  });
});
