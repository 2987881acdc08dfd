// ModelDeployment rollouts, end to end: a real API server and the operator as a process; an
// auth AnalysisAgent whose pod the test cluster's real node runs (kubelet, containerd, the
// image built from our Dockerfile), reading a real PostgreSQL that gets a failed login every
// second; models in ConfigMaps (binaryData) and behind a real HTTP server. Forward,
// refusals, a canary rolled back by itself, an edit back, an operator killed mid-rollout, and
// a model whose manifest.json travels with it. The agent's container is the same one
// throughout (the kubelet reports no restart): every model reaches it hot. What the pod
// connects to (PostgreSQL, the model server) listens on the node's address, where pods reach
// this machine (EDGEWARDEN_E2E_HOST_ADDRESS); the test and the operator reach the agent at
// its pod IP.
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { stringify as toYaml } from 'yaml';

import { logisticRegressionOnnx, twoOutputOnnx } from '../fixtures/onnx.js';
import {
  startPostgres,
  type PostgresServer,
  adminClient,
  createLogTable,
} from '../services/postgres.js';
import {
  createNamespace,
  createSourceSecrets,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  operatorMetrics,
  SOURCE_SECRETS,
  startOperator,
  eventually,
} from '../integration/kube.js';
import { podGet } from './agentApi.js';
import { containerProcess } from './inPod.js';
import { getPod, podLogs, runningPod } from './pods.js';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface ModelDeploymentView {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    activeVersion?: string;
    targetVersion?: string;
    transition?: string;
    updatedAgents?: number;
    totalAgents?: number;
    lastFailure?: { reason: string; message: string };
    history?: { version: string; outcome?: string; reason?: string; servedUntil?: string }[];
    rollout?: { phase: string; canaryPods?: string[] };
    conditions?: Condition[];
  };
}
interface AgentStatusView {
  model?: {
    version?: string;
    sha256?: string;
    threshold?: number;
    scored?: { windows: number; flagged: number };
  };
  drift?: { modelVersion: string };
  linesAnalyzed: number;
}

const POLL = '5s';
const FEATURES = ['lines', 'failures', 'successes', 'failure_sources'];
const AGENT_POD = 'guard-agent-0';
/** This machine as the pods see it: the node's address (jest-global-setup.mjs). */
const hostAddress = process.env.EDGEWARDEN_E2E_HOST_ADDRESS;
let namespace: string;
let postgres: PostgresServer;
let admin: pg.Client;
let operator: { proc: ChildProcess; log: () => string };
let files: Server;
let filesUrl: string;
let dir: string;
let inserting: NodeJS.Timeout | undefined;
/**
 * What says the agent's container is still the one it was: the pod (its uid), the container
 * the kubelet runs (its runtime id, its start time) and how often it has restarted it.
 */
async function agentIdentity(): Promise<{
  uid: string;
  containerID?: string;
  startedAt?: string;
  restartCount?: number;
}> {
  const pod = await getPod(namespace, AGENT_POD);
  const agent = pod.status?.containerStatuses?.find((c) => c.name === 'agent');
  return {
    uid: pod.metadata.uid,
    containerID: agent?.containerID,
    startedAt: agent?.state?.running?.startedAt,
    restartCount: agent?.restartCount,
  };
}

const md = (): Promise<ModelDeploymentView> =>
  kubectlJson<ModelDeploymentView>(['get', 'modeldeployment', 'auth-model', '-n', namespace]);
// Through the API server's pod proxy with the agent's read token (issue 20, H2: /status is
// authenticated).
const agentStatus = async (): Promise<AgentStatusView> =>
  JSON.parse(await podGet(namespace, AGENT_POD, '/status')) as AgentStatusView;
const served = async (): Promise<string | undefined> => (await agentStatus()).model?.version;
const condition = (m: ModelDeploymentView, type: string): Condition | undefined =>
  m.status?.conditions?.find((c) => c.type === type);
const events = async (): Promise<string> =>
  kubectl([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    'involvedObject.kind=ModelDeployment',
    '-o',
    'custom-columns=REASON:.reason,MESSAGE:.message',
  ]);

/** A ConfigMap holding model bytes under binaryData (kubectl puts non-UTF-8 files there). */
async function modelConfigMap(name: string, bytes: Uint8Array): Promise<void> {
  const file = path.join(dir, `${name}.onnx`);
  await writeFile(file, bytes);
  await kubectl(['create', 'configmap', name, '-n', namespace, `--from-file=model.onnx=${file}`]);
  await kubectl(['label', 'configmap', name, '-n', namespace, 'edgewarden.io/model-source=true']);
}

