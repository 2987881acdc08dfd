// What only a real node shows (test/node/: kubelet, containerd, runc, kube-proxy, CoreDNS,
// local-path claims), with the chart installed as a user installs it and the image built from
// our Dockerfile:
//  - an agent's container killed (SIGKILL, as a crash or the OOM killer would) is restarted in
//    place by the kubelet, and the agent resumes on its claim with nothing lost or doubled;
//  - every pod the product makes (the operator's, an agent's, an export Job's) runs under the
//    restricted profile as the runtime enforces it: the OCI spec runc was given (crictl
//    inspect), and the running process itself (uid, capabilities, no_new_privs, seccomp, a
//    read-only root);
//  - the export pod reaches the agents by their Service names (cluster DNS, through CoreDNS),
//    and writes to a claim the local-path provisioner made;
//  - every command of the image works under that profile, in a pod.
// The containers are inspected through the node's CRI with crictl (EDGEWARDEN_E2E_CRICTL), and
// killed from this machine (the node): this suite runs on the test cluster's own node.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import type pg from 'pg';

import { logreadTime, scenarios, seededRandom } from '../../agent-runtime/src/demo/attacks.js';
import { SyslogParser } from '../../agent-runtime/src/parse/syslog.js';
import {
  applyObject,
  createNamespace,
  createSourceSecrets,
  deleteCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  repoRoot,
  SOURCE_SECRETS,
  eventually,
} from '../integration/kube.js';
import {
  adminClient,
  createLogTable,
  startPostgres,
  type PostgresServer,
} from '../services/postgres.js';
import { storedAnomalies, type StoredAnomaly } from './agentApi.js';
import { installChart, uninstallChart } from './chart.js';
import { nodeInPod } from './inPod.js';
import { crictl, getPod, killContainerProcess, runtimeContainerId, type NodePod } from './pods.js';

const hostAddress = process.env.EDGEWARDEN_E2E_HOST_ADDRESS!;
const image = process.env.EDGEWARDEN_E2E_IMAGE ?? 'docker.io/library/edgewarden:ci';
const RELEASE = 'ew-node';
const SAMPLE = path.join(repoRoot, 'agent-runtime/data/openwrt/logread-sample.log');

let releaseNs: string;
let ns: string;
let postgres: PostgresServer;
let admin: pg.Client;

interface RuntimeSpec {
  root?: { readonly?: boolean };
  process: {
    user: { uid: number; gid: number };
    noNewPrivileges?: boolean;
    capabilities?: Record<string, string[] | undefined>;
  };
  linux?: {
    seccomp?: { defaultAction: string };
    maskedPaths?: string[];
    resources?: { memory?: { limit?: number } };
  };
}

/** A Kubernetes quantity of bytes (the forms the chart and the operator write) in bytes. */
function bytes(quantity: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!m) throw new Error(`not a byte quantity this test reads: ${quantity}`);
  return Number(m[1]) * { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? '']!;
}

/** The OCI runtime spec containerd handed to runc for this container (crictl inspect). */
async function runtimeSpec(id: string): Promise<RuntimeSpec> {
  const inspected = JSON.parse(await crictl('inspect', id)) as {
    info: { runtimeSpec: RuntimeSpec };
  };
  return inspected.info.runtimeSpec;
}

/** The restricted profile, as runc was asked to apply it. */
function expectRestrictedSpec(what: string, spec: RuntimeSpec): void {
  const capabilities = Object.values(spec.process.capabilities ?? {}).flatMap((c) => c ?? []);
  expect({
    what,
    uid: spec.process.user.uid,
    gid: spec.process.user.gid,
    readOnlyRoot: spec.root?.readonly,
    noNewPrivileges: spec.process.noNewPrivileges,
    capabilities,
    seccomp: spec.linux?.seccomp?.defaultAction,
  }).toEqual({
    what,
    uid: 65532,
    gid: 65532,
    readOnlyRoot: true,
    noNewPrivileges: true,
    capabilities: [],
    // The runtime's default profile: everything not allowed fails (RuntimeDefault).
    seccomp: 'SCMP_ACT_ERRNO',
  });
}

