// The operator under trouble, against the real control plane: a watch broken on purpose
// recovers; a watch the server ends on time goes on without a relist; two replicas with leader
// election, the leader killed, the other takes over within the lease duration; an operator
// killed with SIGKILL in the middle of its reconciles and started again converges, with no
// duplicate children.
import type { ChildProcess } from 'node:child_process';

import { Informer } from '../../operator/src/runtime/informer.js';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/kubeClient.js';
import { loadKubeConfigFile } from '../../operator/src/runtime/kubeConfig.js';
import { jsonLogger } from '../../api/src/log.js';
import {
  createNamespace,
  eventually,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  startOperator as startTestOperator,
} from './kube.js';

let namespace: string;
const running: ChildProcess[] = [];

function startOperator(args: string[]): { proc: ChildProcess; log: () => string } {
  const operator = startTestOperator(namespace, args);
  running.push(operator.proc);
  return operator;
}

const exited = (p: ChildProcess): Promise<unknown> =>
  p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => p.once('exit', r));

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('resilience');
}, 60_000);

afterAll(async () => {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(running.map(exited));
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
});

test('an informer whose watch breaks restarts, relists, and misses nothing', async () => {
  const connection = await loadKubeConfigFile(process.env.KUBECONFIG!);
  const informer = new Informer<KubeObject>(
    new KubeClient(connection, 'edgewarden-tests'),
    { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
    jsonLogger({ write: () => undefined }),
    { namespace, backoffMs: 50 },
  );
  const seen: string[] = [];
  informer.on((event, o) => seen.push(`${event}:${o.metadata.name}`));
  informer.start();
  try {
    await informer.waitForSync();
    await eventually('the watch to open', () =>
      Promise.resolve(informer.watching ? true : undefined),
    );
    informer.breakWatch();
    // Written while the watch is down: the relist after the restart must bring it.
    await kubectl(['create', 'configmap', 'after-break', '-n', namespace, '--from-literal=a=1']);
    await eventually('the informer to see it', () =>
      Promise.resolve(informer.get(namespace, 'after-break') ? true : undefined),
    );
    expect(informer.restarts).toBeGreaterThanOrEqual(1);
    expect(seen).toContain('add:after-break');
    // Cached objects are frozen: a listener cannot change what other listeners see.
    expect(() => {
      (informer.get(namespace, 'after-break')!.metadata as { name: string }).name = 'x';
    }).toThrow(TypeError);
  } finally {
    informer.stop();
  }
}, 60_000);

test('a watch the server ends on time goes on from its resourceVersion: no relist, no failure', async () => {
  const logs: string[] = [];
  const connection = await loadKubeConfigFile(process.env.KUBECONFIG!);
  const informer = new Informer<KubeObject>(
    new KubeClient(connection, 'edgewarden-tests'),
    { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
    jsonLogger({ write: (line) => logs.push(line) }),
    { namespace, watchTimeoutSeconds: 2 },
  );
  const seen: string[] = [];
  informer.on((event, o) => seen.push(`${event}:${o.metadata.name}`));
  informer.start();
  try {
    await informer.waitForSync();
    await eventually('two watches ended by the server', () =>
      Promise.resolve(informer.rewatches >= 2 ? true : undefined),
    );
    await kubectl(['create', 'configmap', 'after-timeouts', '-n', namespace, '--from-literal=a=1']);
    await eventually('the informer to see it', () =>
      Promise.resolve(informer.get(namespace, 'after-timeouts') ? true : undefined),
    );
    expect(seen).toContain('add:after-timeouts');
    expect(informer.restarts).toBe(0);
    expect(logs.filter((l) => /restarting|relisting/.test(l))).toEqual([]);
  } finally {
    informer.stop();
  }
}, 60_000);

test('two replicas: one leads; killed, the other takes over within the lease', async () => {
  const lease = [
    '--leader-elect',
    '--leader-election-namespace',
    namespace,
    '--lease-duration',
    '4s',
  ];
  const a = startOperator(lease);
  const b = startOperator(lease);
  const leader = await eventually('a leader', () =>
    Promise.resolve(
      a.log().includes('became the leader')
        ? a
        : b.log().includes('became the leader')
          ? b
          : undefined,
    ),
  );
  const standby = leader === a ? b : a;
  await new Promise((r) => setTimeout(r, 2000));
  expect(standby.log()).not.toContain('became the leader'); // only one at a time
  const holder = await kubectlJson<{ spec: { holderIdentity: string } }>([
    'get',
    'lease',
    'edgewarden-operator',
    '-n',
    namespace,
  ]);
  expect(holder.spec.holderIdentity).toContain(`_${leader.proc.pid}`);

  leader.proc.kill('SIGKILL');
  const killedAt = Date.now();
  await eventually('the standby to take over', () =>
    Promise.resolve(standby.log().includes('became the leader') ? true : undefined),
  );
  const takeover = Date.now() - killedAt;
  // The lease lasts 4 s from its last renewal (at most a second before the kill), and the
  // standby tries every second: the takeover comes within the lease and one try after it.
  expect(takeover).toBeLessThan(4000 + 1000);
  console.log(`leader killed; the standby took over after ${takeover} ms (lease 4 s)`);

  // And it reconciles.
  await kubectl([
    'create',
    'secret',
    'generic',
    'led-db',
    '-n',
    namespace,
    '--from-literal=url=postgresql://x@y/z',
  ]);
  await kubectl(
    ['apply', '-f', '-'],
    `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: led, namespace: ${namespace} }
spec: { agent: auth, source: { secretRef: { name: led-db } } }
`,
  );
  await eventually('the new leader to reconcile', async () => {
    const s = await kubectlJson<{ status?: { readyReplicas?: number } }>([
      'get',
      'analysisagent',
      'led',
      '-n',
      namespace,
    ]);
    return s.status?.readyReplicas === 1 ? true : undefined;
  });
  standby.proc.kill('SIGTERM');
  await exited(standby.proc);
  await kubectl(['delete', 'analysisagent', 'led', '-n', namespace]);
}, 120_000);

test('killed mid-reconcile and restarted, the operator converges with no duplicate children', async () => {
  const names = Array.from({ length: 12 }, (_, i) => `burst-${i}`);
  await kubectl([
    'create',
    'secret',
    'generic',
    'burst-db',
    '-n',
    namespace,
    '--from-literal=url=postgresql://x@y/z',
  ]);
  const first = startOperator([]);
  await eventually('caches synced', () =>
    Promise.resolve(first.log().includes('caches synced') ? true : undefined),
  );
  await kubectl(
    ['apply', '-f', '-'],
    names
      .map(
        (n) => `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${n}, namespace: ${namespace} }
spec: { agent: system, source: { secretRef: { name: burst-db } } }
`,
      )
      .join('---\n'),
  );
  // Kill it as soon as it has written some children, not all.
  await eventually('some children', async () => {
    const n = (await kubectl(['get', 'statefulsets', '-n', namespace, '-o', 'name']))
      .trim()
      .split('\n')
      .filter(Boolean).length;
    return n > 0 ? true : undefined;
  });
  first.proc.kill('SIGKILL');
  await exited(first.proc);

  const second = startOperator([]);
  await eventually(
    'every agent ready, its generation observed',
    async () => {
      const list = await kubectlJson<{
        items: {
          metadata: { name: string; generation: number };
          status?: { observedGeneration?: number; readyReplicas?: number };
        }[];
      }>(['get', 'analysisagents', '-n', namespace]);
      const burst = list.items.filter((a) => a.metadata.name.startsWith('burst-'));
      return burst.length === names.length &&
        burst.every(
          (a) =>
            a.status?.observedGeneration === a.metadata.generation && a.status?.readyReplicas === 1,
        )
        ? true
        : undefined;
    },
    90_000,
  );
  for (const kind of ['statefulsets', 'services', 'configmaps', 'serviceaccounts']) {
    const items = (
      await kubectl([
        'get',
        kind,
        '-n',
        namespace,
        '-l',
        'app.kubernetes.io/managed-by=edgewarden-operator',
        '-o',
        'jsonpath={.items[*].metadata.name}',
      ])
    )
      .split(' ')
      .filter((n) => n.startsWith('burst-'));
    expect(items.sort()).toEqual(names.map((n) => `${n}-agent`).sort());
  }
  second.proc.kill('SIGTERM');
  await exited(second.proc);
  expect(second.proc.exitCode).toBe(0); // a clean shutdown on SIGTERM
}, 180_000);