/** Edits the ModelDeployment's spec (a merge patch, as `kubectl edit` would leave it). */
async function setSpec(spec: Record<string, unknown>): Promise<void> {
  // A merge patch keeps the other source kinds unless told to drop them.
  const source = spec.source
    ? { configMap: null, secret: null, http: null, persistentVolumeClaim: null, ...spec.source }
    : undefined;
  await kubectl([
    'patch',
    'modeldeployment',
    'auth-model',
    '-n',
    namespace,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { ...spec, ...(source ? { source } : {}) } }),
  ]);
}

const fromConfigMap = (name: string) => ({ configMap: { name, key: 'model.onnx' } });

/** Waits for the status to satisfy `check`, with the operator's and agent's logs on failure. */
async function statusWhere(
  what: string,
  check: (m: ModelDeploymentView) => boolean,
  timeoutMs = 60_000,
): Promise<ModelDeploymentView> {
  let last: ModelDeploymentView | undefined;
  return eventually(
    what,
    async () => {
      last = await md();
      return check(last) ? last : undefined;
    },
    timeoutMs,
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}\nstatus: ${JSON.stringify(last?.status, null, 1)}\noperator:\n${operator.log().slice(-4000)}\nagent:\n${await podLogs(namespace, [AGENT_POD], 40)}`,
    );
  });
}

beforeAll(async () => {
  if (!hostAddress)
    throw new Error('EDGEWARDEN_E2E_HOST_ADDRESS is not set: run with jest.e2e.config.js');
  await installCrds();
  namespace = await createNamespace('rollout');
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-rollout-'));
  // On the node's address too, where the pod reaches it (its certificate names that address).
  postgres = await startPostgres([hostAddress]);
  admin = await adminClient(postgres);
  await createLogTable(admin);
  // A failed login every second: windows keep closing, so models keep scoring.
  let n = 0;
  inserting = setInterval(() => {
    n++;
    void admin
      .query(
        `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
         VALUES ('gw-home', now(), 'warning', 'dropbear', $1)`,
        [`Bad password attempt for 'root' from 192.0.2.${1 + (n % 3)}:${40000 + n}`],
      )
      .catch(() => undefined);
  }, 1000);

  // The web server of a model registry, on the node's address: the agent downloads from it.
  files = createServer((req, res) => {
    if (req.url === '/models/auth-v9.onnx')
      return void res.end(Buffer.from(logisticRegressionOnnx([0, 0, 0, 0], -6)));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => files.listen(0, hostAddress, r));
  filesUrl = `http://${hostAddress}:${(files.address() as AddressInfo).port}`;

  await createSourceSecrets(namespace, postgres, 'reader:reader-secret', hostAddress);
  // Quiet models (they flag nothing), one that flags every window, and broken ones.
  await modelConfigMap('auth-v1', logisticRegressionOnnx([0, 0, 0, 0], -6));
  await modelConfigMap('auth-v2', logisticRegressionOnnx([0.001, 0, 0, 0], -5));
  await modelConfigMap('auth-v3', logisticRegressionOnnx([0.002, 0, 0, 0], -5));
  await modelConfigMap('auth-flood', logisticRegressionOnnx([0, 0, 0, 0], 6));
  await modelConfigMap('auth-corrupt', new Uint8Array(randomBytes(600)));
  await modelConfigMap('auth-narrow', logisticRegressionOnnx([0, 0, 0], -6));

  // The model registry is on the node's (private) address: allowlisted, as a LAN model server
  // is (issue 20, M1), or agents refuse to download from it.
  operator = startOperator(namespace, ['--poll', POLL, '--model-url-allow', hostAddress]);
  await eventually('the operator to sync its caches', () =>
    Promise.resolve(operator.log().includes('caches synced') ? true : undefined),
  );
  await kubectl(
    ['apply', '-f', '-'],
    toYaml({
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'AnalysisAgent',
      metadata: { name: 'guard', namespace },
      spec: {
        agent: 'auth',
        interval: '10s',
        source: {
          ...SOURCE_SECRETS,
        },
        model: { name: 'auth-model' },
      },
    }),
  );
  // The StatefulSet's pod, run by the node.
  await runningPod(namespace, AGENT_POD);
  // The pod holds the digest of its token, never the token itself: read in the environment
  // the kubelet gave the agent's running process.
  const { env } = await containerProcess(namespace, AGENT_POD, 'agent');
  expect(env.EDGEWARDEN_CONTROL_TOKEN_SHA256).toMatch(/^[a-f0-9]{64}$/);
  await eventually('the agent to answer', () => agentStatus(), 120_000).catch(
    async (error: Error) => {
      throw new Error(`${error.message}\nagent:\n${await podLogs(namespace, [AGENT_POD])}`);
    },
  );
}, 240_000);