/** The running process, seen from inside: what the kernel applies to it. */
async function expectRestrictedProcess(
  namespace: string,
  podName: string,
  container: string,
): Promise<void> {
  const script = [
    "const fs = require('fs');",
    "const status = Object.fromEntries(fs.readFileSync('/proc/1/status', 'utf8').split('\\n').filter(Boolean).map((l) => l.split(/:\\s+/)));",
    "let root = 'writable';",
    "try { fs.writeFileSync('/edgewarden-probe', 'x'); } catch (e) { root = e.code; }",
    'process.stdout.write(JSON.stringify({ uid: status.Uid, gid: status.Gid, capEff: status.CapEff, capBnd: status.CapBnd, noNewPrivs: status.NoNewPrivs, seccomp: status.Seccomp, root }));',
  ].join('\n');
  const seen = JSON.parse(await nodeInPod(namespace, podName, container, script)) as Record<
    string,
    string
  >;
  expect({ pod: podName, ...seen }).toEqual({
    pod: podName,
    uid: '65532\t65532\t65532\t65532',
    gid: '65532\t65532\t65532\t65532',
    capEff: '0000000000000000',
    capBnd: '0000000000000000',
    noNewPrivs: '1',
    seccomp: '2', // SECCOMP_MODE_FILTER
    root: 'EROFS',
  });
}

// ---- the collector's rows -------------------------------------------------------------------

const parser = new SyslogParser();

/** Inserts logread lines as the collector stores them, stamped `at` onwards, a millisecond apart. */
async function insertLines(device: string, lines: string[], at: number): Promise<number> {
  const rows = lines.map((line, i) => {
    const parsed = parser.parse(line);
    if (!parsed.ok) throw new Error(`unparsable line: ${line}`);
    const r = parsed.record;
    return { time: at + i, level: r.level ?? 'info', program: r.program ?? '', message: r.message };
  });
  await admin.query(
    `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
     SELECT $1, to_timestamp(t / 1000.0), l, p, m
     FROM unnest($2::float8[], $3::text[], $4::text[], $5::text[]) AS u(t, l, p, m)`,
    [
      device,
      rows.map((r) => r.time),
      rows.map((r) => r.level),
      rows.map((r) => r.program),
      rows.map((r) => r.message),
    ],
  );
  return rows.length;
}

/** The SSH brute force of the demo's attacks, as logread lines (insertLines stamps them). */
function bruteForce(seed: number): string[] {
  const scenario = scenarios.find((s) => s.agent === 'auth')!;
  return scenario.lines(seededRandom(seed)).map(([, rest]) => `${logreadTime(Date.now())} ${rest}`);
}

/** A past window of the agent's interval (10 s): an attack stamped there lies in that one. */
const pastWindow = (): number => Math.floor(Date.now() / 10_000) * 10_000 - 20_000;

async function rowCount(): Promise<number> {
  return Number(
    (await admin.query<{ n: string }>('SELECT count(*) AS n FROM log_entries')).rows[0]!.n,
  );
}

interface AgentStatus {
  readyReplicas?: number;
  linesAnalyzed?: number;
  anomalies?: { total: number };
}
const agentStatus = async (name: string): Promise<AgentStatus> =>
  (await kubectlJson<{ status?: AgentStatus }>(['get', 'analysisagent', name, '-n', ns])).status ??
  {};

