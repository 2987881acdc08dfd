// A ModelDeployment whose agent pod does not answer its offers, reconciled pass after pass
// against in-memory caches and a fake API client: the failure that reaches the status and
// the Events names the request, the pod and its address, and the operator logs it at the
// default verbosity: the first failure, a change, one line per ten minutes while it repeats
// (not one per poll), and the recovery.
import type {
  ModelOfferRequest,
  ServedModel,
} from '../../../../agent-runtime/src/contract/index.js';
import type { StoredAgent } from '../../domain/analysisAgent/desired.js';
import type { AgentReport } from '../../domain/analysisAgent/status.js';
import type { StoredModelDeployment } from '../../domain/modelDeployment/rollout.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { Cache } from '../../runtime/informer.js';
import type { KubeClient, KubeObject } from '../../runtime/kubeClient.js';
import { jsonLogger } from '../../../../api/src/log.js';
import { IgnoredPods } from '../../runtime/ignoredPods.js';
import { RepeatedFailures } from '../../runtime/repeatedFailures.js';
import type { AgentPod } from '../../domain/agentPod.js';
import { AgentRequestError } from '../../domain/agentRequest.js';
import type { ModelContext } from './context.js';
import { OfferRefused } from './offerRefused.js';
import { reconcileModelDeployment } from './reconcile.js';

/** A cache over a fixed list, as an informer's would be. */
function cache<T extends KubeObject>(items: () => T[]): Cache<T> {
  return {
    on: () => undefined,
    get: (namespace, name) =>
      items().find((i) => i.metadata.namespace === namespace && i.metadata.name === name),
    list: (namespace) => items().filter((i) => !namespace || i.metadata.namespace === namespace),
    hasSynced: true,
    waitForSync: () => Promise.resolve(),
    start: () => undefined,
    stop: () => undefined,
  };
}

type Status = {
  lastFailure?: { reason: string; message: string; time: string };
  conditions?: { type: string; status: string; reason: string; message: string }[];
  rollout?: { phase: string };
};

/** The agent's StatefulSet, which the agent controls, and a controller reference to it. */
const statefulSet: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: {
    name: 'dns-agent',
    namespace: 'home',
    uid: 'set-1',
    ownerReferences: [
      {
        apiVersion: 'edgewarden.io/v1alpha1',
        kind: 'AnalysisAgent',
        name: 'dns',
        uid: 'agent-1',
        controller: true,
      },
    ],
  },
};
const setRef = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  name: 'dns-agent',
  uid: 'set-1',
  controller: true,
};

