// Shared informers: one per kind and label selector, whoever asks.
import { jsonLogger } from '../../../api/src/log.js';
import { sharedInformers } from './controllerEnv.js';
import { NamespacedInformers } from './informer.js';
import type { KubeClient } from './kubeClient.js';

const PODS = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
const client = {} as KubeClient;
const log = jsonLogger({ write: () => undefined });

test('the same kind and selector give the same cache; another selector another', () => {
  const informer = sharedInformers(client, log);
  expect(informer(PODS, 'a=b')).toBe(informer(PODS, 'a=b'));
  expect(informer(PODS, 'a=b')).not.toBe(informer(PODS, 'a=c'));
  expect(informer(PODS)).not.toBe(informer(PODS, 'a=b'));
});

test('several namespaces: one informer each, seen as one cache', () => {
  const informer = sharedInformers(client, log, ['a', 'b', 'a']);
  const cache = informer(PODS);
  expect(cache).toBeInstanceOf(NamespacedInformers);
  expect([...(cache as NamespacedInformers<never>).informers.keys()]).toEqual(['a', 'b']);
});
