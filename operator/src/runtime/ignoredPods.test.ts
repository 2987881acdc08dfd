import { jsonLogger } from '../../../api/src/log.js';
import { IgnoredPods } from './ignoredPods.js';

test('each ignored pod is logged once, by name and controller, and counted', () => {
  const lines: Record<string, unknown>[] = [];
  const log = jsonLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const pod = (name: string, uid: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'home',
      uid,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'rs', controller: true },
      ],
    },
  });
  const ignored = new IgnoredPods();
  for (let pass = 0; pass < 3; pass++)
    ignored.note(log, [pod('a', '1'), pod('b', '2')], { kind: 'analysisAgent', name: 'dns' });
  expect(ignored.count).toBe(2);
  expect(lines.map((l) => [l.pod, l.analysisAgent, l.podController, l.ignoredPods])).toEqual([
    ['a', 'dns', 'ReplicaSet/x', 1],
    ['b', 'dns', 'ReplicaSet/x', 2],
  ]);
});