/** What a user stuck on a step would look at: the pods, and the agent's log. */
async function situation(): Promise<string> {
  const pods = await kubectlRun(['get', 'pods,pvc', '-n', ns, '-o', 'wide']);
  const log = await kubectlRun(['logs', '-n', ns, 'auth-agent-0', '--tail=30']);
  return `${pods.stdout}${pods.stderr}\nagent log:\n${log.stdout}${log.stderr}`;
}
const until = <T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 180_000,
): Promise<T> =>
  eventually(what, check, timeoutMs).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${await situation()}`);
  });

beforeAll(async () => {
  if (!hostAddress)
    throw new Error('EDGEWARDEN_E2E_HOST_ADDRESS is not set: run through jest.e2e.config.js');
  // As on a fresh cluster (Helm does not take over CRDs another suite applied with kubectl).
  await deleteCrds();
  const restricted = { 'pod-security.kubernetes.io/enforce': 'restricted' };
  releaseNs = await createNamespace('ew-node-system', restricted);
  ns = await createNamespace('ew-node-home', restricted);
  postgres = await startPostgres([hostAddress]);
  admin = await adminClient(postgres);
  await createLogTable(admin);
  await createSourceSecrets(ns, postgres, 'reader:reader-secret', hostAddress);
  await installChart(RELEASE, releaseNs, [
    '--set',
    `operator.watchNamespaces={${ns}}`,
    '--set',
    'operator.pollInterval=2s',
    '--wait',
    '--timeout=3m',
  ]);
}, 300_000);

afterAll(async () => {
  await uninstallChart(RELEASE, releaseNs, [ns]);
  await admin?.end().catch(() => undefined);
  await postgres?.remove();
}, 180_000);

test('an agent container killed by SIGKILL is restarted in place, and resumes with nothing lost or doubled', async () => {
  const start = Date.now() - 30 * 60_000;
  const sample = (await readFile(SAMPLE, 'utf8')).split('\n').filter(Boolean);
  await insertLines('gw-home', sample, start);
  await insertLines('gw-shop', bruteForce(1), pastWindow());
  await applyObject({
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'AnalysisAgent',
    metadata: { name: 'auth', namespace: ns },
    spec: {
      agent: 'auth',
      interval: '10s',
      source: {
        ...SOURCE_SECRETS,
        backfill: '2h',
      },
      storage: { type: 'persistentVolumeClaim', size: '64Mi' },
    },
  });
  const first = await rowCount();
  await until('the agent Ready with every row analysed and the brute force found', async () => {
    const s = await agentStatus('auth');
    return s.readyReplicas === 1 && s.linesAnalyzed === first && (s.anomalies?.total ?? 0) > 0
      ? s
      : undefined;
  });
  const before = await storedAnomalies(ns, 'auth-agent-0');
  const { uid } = (await getPod(ns, 'auth-agent-0')).metadata;

  // New rows with a second brute force from another router, and at once the container killed:
  // the rows arrive while the agent is down, or mid-cycle.
  await insertLines('gw-garden', bruteForce(2), pastWindow());
  const killed = await runtimeContainerId(ns, 'auth-agent-0', 'agent');
  await killContainerProcess(ns, 'auth-agent-0', 'agent');

  const restarted = await until(
    'the kubelet to restart the container in the same pod, Ready again',
    async () => {
      const p = await getPod(ns, 'auth-agent-0');
      const c = p.status?.containerStatuses?.[0];
      return c && c.restartCount >= 1 && c.ready ? p : undefined;
    },
  );
  expect(restarted.metadata.uid).toBe(uid); // restarted in place, not a new pod
  const container = restarted.status!.containerStatuses![0]!;
  expect(container.lastState?.terminated?.exitCode).toBe(137); // SIGKILL
  expect(await runtimeContainerId(ns, 'auth-agent-0', 'agent')).not.toBe(killed);

  const total = await rowCount();
  const converged = await until('every row analysed exactly once after the restart', async () => {
    const s = await agentStatus('auth');
    if ((s.linesAnalyzed ?? 0) > total)
      throw new Error(`${s.linesAnalyzed} lines analysed of ${total}: rows read twice`);
    return s.linesAnalyzed === total ? s : undefined;
  });
  const after = await storedAnomalies(ns, 'auth-agent-0');
  // Everything stored before the kill is still there, unchanged.
  const byId = new Map(after.map((a) => [a.id, a]));
  for (const a of before) expect(byId.get(a.id)).toEqual(a);
  // No anomaly twice, and the new attack once.
  const key = (a: StoredAnomaly): string => `${a.device} ${a.type} ${a.windowStart}`;
  expect(new Set(after.map(key)).size).toBe(after.length);
  const brute = (a: StoredAnomaly): boolean => a.device === 'gw-garden' && a.type === 'brute_force';
  expect(after.filter(brute).length).toBe(1);
  expect(converged.anomalies?.total).toBe(after.length);
});

test('rule tuning in the AnalysisAgent reaches the running pod through the kubelet: no restart; a refused change is named in RulesAccepted', async () => {
  interface Condition {
    type: string;
    status: string;
    reason: string;
    message: string;
  }
  const rulesAccepted = async (): Promise<Condition | undefined> =>
    (
      await kubectlJson<{ status?: { conditions?: Condition[] } }>([
        'get',
        'analysisagent',
        'auth',
        '-n',
        ns,
      ])
    ).status?.conditions?.find((c) => c.type === 'RulesAccepted');
  const tune = (rules: object) =>
    kubectl([
      'patch',
      'analysisagent',
      'auth',
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { rules } }),
    ]);
  const loaded = await until('the pod to report its rules', async () => {
    const c = await rulesAccepted();
    return c?.status === 'True' ? c : undefined;
  });
  expect(loaded.message).toMatch(/^\d+ rules from \d+ packs$/);
  const pod = await getPod(ns, 'auth-agent-0');
  const restarts = pod.status!.containerStatuses![0]!.restartCount;

  // An override of a rule that does not exist: the agent refuses it and goes on with its rules.
  // The kubelet rewrites the mounted ConfigMap in place (within its sync period, about a minute).
  await tune({ overrides: [{ rule: 'auth.no-such-rule', threshold: 3 }] });
  const refused = await until(
    'the running pod to refuse the change',
    async () => {
      const c = await rulesAccepted();
      return c?.status === 'False' ? c : undefined;
    },
    240_000,
  );
  expect(refused.reason).toBe('RulesRefused');
  expect(refused.message).toContain(
    'auth-agent-0: tuning: spec.rules.overrides[0].rule: no rule has the id "auth.no-such-rule"',
  );
  // A change that compiles: in force, the same pod and container throughout.
  await tune({ overrides: [{ rule: 'auth.dropbear-brute-force', threshold: 3 }] });
  await until(
    'the running pod to accept the corrected change',
    async () => ((await rulesAccepted())?.status === 'True' ? true : undefined),
    240_000,
  );
  const after = await getPod(ns, 'auth-agent-0');
  expect(after.metadata.uid).toBe(pod.metadata.uid);
  expect(after.status!.containerStatuses![0]!.restartCount).toBe(restarts);
});

test('the export pod reaches the agents by their Service names, and writes to a claim local-path made', async () => {
  await applyObject({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'exports', namespace: ns },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
  });
  await applyObject({
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'ExportJob',
    metadata: { name: 'anomalies', namespace: ns },
    spec: {
      dataTypes: ['anomalies'],
      timeRange: { last: '24h' },
      format: 'jsonl',
      destination: { persistentVolumeClaim: { claimName: 'exports' }, path: 'node-suite' },
    },
  });
  await until('the export to succeed', async () => {
    const phase = await kubectl([
      'get',
      'exportjob',
      'anomalies',
      '-n',
      ns,
      '-o',
      'jsonpath={.status.phase}',
    ]);
    if (phase === 'Failed') throw new Error('the export failed');
    return phase === 'Succeeded' ? true : undefined;
  });
  // The plan names each agent pod by its DNS name under the agent's headless Service.
  const plan = JSON.parse(
    await kubectl([
      'get',
      'configmap',
      'anomalies-export-plan',
      '-n',
      ns,
      '-o',
      'jsonpath={.data.plan\\.json}',
    ]),
  ) as { anomalies: { pod: string; url: string }[] };
  expect(plan.anomalies).toEqual([
    {
      agent: 'auth',
      kind: 'auth',
      pod: 'auth-agent-0',
      url: `http://auth-agent-0.auth-agent.${ns}.svc:8080`,
    },
  ]);
  // The claim the provisioner bound is a folder of the node: the file holds the store's anomalies.
  const volume = await kubectl([
    'get',
    'pvc',
    'exports',
    '-n',
    ns,
    '-o',
    'jsonpath={.spec.volumeName}',
  ]);
  const pv = await kubectlJson<{ spec: { hostPath?: { path: string }; local?: { path: string } } }>(
    ['get', 'pv', volume],
  );
  const folder = path.join((pv.spec.hostPath ?? pv.spec.local)!.path, 'node-suite');
  const files = (await readdir(folder)).filter((f) => f.endsWith('.jsonl'));
  expect(files.length).toBeGreaterThan(0);
  const exported = (await Promise.all(files.map((f) => readFile(path.join(folder, f), 'utf8'))))
    .join('')
    .split('\n')
    .filter(Boolean);
  expect(exported).toHaveLength((await storedAnomalies(ns, 'auth-agent-0')).length);
});