function world() {
  const md = {
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'ModelDeployment',
    metadata: { name: 'dns-model', namespace: 'home', uid: 'md-1', generation: 1 },
    spec: {
      agent: 'dns',
      version: '2026.12.1',
      features: ['queries'],
      source: { configMap: { name: 'dns-2026-12-1', key: 'model.onnx' } },
    },
  } as Omit<StoredModelDeployment, 'status'> & KubeObject & { status?: Status };
  const agent = {
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'AnalysisAgent',
    metadata: { name: 'dns', namespace: 'home', uid: 'agent-1' },
    spec: { agent: 'dns', source: { secretRef: { name: 'db' } }, model: { name: 'dns-model' } },
  } as StoredAgent & KubeObject;
  const pod: AgentPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'dns-agent-0',
      namespace: 'home',
      labels: { 'app.kubernetes.io/instance': 'dns' },
      ownerReferences: [setRef],
    },
    status: { phase: 'Running', podIP: '10.42.0.7' },
  };
  const logLines: Record<string, unknown>[] = [];
  const events: [string, string, string][] = [];
  let now = Date.parse('2026-12-01T10:00:00Z');
  /** What the pod does with the next offer. */
  let offer: (o: ModelOfferRequest) => Promise<{ sha256: string }> = () =>
    Promise.reject(
      new AgentRequestError(
        { method: 'PUT', path: '/model', pod: 'dns-agent-0', address: '10.42.0.7:8080' },
        'no answer within 120 s',
      ),
    );
  /** The model source's labels (a model source must be labelled so), and what was read of it. */
  let sourceLabels: Record<string, string> = { 'edgewarden.io/model-source': 'true' };
  const reads: string[] = [];
  const client = {
    // Metadata only (PartialObjectMetadata): the labels are checked before any data is read.
    request: (_method: string, path: string) => {
      reads.push(`metadata ${path}`);
      return Promise.resolve({ metadata: { name: 'dns-2026-12-1', labels: sourceLabels } });
    },
    find: (_r: unknown, _namespace: string, name: string) => {
      reads.push(`object ${name}`);
      return Promise.resolve({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'dns-2026-12-1', labels: sourceLabels },
        binaryData: { 'model.onnx': 'AAAA' },
      });
    },
    // As the informer would see it on the next pass.
    applyStatus: (_r: unknown, o: { status: Status }) => {
      md.status = o.status;
      return Promise.resolve();
    },
  } as unknown as KubeClient;
  const ctx: ModelContext = {
    client,
    log: jsonLogger({
      verbosity: 0,
      write: (l) => logLines.push(JSON.parse(l) as Record<string, unknown>),
    }),
    events: {
      record: (_o: unknown, type: string, reason: string, message: string) => {
        events.push([type, reason, message]);
        return Promise.resolve();
      },
    } as unknown as EventRecorder,
    models: cache(() => [md as StoredModelDeployment & KubeObject]),
    agents: cache(() => [agent]),
    pods: cache(() => [pod]),
    statefulSets: cache(() => [statefulSet]),
    ignoredPods: new IgnoredPods(),
    fetchStatus: (): Promise<AgentReport> =>
      Promise.resolve({
        pod: 'dns-agent-0',
        ready: true,
        sourceReachable: true,
        linesAnalyzed: 0,
        anomalies: { total: 0, last24h: 0 },
      }),
    offer: (_pod, _token, o) =>
      offer(o).then((r) => ({
        version: o.version,
        sha256: r.sha256,
        dryRun: o.dryRun ?? false,
        golden: { rows: 1, flagged: 0 },
      })),
    unload: () => Promise.resolve(),
    controlKey: new Uint8Array(32),
    failures: new RepeatedFailures(),
    pollMs: 30_000,
    now: () => new Date(now),
  };
  return {
    md,
    ctx,
    logLines,
    events,
    pass: () => reconcileModelDeployment(ctx, 'home', 'dns-model'),
    wait: (ms: number) => void (now += ms),
    answer: (f: typeof offer) => void (offer = f),
    labelSource: (labels: Record<string, string>) => void (sourceLabels = labels),
    reads,
  };
}

const TIMEOUT = 'PUT /model to pod dns-agent-0 at 10.42.0.7:8080: no answer within 120 s';