afterAll(async () => {
  clearInterval(inserting);
  if (operator && operator.proc.exitCode === null) {
    operator.proc.kill('SIGTERM');
    await new Promise((r) => operator.proc.once('exit', r));
  }
  await new Promise((r) => files?.close(r));
  await admin?.end().catch(() => undefined);
  await postgres?.remove();
  // The namespace's pods go with it: the kubelet stops them.
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
  await rm(dir, { recursive: true, force: true });
}, 60_000);

test('the first version, then forward to v2: served within one poll period, without a restart', async () => {
  const before = await agentIdentity();
  expect(before.restartCount).toBe(0);
  await kubectl(
    ['apply', '-f', '-'],
    toYaml({
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'ModelDeployment',
      metadata: { name: 'auth-model', namespace },
      spec: {
        agent: 'auth',
        version: 'v1',
        features: FEATURES,
        threshold: 0.9,
        source: fromConfigMap('auth-v1'),
      },
    }),
  );
  const first = await statusWhere('v1 rolled out', (m) => m.status?.transition === 'UpToDate');
  expect(first.status).toMatchObject({
    activeVersion: 'v1',
    targetVersion: 'v1',
    updatedAgents: 1,
    totalAgents: 1,
  });
  expect(condition(first, 'Validated')?.status).toBe('True');
  expect(await served()).toBe('v1');

  const linesBefore = (await agentStatus()).linesAnalyzed;
  await setSpec({ version: 'v2', source: fromConfigMap('auth-v2') });
  const edited = Date.now();
  await eventually(
    'the agent to serve v2',
    async () => ((await served()) === 'v2' ? true : undefined),
    5_000,
  );
  const seconds = (Date.now() - edited) / 1000;
  const second = await statusWhere(
    'v2 rolled out',
    (m) => m.status?.activeVersion === 'v2' && m.status.transition === 'UpToDate',
  );
  expect(second.status).toMatchObject({
    targetVersion: 'v2',
    updatedAgents: 1,
    totalAgents: 1,
    observedGeneration: second.metadata.generation,
  });
  expect(['Ready', 'Validated', 'RolledOut'].map((t) => condition(second, t)?.status)).toEqual([
    'True',
    'True',
    'True',
  ]);
  expect(second.status?.history?.map((h) => [h.version, h.outcome])).toEqual([
    ['v2', 'Serving'],
    ['v1', 'Replaced'],
  ]);
  // The printer columns: agent, active, target, transition, ready.
  const row = await kubectl(['get', 'ewmodel', 'auth-model', '-n', namespace, '--no-headers']);
  expect(row.split(/\s+/).slice(0, 6)).toEqual([
    'auth-model',
    'auth',
    'v2',
    'v2',
    'UpToDate',
    'True',
  ]);
  // The AnalysisAgent says which version it serves.
  await eventually('the AnalysisAgent to show v2', async () =>
    (await kubectl([
      'get',
      'analysisagent',
      'guard',
      '-n',
      namespace,
      '-o',
      'jsonpath={.status.modelVersion}',
    ])) === 'v2'
      ? true
      : undefined,
  );
  // Same pod, same container, never restarted by the kubelet (a restart would change its id,
  // its start time and its count); its log (the container's own, all of it) shows one start.
  // Anomalies (the analysis) keep flowing.
  expect(await agentIdentity()).toEqual(before);
  const log = await kubectl(['logs', '-n', namespace, AGENT_POD, '-c', 'agent']);
  expect(log.match(/serving on port/g)).toHaveLength(1);
  await eventually('more lines analysed under v2', async () =>
    (await agentStatus()).linesAnalyzed > linesBefore ? true : undefined,
  );
  console.log(`v2 served ${seconds.toFixed(2)} s after the edit (poll period ${POLL})`);
});

