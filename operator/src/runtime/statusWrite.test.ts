// The status write: only a changed status is written, with the resourceVersion it was computed
// from as a precondition; and the running-pod predicate the controllers share.
import type { KubeClient, KubeObject } from './kubeClient.js';
import { isRunningPod } from './pods.js';
import { writeStatusIfChanged } from './statusWrite.js';

const RESOURCE = { apiVersion: 'example.io/v1', kind: 'Thing', plural: 'things', namespaced: true };

test('a status is written only when it changed, with its resourceVersion as precondition', async () => {
  const written: KubeObject[] = [];
  const client = {
    applyStatus: (_r: unknown, o: KubeObject) => {
      written.push(o);
      return Promise.resolve(o);
    },
  } as unknown as KubeClient;
  const thing = {
    apiVersion: 'example.io/v1',
    kind: 'Thing',
    metadata: { name: 'a', namespace: 'ns', resourceVersion: '7', uid: 'u' },
    status: { phase: 'Ready', observedGeneration: 1 },
  };
  expect(
    await writeStatusIfChanged(client, RESOURCE, thing, { observedGeneration: 1, phase: 'Ready' }),
  ).toBe(false);
  expect(
    await writeStatusIfChanged(client, RESOURCE, thing, { phase: 'Failed', observedGeneration: 1 }),
  ).toBe(true);
  expect(written).toEqual([
    {
      apiVersion: 'example.io/v1',
      kind: 'Thing',
      metadata: { name: 'a', namespace: 'ns', resourceVersion: '7' },
      status: { phase: 'Failed', observedGeneration: 1 },
    },
  ]);
});

test('a running pod runs, has an address, and is not being deleted', () => {
  const pod = (status: { phase?: string; podIP?: string }, deletionTimestamp?: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', deletionTimestamp },
    status,
  });
  expect(isRunningPod(pod({ phase: 'Running', podIP: '10.0.0.1' }))).toBe(true);
  expect(isRunningPod(pod({ phase: 'Running' }))).toBe(false);
  expect(isRunningPod(pod({ phase: 'Pending', podIP: '10.0.0.1' }))).toBe(false);
  expect(isRunningPod(pod({ phase: 'Running', podIP: '10.0.0.1' }, '2026-01-01T00:00:00Z'))).toBe(
    false,
  );
});