test('a validation offer that times out: named in status and Event, logged once per change', async () => {
  const w = world();
  await w.pass();
  // The status and the Event say which pod, at which address, did not answer which request.
  expect(w.md.status?.lastFailure).toMatchObject({ reason: 'AgentUnreachable', message: TIMEOUT });
  expect(w.md.status?.conditions?.find((c) => c.type === 'Validated')).toMatchObject({
    status: 'False',
    reason: 'AgentUnreachable',
    message: TIMEOUT,
  });
  expect(w.events).toContainEqual([
    'Warning',
    'AgentUnreachable',
    `2026.12.1 not validated yet (retried every poll): ${TIMEOUT}; the agents keep running on their rules`,
  ]);
  // And the log, at the default verbosity (v 0).
  expect(w.logLines).toEqual([
    expect.objectContaining({
      v: 0,
      msg: 'model validate failed',
      namespace: 'home',
      name: 'dns-model',
      pod: 'dns-agent-0',
      step: 'validate',
      reason: 'AgentUnreachable',
      version: '2026.12.1',
      err: TIMEOUT,
    }),
  ]);

  // Polled every 30 s for nine minutes: the same failure, neither logged nor an Event again.
  for (let i = 0; i < 18; i++) {
    w.wait(30_000);
    await w.pass();
  }
  expect(w.logLines).toHaveLength(1);
  expect(w.events).toHaveLength(2); // RolloutStarted, and the failure
  // Ten minutes after the first line: one line, with how many were not logged.
  w.wait(60_000);
  await w.pass();
  expect(w.logLines).toHaveLength(2);
  expect(w.logLines[1]).toMatchObject({
    v: 0,
    msg: 'model validate failed',
    err: TIMEOUT,
    repeated: 19,
    failingSince: '2026-12-01T10:00:00.000Z',
  });

  // Another failure is logged at once, and is a new Event.
  const refused =
    'PUT /model to pod dns-agent-0 at 10.42.0.7:8080: connection refused (nothing listens on that port)';
  w.answer(() =>
    Promise.reject(
      new AgentRequestError(
        { method: 'PUT', path: '/model', pod: 'dns-agent-0', address: '10.42.0.7:8080' },
        'connection refused (nothing listens on that port)',
      ),
    ),
  );
  w.wait(30_000);
  await w.pass();
  expect(w.logLines).toHaveLength(3);
  expect(w.logLines[2]).toMatchObject({ msg: 'model validate failed', err: refused });
  expect(w.events.at(-1)).toEqual([
    'Warning',
    'AgentUnreachable',
    `2026.12.1 not validated yet (retried every poll): ${refused}; the agents keep running on their rules`,
  ]);

  // The pod answers: its recovery is logged, once.
  w.answer(() => Promise.resolve({ sha256: 'a'.repeat(64) }));
  w.wait(30_000);
  await w.pass();
  expect(w.md.status?.rollout?.phase).not.toBe('Validating');
  expect(w.logLines.slice(3)).toContainEqual(
    expect.objectContaining({
      v: 0,
      msg: 'model validate works again',
      pod: 'dns-agent-0',
      failures: 21,
      failingSince: '2026-12-01T10:00:00.000Z',
    }),
  );
});

test('a delivery that times out is named in status and an Event, and logged', async () => {
  const w = world();
  // Validation passes; then every real offer times out.
  w.answer((o) =>
    o.dryRun
      ? Promise.resolve({ sha256: 'a'.repeat(64) })
      : Promise.reject(
          new AgentRequestError(
            { method: 'PUT', path: '/model', pod: 'dns-agent-0', address: '10.42.0.7:8080' },
            'no answer within 120 s',
          ),
        ),
  );
  await w.pass();
  expect(w.md.status?.lastFailure).toMatchObject({ reason: 'AgentUnreachable', message: TIMEOUT });
  expect(w.md.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
    status: 'False',
    reason: 'AgentUnreachable',
    message: TIMEOUT,
  });
  expect(w.events).toContainEqual([
    'Warning',
    'AgentUnreachable',
    `2026.12.1 not delivered yet (retried every poll): ${TIMEOUT}`,
  ]);
  expect(w.logLines).toContainEqual(
    expect.objectContaining({
      v: 0,
      msg: 'model offer failed',
      pod: 'dns-agent-0',
      step: 'offer',
      version: '2026.12.1',
      err: TIMEOUT,
    }),
  );
  const lines = w.logLines.length;
  const events = w.events.length;
  const failedAt = w.md.status?.lastFailure?.time;
  w.wait(30_000);
  await w.pass();
  expect(w.logLines).toHaveLength(lines);
  expect(w.events).toHaveLength(events);
  // The same failure keeps its first time: the status does not change every poll.
  expect(w.md.status?.lastFailure?.time).toBe(failedAt);
});

/**
 * Four agent pods serving v1, each serving what it is offered from then on, as its /status
 * then says; a canary of v2 moving one pod a step, judged after a one-minute window.
 */