test.each([
  [
    'a wrong sha256',
    { http: { url: '/models/auth-v9.onnx', sha256: 'ab'.repeat(32) } },
    'ChecksumMismatch',
    'BlockedByFailedLoad',
  ],
  ['a corrupt file', fromConfigMap('auth-corrupt'), 'InvalidModel', 'BlockedByFailedLoad'],
  [
    'the wrong number of inputs',
    fromConfigMap('auth-narrow'),
    'InputShapeMismatch',
    'BlockedByFailedLoad',
  ],
  ['a missing ConfigMap', fromConfigMap('no-such-model'), 'SourceNotFound', 'InvalidSpec'],
])('%s is refused with its reason; v2 keeps serving', async (_what, source, reason, transition) => {
  const s = source as Record<string, { url?: string }>;
  if (s.http) s.http.url = `${filesUrl}${s.http.url}`;
  await setSpec({ version: `bad-${reason.toLowerCase()}`, source });
  const refused = await statusWhere(
    `${reason} in status`,
    (m) => m.status?.lastFailure?.reason === reason,
  );
  expect(refused.status).toMatchObject({ transition, activeVersion: 'v2', updatedAgents: 0 });
  expect(condition(refused, 'Ready')).toMatchObject({ status: 'False', reason });
  expect(refused.status?.lastFailure?.message).toBeTruthy();
  if (reason !== 'SourceNotFound') {
    expect(condition(refused, 'Validated')).toMatchObject({ status: 'False', reason });
    expect(refused.status?.history?.[0]).toMatchObject({
      version: `bad-${reason.toLowerCase()}`,
      outcome: 'Refused',
    });
    await eventually(`an Event for ${reason}`, async () =>
      (await events()).includes(reason) ? true : undefined,
    );
  }
  expect(await served()).toBe('v2');
});

test('a canary that floods anomalies is rolled back after its analysis window, saying why', async () => {
  await setSpec({
    version: 'flood-1',
    source: fromConfigMap('auth-flood'),
    rollout: {
      strategy: 'Canary',
      // Two minutes of 10 s windows: enough scored windows (CANARY_MIN_WINDOWS) to judge the rate.
      canary: { stepPercent: 50, analysisWindow: '2m' },
      autoRollback: true,
    },
  });
  await eventually(
    'the canary pod to serve flood-1',
    async () => ((await served()) === 'flood-1' ? true : undefined),
    20_000,
  );
  const during = await md();
  expect(during.status).toMatchObject({
    transition: 'InProgress',
    activeVersion: 'v2',
    rollout: { phase: 'Progressing', canaryPods: ['guard-agent-0'] },
  });
  const rolledBack = await statusWhere(
    'the canary rolled back',
    (m) => m.status?.transition === 'RolledBack',
    200_000,
  );
  expect(rolledBack.status).toMatchObject({
    activeVersion: 'v2',
    lastFailure: { reason: 'AnomalyRateTooHigh' },
  });
  expect(rolledBack.status?.lastFailure?.message).toMatch(/flood-1 flagged 100\.0% of \d+ windows/);
  expect(rolledBack.status?.history?.[0]).toMatchObject({
    version: 'flood-1',
    outcome: 'RolledBack',
  });
  expect(condition(rolledBack, 'RolledOut')).toMatchObject({
    status: 'False',
    reason: 'RolledBack',
  });
  expect(await served()).toBe('v2');
  await eventually('a RolledBack Event', async () =>
    (await events()).includes('RolledBack') ? true : undefined,
  );
  // The operator reports the transition, for the EdgewardenModelRolloutFailed alert.
  expect(await operatorMetrics(operator)).toContain(
    `edgewarden_operator_modeldeployment_transition{resource_namespace="${namespace}",modeldeployment="auth-model",transition="RolledBack"} 1`,
  );
}, 300_000);

test('editing back to v1 is a clean rollback; the history shows every attempt', async () => {
  await setSpec({
    version: 'v1',
    source: fromConfigMap('auth-v1'),
    rollout: { strategy: 'AllAtOnce', canary: null },
  });
  const back = await statusWhere(
    'v1 rolled out again',
    (m) => m.status?.activeVersion === 'v1' && m.status.transition === 'UpToDate',
  );
  expect(back.status).toMatchObject({
    targetVersion: 'v1',
    updatedAgents: 1,
  });
  expect(back.status?.lastFailure).toBeUndefined();
  expect(await served()).toBe('v1');
  expect(back.status?.history?.map((h) => [h.version, h.outcome])).toEqual([
    ['v1', 'Serving'],
    ['flood-1', 'RolledBack'],
    ['bad-inputshapemismatch', 'Refused'],
    ['bad-invalidmodel', 'Refused'],
    ['bad-checksummismatch', 'Refused'],
    ['v2', 'Replaced'],
    ['v1', 'Replaced'],
  ]);
});