test('every pod the product makes runs under the restricted profile, as the runtime enforces it', async () => {
  const operatorPod = (
    await kubectlJson<{ items: NodePod[] }>([
      'get',
      'pods',
      '-n',
      releaseNs,
      '-l',
      'app.kubernetes.io/component=operator',
    ])
  ).items[0]!;
  const exportPod = (
    await kubectlJson<{ items: NodePod[] }>([
      'get',
      'pods',
      '-n',
      ns,
      '-l',
      'app.kubernetes.io/component=export',
    ])
  ).items[0]!;
  for (const [namespace, podName, container] of [
    [releaseNs, operatorPod.metadata.name, 'operator'],
    [ns, 'auth-agent-0', 'agent'],
    [ns, exportPod.metadata.name, 'export'],
  ] as const) {
    const spec = await runtimeSpec(await runtimeContainerId(namespace, podName, container));
    expectRestrictedSpec(`${podName}/${container}`, spec);
    // Bounded memory on a Pi: the pod's limit is the cgroup's, as the runtime was told.
    const limit = (
      await kubectlJson<{
        spec: { containers: { name: string; resources?: { limits?: { memory?: string } } }[] };
      }>(['get', 'pod', podName, '-n', namespace])
    ).spec.containers.find((c) => c.name === container)?.resources?.limits?.memory;
    expect({ container, limit: spec.linux?.resources?.memory?.limit }).toEqual({
      container,
      limit: bytes(limit ?? 'no limit'),
    });
  }
  // The running ones, from inside.
  await expectRestrictedProcess(releaseNs, operatorPod.metadata.name, 'operator');
  await expectRestrictedProcess(ns, 'auth-agent-0', 'agent');
});