function fleet() {
  const sha = { v1: 'a'.repeat(64), v2: 'b'.repeat(64) };
  const features = ['queries'];
  const v1Source = { configMap: { name: 'dns-v1', key: 'model.onnx' } };
  const serving = new Map<string, ServedModel | undefined>();
  const names = [0, 1, 2, 3].map((i) => `dns-agent-${i}`);
  for (const name of names)
    serving.set(name, {
      version: 'v1',
      sha256: sha.v1,
      features,
      scored: { windows: 100, flagged: 4, inferenceErrors: 0 },
    });
  const w = world();
  w.md.spec = {
    ...w.md.spec,
    version: 'v2',
    rollout: { strategy: 'Canary', canary: { stepPercent: 25, analysisWindow: '1m' } },
  };
  w.md.status = {
    stable: { version: 'v1', sha256: sha.v1, features, source: v1Source },
    rollout: { revision: 'v1-revision', phase: 'Complete', sha256: sha.v1 },
  } as Status;
  const pods: AgentPod[] = names.map((name, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'home',
      labels: { 'app.kubernetes.io/instance': 'dns' },
      ownerReferences: [setRef],
    },
    status: { phase: 'Running', podIP: `10.42.0.${i + 1}` },
  }));
  const offers: string[] = [];
  const ctx: ModelContext = {
    ...w.ctx,
    pods: cache(() => pods),
    fetchStatus: (pod) =>
      Promise.resolve({
        pod: pod.metadata.name,
        ready: true,
        sourceReachable: true,
        linesAnalyzed: 0,
        anomalies: { total: 0, last24h: 0 },
        model: serving.get(pod.metadata.name),
      }),
    offer: (pod, _token, o) => {
      offers.push(`${o.dryRun ? 'validate' : 'offer'} ${o.version} ${pod.metadata.name}`);
      const sha256 = o.version === 'v2' ? sha.v2 : sha.v1;
      // Once it serves v2, a pod scores windows with it: 2% flagged, under the old 4%.
      if (!o.dryRun)
        serving.set(pod.metadata.name, {
          version: o.version,
          sha256,
          features,
          scored: { windows: 50, flagged: 1, inferenceErrors: 0 },
        });
      return Promise.resolve({
        version: o.version,
        sha256,
        dryRun: !!o.dryRun,
        golden: { rows: 4, flagged: 0 },
      });
    },
  };
  return { ...w, ctx, offers, pass: () => reconcileModelDeployment(ctx, 'home', 'dns-model') };
}

test('a canary over four pods, pass after pass: each pod offered v2 once, one more per step', async () => {
  const f = fleet();
  const phases: string[] = [];
  for (let i = 0; i < 12 && !phases.at(-1)?.startsWith('Complete'); i++) {
    await f.pass();
    const rollout = (f.md.status as { rollout: { phase: string; step?: number } }).rollout;
    phases.push(`${rollout.phase} ${rollout.step ?? ''}`.trim());
    f.wait(61_000);
  }
  expect(phases).toEqual([
    'Progressing 1',
    'Progressing 2',
    'Progressing 3',
    'Progressing 4',
    'Complete 4',
  ]);
  expect(f.offers).toEqual([
    'validate v2 dns-agent-0',
    'offer v2 dns-agent-0',
    'offer v2 dns-agent-1',
    'offer v2 dns-agent-2',
    'offer v2 dns-agent-3',
  ]);
  expect(f.events.map(([, reason]) => reason)).toEqual([
    'RolloutStarted',
    'Validated',
    'CanaryStep',
    'CanaryStep',
    'CanaryStep',
    'CanaryStep',
    'CanaryPassed',
    'RolledOut',
  ]);
  expect(f.md.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
    status: 'True',
    message: 'every agent pod serves v2',
  });
});