test('an operator killed mid-rollout: the new one resumes the canary and completes it', async () => {
  await setSpec({
    version: 'v3',
    source: fromConfigMap('auth-v3'),
    rollout: { strategy: 'Canary', canary: { stepPercent: 100, analysisWindow: '30s' } },
  });
  await statusWhere(
    'the canary step under way',
    (m) => m.status?.rollout?.phase === 'Progressing' && m.status.updatedAgents === 1,
  );
  operator.proc.kill('SIGKILL');
  await new Promise((r) => operator.proc.once('exit', r));
  expect(await served()).toBe('v3'); // the canary pod keeps what it was given
  operator = startOperator(namespace, ['--poll', POLL, '--model-url-allow', hostAddress!]);
  const done = await statusWhere(
    'v3 completed by the new operator',
    (m) => m.status?.activeVersion === 'v3' && m.status.transition === 'UpToDate',
    90_000,
  );
  expect(done.status?.history?.slice(0, 2).map((h) => [h.version, h.outcome])).toEqual([
    ['v3', 'Serving'],
    ['v1', 'Replaced'],
  ]);
  expect(await served()).toBe('v3');
  expect(await events()).toContain('CanaryPassed');
});

test('a model with its manifest.json in the ConfigMap: served with the output it names, its threshold and summary', async () => {
  // skl2onnx's shape: `label` first (1 for every window here), then `scores` (6: normal).
  // Read by its first output it would flag every window; its manifest says to read
  // −scores, which flags none.
  const bytes = twoOutputOnnx([0, 0, 0, 0], 6);
  const trained = {
    version: 'sk-1',
    agent: 'auth',
    features: FEATURES,
    threshold: 0.5,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    output: { name: 'scores', scale: -1, shift: 0 },
    summary: Object.fromEntries(
      FEATURES.map((f) => [
        f,
        { count: 100, mean: 1, std: 1, quantiles: Array.from({ length: 101 }, (_, i) => i / 50) },
      ]),
    ),
  };
  const withManifest = async (name: string, manifest: object): Promise<void> => {
    const model = path.join(dir, `${name}.onnx`);
    const json = path.join(dir, `${name}.json`);
    await writeFile(model, bytes);
    await writeFile(json, JSON.stringify(manifest, null, 2));
    await kubectl([
      'create',
      'configmap',
      name,
      '-n',
      namespace,
      `--from-file=model.onnx=${model}`,
      `--from-file=manifest.json=${json}`,
    ]);
    await kubectl(['label', 'configmap', name, '-n', namespace, 'edgewarden.io/model-source=true']);
  };
  await withManifest('auth-sk-1', trained);
  await withManifest('auth-sk-reordered', { ...trained, features: [...FEATURES].reverse() });

  await setSpec({
    version: 'sk-1',
    threshold: null, // the manifest's applies
    source: { configMap: { name: 'auth-sk-1', key: 'model.onnx', manifestKey: 'manifest.json' } },
    rollout: { strategy: 'AllAtOnce', canary: null },
  });
  await statusWhere(
    'sk-1 rolled out',
    (m) => m.status?.activeVersion === 'sk-1' && m.status.transition === 'UpToDate',
    90_000,
  );
  const status = await eventually('sk-1 to score windows', async () => {
    const s = await agentStatus();
    return s.model?.version === 'sk-1' && (s.model.scored?.windows ?? 0) >= 2 ? s : undefined;
  });
  expect(status.model).toMatchObject({ threshold: 0.5, scored: { flagged: 0 } });
  expect(status.drift?.modelVersion).toBe('sk-1'); // its training summary arrived

  // A manifest of the same features in another order is the spec's mistake, caught in validation.
  await setSpec({
    version: 'sk-2',
    source: {
      configMap: { name: 'auth-sk-reordered', key: 'model.onnx', manifestKey: 'manifest.json' },
    },
  });
  const refused = await statusWhere(
    'the reordered manifest refused',
    (m) => m.status?.lastFailure?.reason === 'FeatureMismatch',
  );
  expect(refused.status).toMatchObject({ transition: 'InvalidSpec', activeVersion: 'sk-1' });
  expect(refused.status?.lastFailure?.message).toContain('same order');
  expect(await served()).toBe('sk-1');
});