test('every command of the image works under the restricted profile, in a pod', async () => {
  const sample = '/app/agent-runtime/data/openwrt/logread-sample.log';
  const commands: Record<string, string[]> = {
    help: ['--help'],
    demo: ['demo'],
    parse: ['parse', '--input', sample],
    analyze: ['analyze', '--input', sample, '--model', 'baseline'],
    features: ['features', '--agent', 'wifi', '--input', sample],
    train: ['train', '--agent', 'wifi', '--input', sample, '--out', '/work/wifi-model'],
    validate: ['validate', '/examples/analysisagent.yaml'],
    agent: ['agent', '--help'],
    operator: ['operator', '--help'],
    export: ['export', '--help'],
  };
  await kubectl([
    'create',
    'configmap',
    'examples',
    '-n',
    ns,
    `--from-file=analysisagent.yaml=${path.join(repoRoot, 'manifests/examples/analysisagent.yaml')}`,
  ]);
  const restrictedContainer = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  };
  await applyObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'commands', namespace: ns },
    spec: {
      restartPolicy: 'Never',
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      volumes: [
        { name: 'work', emptyDir: { sizeLimit: '64Mi' } },
        { name: 'examples', configMap: { name: 'examples' } },
      ],
      containers: Object.entries(commands).map(([name, args]) => ({
        name,
        image,
        imagePullPolicy: 'IfNotPresent',
        args,
        securityContext: restrictedContainer,
        volumeMounts:
          name === 'train'
            ? [{ name: 'work', mountPath: '/work' }]
            : name === 'validate'
              ? [{ name: 'examples', mountPath: '/examples' }]
              : [],
      })),
    },
  });
  const done = await until(
    'every command to finish',
    async () => {
      const p = await kubectlJson<{
        status?: {
          phase?: string;
          containerStatuses?: { name: string; state: { terminated?: { exitCode: number } } }[];
        };
      }>(['get', 'pod', 'commands', '-n', ns]);
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    },
    240_000,
  );
  const exits = Object.fromEntries(
    done.status!.containerStatuses!.map((c) => [c.name, c.state.terminated?.exitCode]),
  );
  const failed = Object.entries(exits).filter(([, code]) => code !== 0);
  const logs = await Promise.all(
    failed.map(
      async ([name]) =>
        `${name}: ${(await kubectlRun(['logs', '-n', ns, 'commands', '-c', name, '--tail=10'])).stdout}`,
    ),
  );
  expect({ exits, logs }).toEqual({
    exits: Object.fromEntries(Object.keys(commands).map((c) => [c, 0])),
    logs: [],
  });
  expect(await kubectl(['logs', '-n', ns, 'commands', '-c', 'demo'])).toMatch(/recall 100%/);
  expect(await kubectl(['logs', '-n', ns, 'commands', '-c', 'validate'])).toMatch(/: valid$/m);
});

test('the runtime itself: pods reach the API server and each other through Services and cluster DNS', async () => {
  // What every in-cluster client relies on: the `kubernetes` Service (kube-proxy) and names
  // resolved by CoreDNS, checked from inside the agent's pod.
  const script = [
    "const dns = require('dns').promises;",
    '(async () => {',
    "  const api = await dns.lookup('kubernetes.default.svc');",
    `  const agent = await dns.lookup('auth-agent-0.auth-agent.${ns}.svc');`,
    "  const r = await fetch('http://auth-agent-0.auth-agent." + ns + ".svc:8080/readyz');",
    '  process.stdout.write(JSON.stringify({ api: api.address, agent: agent.address, ready: r.status }));',
    '})();',
  ].join('\n');
  const seen = JSON.parse(await nodeInPod(ns, 'auth-agent-0', 'agent', script)) as {
    api: string;
    agent: string;
    ready: number;
  };
  const p = await getPod(ns, 'auth-agent-0');
  expect(seen).toEqual({ api: '10.0.0.1', agent: p.status!.podIP, ready: 200 });
});