test('a ConfigMap not labelled as a model source is refused by name and label, and its data never read', async () => {
  const w = world();
  const offered: ModelOfferRequest[] = [];
  w.answer((o) => (offered.push(o), Promise.resolve({ sha256: 'a'.repeat(64) })));
  w.labelSource({ app: 'something-else' });
  await w.pass();
  const message =
    'ConfigMap dns-2026-12-1 is not labelled edgewarden.io/model-source: "true", which a model source must be';
  expect(w.md.status?.lastFailure).toMatchObject({ reason: 'SourceNotLabelled', message });
  expect(w.md.status?.conditions?.find((c) => c.type === 'Validated')).toMatchObject({
    status: 'False',
    reason: 'SourceNotLabelled',
    message,
  });
  expect(w.events.map(([, reason]) => reason)).toContain('SourceNotLabelled');
  expect(w.reads).toEqual(['metadata /api/v1/namespaces/home/configmaps/dns-2026-12-1']);
  expect(offered).toEqual([]);

  // Labelled: retried by itself at the next poll, read and offered.
  w.labelSource({ 'edgewarden.io/model-source': 'true' });
  w.wait(30_000);
  await w.pass();
  expect(w.reads).toContain('object dns-2026-12-1');
  expect(offered[0]).toMatchObject({ source: { inline: 'AAAA' }, dryRun: true });
});

test("an agent's refusal is recorded by reason; a refusal that quotes the source never reaches status, Events or log", async () => {
  const w = world();
  // What today's agent answers for a manifest that is a Secret's value ...
  const secret = 'hunter2-SuperSecret!';
  w.answer(() =>
    Promise.reject(
      new OfferRefused(
        'ManifestInvalid',
        `the manifest of model 2026.12.1 is not JSON: Unexpected token 'h', "${secret}" is not valid JSON`,
        422,
      ),
    ),
  );
  w.labelSource({ 'edgewarden.io/model-source': 'true' });
  await w.pass();
  expect(w.md.status?.lastFailure).toMatchObject({ reason: 'ManifestInvalid' });
  const seen = JSON.stringify([w.md.status, w.events, w.logLines]);
  for (let i = 0; i + 6 <= secret.length; i++) expect(seen).not.toContain(secret.slice(i, i + 6));
});

test("pods with the agent's labels that its StatefulSet does not control: never asked, never offered, logged once", async () => {
  const w = world();
  const real = w.ctx.pods.list('home')[0]!;
  const impostor = (name: string, ownerReferences?: (typeof setRef)[]): AgentPod => ({
    ...real,
    metadata: { ...real.metadata, name, uid: name, ownerReferences },
    status: { phase: 'Running', podIP: '10.42.0.66' },
  });
  const pods = [
    real,
    impostor('dns-agent-7'), // no owner
    impostor('dns-agent-8', [{ ...setRef, uid: 'set-0' }]), // the set's name, an older uid
    impostor('dns-other-0', [{ ...setRef, name: 'other', uid: 'set-2' }]), // another set
  ];
  const asked: string[] = [];
  const ctx: ModelContext = {
    ...w.ctx,
    pods: cache(() => pods),
    fetchStatus: (p) => {
      asked.push(`status ${p.metadata.name}`);
      return w.ctx.fetchStatus(p);
    },
    offer: (p, token, o) => {
      asked.push(`offer ${p.metadata.name}`);
      return w.ctx.offer(p, token, o);
    },
  };
  await reconcileModelDeployment(ctx, 'home', 'dns-model');
  w.wait(30_000);
  await reconcileModelDeployment(ctx, 'home', 'dns-model');
  expect(asked).toContain('status dns-agent-0');
  expect(asked).toContain('offer dns-agent-0');
  expect(asked.filter((a) => !a.endsWith(' dns-agent-0'))).toEqual([]);
  const ignored = w.logLines.filter((l) => String(l.msg).startsWith('ignored a pod'));
  expect(ignored.map((l) => [l.pod, l.podController])).toEqual([
    ['dns-agent-7', 'none'],
    ['dns-agent-8', 'StatefulSet/dns-agent'],
    ['dns-other-0', 'StatefulSet/other'],
  ]);
});
