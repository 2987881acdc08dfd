// The whole story, as a user meets it, written against nothing but a kubeconfig, kubectl and
// helm, so that it runs unchanged on the test control plane with its real node (test/node/:
// kubelet, containerd, the image built from our Dockerfile) and on another cluster (kind or k3s:
// test/e2e/kind/run.sh). The one thing outside the cluster is what a home lab
// has outside it too: the collector's PostgreSQL (with TLS, checked verify-full) and a webhook
// receiver, on this machine at EDGEWARDEN_E2E_HOST_ADDRESS.
//  1. The chart is installed; PostgreSQL's `log_entries` (the design's DDL, k3s/collector/)
//     holds a day of real-looking logs from three routers (the OpenWrt sample replayed) with
//     the demo's seven attacks injected on one of them.
//  2. An AnalysisAgent for every agent: each becomes Ready, reads every row exactly once, finds
//     its attacks (the anomalies' evidence is the injected rows), and the anomalies show in its
//     status, its /metrics, its SQLite store (/anomalies) and the webhook receiver.
//  3. A ModelDeployment rolls out a model trained here, then a broken one is refused while the
//     trained one keeps serving, then the shipped model is rolled back to.
//  4. An ExportJob of the anomalies and one of the day's logs succeed; their files (read back
//     by a pod from the claim) hold exactly the store's anomalies and the day's rows.
//  5. The operator and an agent are killed while new logs (and a new attack) arrive: everything
//     converges, the new attack is found once, no row is read twice or skipped, nothing stored
//     is lost or doubled.
//  6. kubectl edgewarden (the plugin, found by kubectl on the PATH, with the user's kubeconfig)
//     lists the anomalies of this namespace and of a second site's, acknowledges one and marks
//     one a false positive: its suppression lands in the AnalysisAgent's spec, and the same
//     attack again is counted as suppressed, neither stored nor alerted. A user bound only to
//     edgewarden-viewer can list but not triage.
//  7. helm uninstall: the operator's objects go; CRDs, resources, agents and their stores stay,
//     as charts/README.md says; deleting an AnalysisAgent then removes its children and keeps
//     its claim.
// The scenarios run in order and build on each other (one story); a failure names the step.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { parse as parseCsv } from 'csv-parse/sync';
import pg from 'pg';

import { agentNames } from '../../agent-runtime/src/agents/registry.js';
import type { AgentName } from '../../agent-runtime/src/agents/types.js';
import { scenarios, seededRandom, type Scenario } from '../../agent-runtime/src/demo/attacks.js';
import { fleetLog } from '../../agent-runtime/src/demo/fleet.js';
import { sampleLog } from '../../agent-runtime/src/demo/runDemo.js';
import { SyslogParser } from '../../agent-runtime/src/parse/syslog.js';
import { train } from '../../agent-runtime/src/trainer/train.js';
import {
  applyObject,
  createSecret,
  deleteCrds,
  helmRun,
  kubectl,
  kubectlJson,
  kubectlRun,
  repoRoot,
  SOURCE_SECRETS,
  eventually,
} from '../integration/kube.js';
import { SUPERUSER_PASSWORD, startPostgres, type PostgresServer } from '../services/postgres.js';
import { installChart, uninstallChart } from './chart.js';
import { boundUserKubeconfig, plugin, pluginPath, pluginRun } from './plugin.js';
import {
  podGet as agentPodGet,
  storedAnomalies as agentStoredAnomalies,
  type StoredAnomaly,
} from './agentApi.js';

const hostAddress = process.env.EDGEWARDEN_E2E_HOST_ADDRESS!;
/** The image the cluster runs (repository:tag), imported into its nodes' containerd. */
const image = process.env.EDGEWARDEN_E2E_IMAGE ?? 'docker.io/library/edgewarden:ci';
const RELEASE = 'edgewarden';
const RELEASE_NS = 'edgewarden-system';
const NS = `e2e-home-${process.pid}`;
/** A second site's namespace, with an AnalysisAgent of its own (step 6). */
const NS2 = `e2e-branch-${process.pid}`;
const BRANCH_AGENT = 'edge-firewall';
const READER_PASSWORD = 'reader-e2e-secret';
/** The routers (fleetLog's router-N, renamed) and the one the attacks land on. */
const ROUTERS = ['gw-home', 'gw-shop', 'ap-garden'];
const ATTACKED = 'gw-shop';
const DAY_MS = 86_400_000;
const WINDOW_MS = 5 * 60_000;
/** Half a minute into the window after `t`: an attack (two minutes at most) fits in one. */
const windowStart = (t: number): number => Math.ceil(t / WINDOW_MS) * WINDOW_MS + 30_000;

let postgres: PostgresServer;
let db: pg.Client;
let work: string;
let receiver: Server;
const alerts: { agentName: string; anomaly: StoredAnomaly }[] = [];
/** Ids of the injected rows, by scenario name. */
const injected = new Map<string, Set<number>>();
let dayStart: number;
let dayEnd: number;

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface AgentResource {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    readyReplicas?: number;
    modelVersion?: string;
    linesAnalyzed?: number;
    anomalies?: { total: number; last24h: number };
  };
}
interface ModelResource {
  status?: {
    activeVersion?: string;
    targetVersion?: string;
    transition?: string;
    conditions?: Condition[];
    lastFailure?: { reason: string; message: string };
    history?: { version: string; outcome: string }[];
  };
}

/**
 * The story's steps build on each other: once one has failed, the later ones fail at once,
 * saying so, instead of each waiting out its timeouts on a state that cannot come.
 */
let failedStep: string | undefined;
function step(name: string, body: () => Promise<void>, timeoutMs: number): void {
  test(
    name,
    async () => {
      if (failedStep) throw new Error(`not run: it builds on "${failedStep}", which failed`);
      try {
        await body();
      } catch (error) {
        failedStep = name;
        throw error;
      }
    },
    timeoutMs,
  );
}

/** An item of `kubectl edgewarden anomalies -o json`: the stored anomaly and where it lives. */
interface PluginAnomaly extends StoredAnomaly {
  name: string;
  namespace: string;
  analysisAgent: string;
  rule?: string | null;
  status: string;
  note?: string | null;
  statusBy?: string | null;
}

/** `kubectl edgewarden <args> -o json`, parsed. */
async function pluginJson<T = { items: PluginAnomaly[] }>(bin: string, args: string[]): Promise<T> {
  return JSON.parse(await plugin(bin, [...args, '-o', 'json'])) as T;
}

const condition = (conditions: Condition[] | undefined, type: string): Condition | undefined =>
  conditions?.find((c) => c.type === type);

/** What `kubectl describe` would show a user stuck on a step: the resources and pods. */
async function situation(): Promise<string> {
  const r = await kubectlRun([
    'get',
    'analysisagents,modeldeployments,exportjobs,statefulsets,pods,jobs,pvc',
    '-n',
    NS,
    '-o',
    'wide',
  ]);
  const operator = await kubectlRun([
    'logs',
    '-n',
    RELEASE_NS,
    'deployment/edgewarden',
    '--tail=40',
  ]);
  return `${r.stdout}${r.stderr}\noperator log:\n${operator.stdout}${operator.stderr}`;
}

/** eventually(), and on a timeout the state of the namespace and the operator's log. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 180_000,
): Promise<T> {
  return eventually(what, check, timeoutMs).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${await situation()}`);
  });
}

const agentResource = (name: string): Promise<AgentResource> =>
  kubectlJson<AgentResource>(['get', 'analysisagent', name, '-n', NS]);
const modelResource = (): Promise<ModelResource> =>
  kubectlJson<ModelResource>(['get', 'modeldeployment', 'dns-model', '-n', NS]);

/** An agent pod's HTTP API, through the API server's pod proxy (as `kubectl get --raw` does). */
const podGet = (pod: string, urlPath: string): Promise<string> => agentPodGet(NS, pod, urlPath);

/** Every anomaly in an agent's SQLite store, oldest first (its /anomalies, paged). */
const storedAnomalies = (agent: string): Promise<StoredAnomaly[]> =>
  agentStoredAnomalies(NS, `${agent}-agent-0`);

async function rowCount(): Promise<number> {
  const r = await db.query<{ n: string }>('SELECT count(*) AS n FROM log_entries');
  return Number(r.rows[0]!.n);
}

// ---- the collector's data -------------------------------------------------------------------

const parser = new SyslogParser();
interface Row {
  time: number;
  device: string;
  level: string;
  program: string;
  message: string;
  raw: string;
  scenario?: string;
}

/** A day of background from the three routers, ending `endMs`. */
function background(sample: string[], startMs: number, hours: number, seed: number): Row[] {
  const log = fleetLog(sample, {
    routers: ROUTERS.length,
    hours,
    seed,
    attacksPerRouterDay: 0,
    meanGapMs: 60_000,
    startMs,
  });
  return log.lines.map((line) => {
    const parsed = parser.parse(line);
    if (!parsed.ok) throw new Error(`unparsable fleet line: ${line}`);
    const r = parsed.record;
    return {
      time: Date.parse(r.timestamp),
      device: ROUTERS[Number(/router-(\d+)/.exec(line)![1])]!,
      level: r.level ?? 'info',
      program: r.program ?? '',
      message: r.message,
      raw: line,
    };
  });
}

/** A scenario's lines as rows on `device`, starting at `at`. */
function attackRows(scenario: Scenario, device: string, at: number, seed: number): Row[] {
  return scenario.lines(seededRandom(seed)).map(([offset, rest]) => {
    const m = /^(\w+)\.(\w+) ([^:[\s]+)(?:\[(\d+)\])?: (.*)$/.exec(rest);
    if (!m) throw new Error(`unexpected scenario line: ${rest}`);
    const time = at + offset;
    return {
      time,
      device,
      level: m[2]!,
      program: m[3]!,
      message: m[5]!,
      raw: `${new Date(time).toISOString()} ${device} ${m[3]}${m[4] ? `[${m[4]}]` : ''}: ${m[5]}`,
      scenario: scenario.name,
    };
  });
}

/** Inserts rows in time order, as the collector does as they arrive; records injected ids. */
async function insert(rows: Row[]): Promise<void> {
  rows.sort((a, b) => a.time - b.time);
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    const r = await db.query<{ id: string }>(
      `INSERT INTO log_entries (device_id, device_ip, "timestamp", log_level, process_name, message, raw_message)
       SELECT d, ('192.0.2.' || (10 + n))::inet, to_timestamp(t / 1000.0), l, p, m, raw
       FROM unnest($1::text[], $2::int[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[])
         WITH ORDINALITY AS u(d, n, t, l, p, m, raw, ord)
       ORDER BY ord
       RETURNING id`,
      [
        chunk.map((x) => x.device),
        chunk.map((x) => ROUTERS.indexOf(x.device)),
        chunk.map((x) => x.time),
        chunk.map((x) => x.level),
        chunk.map((x) => x.program),
        chunk.map((x) => x.message),
        chunk.map((x) => x.raw),
      ],
    );
    // A serial's values are taken in the order the rows are inserted: the ids ascend with ord.
    const ids = r.rows.map((x) => Number(x.id)).sort((a, b) => a - b);
    chunk.forEach((row, k) => {
      if (!row.scenario) return;
      const set = injected.get(row.scenario) ?? new Set<number>();
      set.add(ids[k]!);
      injected.set(row.scenario, set);
    });
  }
}

// ---- the cluster side -----------------------------------------------------------------------

const helm = async (args: string[]): Promise<string> => {
  const r = await helmRun(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

function agentSpec(agent: AgentName): Record<string, unknown> {
  return {
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'AnalysisAgent',
    metadata: { name: agent, namespace: NS, labels: { site: 'e2e' } },
    spec: {
      agent,
      // The default: five-minute windows, the rules' thresholds are per window.
      interval: '5m',
      source: {
        ...SOURCE_SECRETS,
        preset: 'log_entries',
        // The collector already holds the day: a new agent analyses it too (and so learns
        // each router's normal before the attacks of the day's second half).
        backfill: '25h',
        batchSize: 5000,
      },
      ...(agent === 'dns' ? { model: { name: 'dns-model' } } : {}),
      thresholds: { alertSeverity: 'high' },
      notifications: { webhook: { urlSecretRef: { name: 'alerts-webhook' } }, cooldown: '5m' },
      storage: { type: 'persistentVolumeClaim', size: '256Mi', retention: '720h' },
    },
  };
}

/** A model's bytes in a ConfigMap, as docs/rollouts.md tells users to put them. */
async function modelConfigMap(name: string, file: string): Promise<void> {
  await kubectl(['create', 'configmap', name, '-n', NS, `--from-file=model.onnx=${file}`]);
  await kubectl(['label', 'configmap', name, '-n', NS, 'edgewarden.io/model-source=true']);
}

async function setModel(version: string, configMap: string, features: string[]): Promise<void> {
  await applyObject({
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'ModelDeployment',
    metadata: { name: 'dns-model', namespace: NS },
    spec: {
      agent: 'dns',
      version,
      source: { configMap: { name: configMap, key: 'model.onnx' } },
      features,
      rollout: { strategy: 'AllAtOnce' },
    },
  });
}

async function modelServed(version: string): Promise<void> {
  await until(`the dns agent to serve ${version}`, async () => {
    const m = await modelResource();
    const a = await agentResource('dns');
    return m.status?.activeVersion === version &&
      m.status.transition === 'UpToDate' &&
      a.status?.modelVersion === version
      ? true
      : undefined;
  });
  const metrics = await podGet('dns-agent-0', '/metrics');
  expect(metrics).toMatch(
    new RegExp(`edgewarden_model_info\\{[^}]*version="${version.replace(/\./g, '\\.')}"[^}]*\\} 1`),
  );
}

/** A pod that prints every file under the exports claim (gunzipped), then exits. */
async function readExports(dir: string): Promise<Map<string, string>> {
  const name = `read-exports-${Date.now()}`;
  const script = [
    "const fs = require('fs'), path = require('path'), zlib = require('zlib');",
    `const root = '/exports/${dir}';`,
    'for (const f of fs.readdirSync(root).filter((f) => !f.startsWith(".")).sort()) {',
    '  let data = fs.readFileSync(path.join(root, f));',
    "  if (f.endsWith('.gz')) data = zlib.gunzipSync(data);",
    "  process.stdout.write('=== ' + f + ' ' + data.length + '\\n' + data.toString('base64') + '\\n');",
    '}',
  ].join('\n');
  await applyObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      restartPolicy: 'Never',
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      volumes: [{ name: 'exports', persistentVolumeClaim: { claimName: 'edgewarden-exports' } }],
      containers: [
        {
          name: 'read',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['/nodejs/bin/node', '-e', script],
          volumeMounts: [{ name: 'exports', mountPath: '/exports', readOnly: true }],
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  });
  await until(`pod ${name} to finish`, async () => {
    const p = await kubectlJson<{ status?: { phase?: string } }>(['get', 'pod', name, '-n', NS]);
    if (p.status?.phase === 'Failed') throw new Error(`pod ${name} failed`);
    return p.status?.phase === 'Succeeded' ? true : undefined;
  });
  const out = await kubectl(['logs', '-n', NS, name]);
  await kubectl(['delete', 'pod', name, '-n', NS, '--wait=false']);
  const files = new Map<string, string>();
  const parts = out.split(/^=== /m).slice(1);
  for (const part of parts) {
    const [header, body] = part.split('\n', 2) as [string, string];
    const [file, length] = header.split(' ') as [string, string];
    const content = Buffer.from(body, 'base64');
    expect(content.length).toBe(Number(length));
    files.set(file, content.toString('utf8'));
  }
  return files;
}

async function exportSucceeded(name: string): Promise<void> {
  await until(
    `ExportJob ${name} to succeed`,
    async () => {
      const e = await kubectlJson<{ status?: { phase?: string; message?: string } }>([
        'get',
        'exportjob',
        name,
        '-n',
        NS,
      ]);
      if (e.status?.phase === 'Failed')
        throw new Error(`ExportJob ${name} failed: ${JSON.stringify(e.status)}`);
      return e.status?.phase === 'Succeeded' ? true : undefined;
    },
    240_000,
  );
}

// ---- setup ----------------------------------------------------------------------------------

beforeAll(async () => {
  if (!hostAddress)
    throw new Error('EDGEWARDEN_E2E_HOST_ADDRESS is not set: run through jest.e2e.config.js');
  work = await mkdtemp(path.join(tmpdir(), 'edgewarden-journey-'));

  // The collector's database: PostgreSQL with TLS, the design's table and roles.
  postgres = await startPostgres([hostAddress]);
  const admin = new pg.Client({
    host: postgres.host,
    port: postgres.port,
    user: postgres.superuser,
    password: SUPERUSER_PASSWORD,
    database: 'postgres',
  });
  await admin.connect();
  await admin.query('CREATE DATABASE syslog');
  await admin.end();
  db = new pg.Client({
    host: postgres.host,
    port: postgres.port,
    user: postgres.superuser,
    password: SUPERUSER_PASSWORD,
    database: 'syslog',
  });
  await db.connect();
  await db.query(await readFile(path.join(repoRoot, 'k3s/collector/log_entries.sql'), 'utf8'));
  await db.query(`ALTER ROLE edgewarden_ro PASSWORD '${READER_PASSWORD}'`);

  // A day of logs ending 40 minutes ago (step 5 brings the rest), the seven attacks on one
  // router during its last twelve hours.
  dayEnd = Date.now() - 40 * 60_000;
  dayStart = dayEnd - DAY_MS;
  const sample = (await readFile(sampleLog, 'utf8')).split('\n').filter(Boolean);
  const rows = background(sample, dayStart, 24, 7);
  scenarios.forEach((s, i) => {
    const at = windowStart(dayEnd - 12 * 3_600_000 + i * 90 * 60_000);
    rows.push(...attackRows(s, ATTACKED, at, 100 + i));
  });
  await insert(rows.filter((r) => r.time < dayEnd));

  // Alerts land here.
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      alerts.push(JSON.parse(body) as (typeof alerts)[number]);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, hostAddress, () => r()));
}, 300_000);

afterAll(async () => {
  await new Promise((r) => receiver?.close(r));
  await db?.end();
  await postgres?.remove();
  await rm(work, { recursive: true, force: true });
  // The story's namespaces, with whatever holds them.
  await uninstallChart(RELEASE, RELEASE_NS, [NS, NS2]);
}, 180_000);

// ---- 1 --------------------------------------------------------------------------------------

step(
  '1. the chart installs, and the collector holds a day of logs with seven attacks',
  async () => {
    // As on a fresh cluster: no edgewarden CRDs (another suite of this run may have applied
    // crds/ with kubectl, and Helm does not take over objects another tool made).
    await deleteCrds();
    for (const ns of [RELEASE_NS, NS]) {
      await kubectl(['create', 'namespace', ns]);
      // The strictest Pod Security level: every pod the product makes must meet it.
      await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
    }
    await installChart(RELEASE, RELEASE_NS, [
      '--set',
      'operator.pollInterval=2s',
      '--wait',
      '--timeout=5m',
    ]);
    const deployment = await kubectlJson<{ status?: { readyReplicas?: number } }>([
      'get',
      'deployment',
      RELEASE,
      '-n',
      RELEASE_NS,
    ]);
    expect(deployment.status?.readyReplicas).toBe(1);
    const crds = await kubectl(['get', 'crd', '-o', 'name']);
    for (const crd of ['analysisagents', 'modeldeployments', 'exportjobs'])
      expect(crds).toContain(`${crd}.edgewarden.io`);

    const count = await rowCount();
    expect(count).toBeGreaterThan(10_000);
    expect([...injected.keys()].sort()).toEqual(scenarios.map((s) => s.name).sort());
    const span = await db.query<{ first: Date; last: Date; devices: string }>(
      'SELECT min("timestamp") AS first, max("timestamp") AS last, count(DISTINCT device_id) AS devices FROM log_entries',
    );
    expect(span.rows[0]!.last.getTime() - span.rows[0]!.first.getTime()).toBeGreaterThan(
      23 * 3_600_000,
    );
    expect(Number(span.rows[0]!.devices)).toBe(ROUTERS.length);
  },
  420_000,
);

// ---- 2 --------------------------------------------------------------------------------------

step(
  '2. an AnalysisAgent for every agent: Ready, every row read once, its attacks found and shown everywhere',
  async () => {
    await createSecret(
      NS,
      'router-logs-db',
      `--from-literal=url=postgresql://edgewarden_ro:${READER_PASSWORD}@${hostAddress}:${postgres.port}/syslog`,
    );
    await createSecret(
      NS,
      'router-logs-db-ca',
      `--from-file=ca.crt=${path.join(postgres.dir, 'ca.crt')}`,
    );
    await createSecret(
      NS,
      'alerts-webhook',
      `--from-literal=url=http://${hostAddress}:${(receiver.address() as AddressInfo).port}/alerts`,
    );
    // The dns agent's model: the shipped baseline, from a ConfigMap.
    const shipped = JSON.parse(
      await readFile(path.join(repoRoot, 'models/dns/manifest.json'), 'utf8'),
    ) as { version: string; features: string[] };
    await modelConfigMap('dns-shipped', path.join(repoRoot, 'models/dns/model.onnx'));
    await setModel(shipped.version, 'dns-shipped', shipped.features);
    for (const agent of agentNames) await applyObject(agentSpec(agent));

    const rows = await rowCount();
    for (const agent of agentNames) {
      const status = await until(
        `AnalysisAgent ${agent} Ready with every row analysed`,
        async () => {
          const a = await agentResource(agent);
          return condition(a.status?.conditions, 'Ready')?.status === 'True' &&
            a.status?.observedGeneration === a.metadata.generation &&
            a.status.linesAnalyzed === rows
            ? a.status
            : undefined;
        },
        300_000,
      );
      expect(status.readyReplicas).toBe(1);
      expect(status.anomalies!.total).toBeGreaterThan(0);

      // The store: every anomaly it holds, which the status counts.
      const stored = await storedAnomalies(agent);
      expect(stored).toHaveLength(status.anomalies!.total);
      expect(new Set(stored.map((a) => a.id)).size).toBe(stored.length);
      const found = (s: Scenario): StoredAnomaly[] =>
        stored.filter(
          (a) =>
            a.device === ATTACKED &&
            s.types.includes(a.type) &&
            a.evidence.some((id) => injected.get(s.name)!.has(Number(id))),
        );
      const mine = scenarios.filter((s) => s.agent === agent);
      for (const s of mine)
        expect({ scenario: s.name, found: found(s).length > 0 }).toEqual({
          scenario: s.name,
          found: true,
        });
      if (agent === 'template') {
        // Template surges: the floods (deauthentications, DHCP discovers) are message types
        // far above their usual rate, found in the injected rows themselves.
        const injectedIds = new Set([...injected.values()].flatMap((s) => [...s]));
        expect(
          stored.some(
            (a) =>
              a.type === 'template_surge' && a.evidence.some((id) => injectedIds.has(Number(id))),
          ),
        ).toBe(true);
      }

      // Its /metrics: the anomalies by type, and every row read.
      const metrics = await podGet(`${agent}-agent-0`, '/metrics');
      for (const type of new Set(stored.map((a) => a.type))) {
        const m = new RegExp(
          `^edgewarden_anomalies_total\\{[^}]*type="${type}"[^}]*\\} (\\d+)`,
          'm',
        );
        expect({ type, metric: m.test(metrics) }).toEqual({ type, metric: true });
      }

      // Alerts: every attack found at high severity or above reached the webhook.
      for (const s of mine) {
        const severe = found(s).filter((a) => a.severity >= 4);
        if (severe.length === 0) continue;
        await until(`the webhook to receive ${agent}'s alert for ${s.name}`, () =>
          Promise.resolve(
            alerts.some(
              (x) =>
                x.agentName === agent &&
                x.anomaly.type === severe[0]!.type &&
                x.anomaly.device === ATTACKED,
            )
              ? true
              : undefined,
          ),
        );
      }
    }
    // Pods meet the restricted Pod Security level (the namespace enforces it), one per agent.
    const pods = await kubectlJson<{ items: unknown[] }>([
      'get',
      'pods',
      '-n',
      NS,
      '-l',
      'app.kubernetes.io/component=agent',
    ]);
    expect(pods.items).toHaveLength(agentNames.length);
  },
  900_000,
);

// ---- 3 --------------------------------------------------------------------------------------

step(
  '3. a ModelDeployment rolls a trained model out, refuses a broken one, and rolls back',
  async () => {
    const shipped = JSON.parse(
      await readFile(path.join(repoRoot, 'models/dns/manifest.json'), 'utf8'),
    ) as { version: string; features: string[] };
    await modelServed(shipped.version);

    // A model trained here on the day's dns lines, as `edgewarden train` does.
    const day = await db.query<{ raw_message: string }>(
      `SELECT raw_message FROM log_entries WHERE process_name LIKE 'dnsmasq%' ORDER BY id`,
    );
    const input = path.join(work, 'dns-day.log');
    await writeFile(input, day.rows.map((r) => r.raw_message).join('\n') + '\n');
    const out = path.join(work, 'dns-trained');
    await train({
      agent: 'dns',
      inputs: [input],
      out,
      trees: 50,
      sampleSize: 128,
      contamination: 0.01,
      seed: 3,
      windowMs: 300_000,
      version: 'dns-e2e-2',
      defaultHost: 'gw-home',
    });
    const trained = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as {
      version: string;
      features: string[];
    };
    await modelConfigMap('dns-trained', path.join(out, 'model.onnx'));
    await setModel(trained.version, 'dns-trained', trained.features);
    await modelServed(trained.version);

    // A broken model: bytes that are no ONNX model.
    const broken = path.join(work, 'broken.onnx');
    await writeFile(broken, 'this is not an ONNX model\n');
    await modelConfigMap('dns-broken', broken);
    await setModel('dns-e2e-broken', 'dns-broken', trained.features);
    const refused = await until('the broken model to be refused', async () => {
      const m = await modelResource();
      return m.status?.transition === 'BlockedByFailedLoad' ? m.status : undefined;
    });
    expect(condition(refused.conditions, 'Validated')?.status).toBe('False');
    expect(refused.lastFailure?.message).toBeTruthy();
    expect(refused.activeVersion).toBe(trained.version);
    expect((await agentResource('dns')).status?.modelVersion).toBe(trained.version);
    const served = JSON.parse(await podGet('dns-agent-0', '/status')) as {
      model?: { version?: string };
    };
    expect(served.model?.version).toBe(trained.version);
    const events = await kubectl(['get', 'events', '-n', NS, '--field-selector', 'type=Warning']);
    expect(events).toMatch(/dns-model/);

    // Roll back: the shipped model's version and source again.
    await setModel(shipped.version, 'dns-shipped', shipped.features);
    await modelServed(shipped.version);
    const history = (await modelResource()).status?.history ?? [];
    expect(history[0]).toMatchObject({ version: shipped.version, outcome: 'Serving' });
    expect(history.map((h) => `${h.version}:${h.outcome}`)).toEqual(
      expect.arrayContaining([`dns-e2e-broken:Refused`, `${trained.version}:Replaced`]),
    );
  },
  900_000,
);

// ---- 4 --------------------------------------------------------------------------------------

step(
  '4. ExportJobs of the anomalies and of a day of logs succeed, and their files hold exactly the data',
  async () => {
    await applyObject({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'edgewarden-exports', namespace: NS },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const from = new Date(dayStart).toISOString();
    const to = new Date(dayEnd).toISOString();
    await applyObject({
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'ExportJob',
      metadata: { name: 'anomalies', namespace: NS },
      spec: {
        dataTypes: ['anomalies'],
        // Every anomaly: the day's, and any dated in the hours before it.
        timeRange: { last: '48h' },
        format: 'json',
        destination: {
          persistentVolumeClaim: { claimName: 'edgewarden-exports' },
          path: 'anomalies',
        },
      },
    });
    await applyObject({
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'ExportJob',
      metadata: { name: 'day', namespace: NS },
      spec: {
        dataTypes: ['logs'],
        source: { analysisAgentRef: { name: 'system' } },
        timeRange: { from, to },
        format: 'csv',
        compression: 'gzip',
        // Compared with the rows as stored below; addresses are hashed by default.
        transform: { hashAddresses: false },
        destination: { persistentVolumeClaim: { claimName: 'edgewarden-exports' }, path: 'day' },
      },
    });
    await exportSucceeded('anomalies');
    await exportSucceeded('day');

    // The anomalies: exactly what the six stores hold.
    const anomalyFiles = await readExports('anomalies');
    const exported = [...anomalyFiles]
      .filter(([f]) => /-anomalies-\d+\.json$/.test(f))
      .flatMap(([, text]) => JSON.parse(text) as (StoredAnomaly & { analysisAgent: string })[]);
    const expected = (await Promise.all(agentNames.map((a) => storedAnomalies(a)))).flat();
    const key = (a: { agent: string; id: number }): string => `${a.agent}/${a.id}`;
    expect(exported.map(key).sort()).toEqual(expected.map(key).sort());

    // The day's logs: every row in the range, once, with its fields.
    const dayFiles = await readExports('day');
    const records = [...dayFiles]
      .filter(([f]) => /-logs-\d+\.csv\.gz$/.test(f))
      .flatMap(([, text]): { id: string; device: string; program: string; message: string }[] =>
        parseCsv(text, { columns: true }),
      );
    const rows = await db.query<{ id: string; device_id: string; message: string }>(
      `SELECT id, device_id, message FROM log_entries WHERE "timestamp" >= $1 AND "timestamp" < $2 ORDER BY id`,
      [from, to],
    );
    expect(records).toHaveLength(rows.rows.length);
    const byId = new Map(records.map((r) => [r.id, r]));
    expect(byId.size).toBe(records.length);
    for (const row of rows.rows) {
      const record = byId.get(String(row.id));
      expect(record && { device: record.device, message: record.message }).toEqual({
        device: row.device_id,
        message: row.message,
      });
    }
    // The manifest lists the files with their record counts.
    const manifest = JSON.parse(dayFiles.get('day.manifest.json')!) as {
      files: { name: string; records: number }[];
    };
    expect(manifest.files.reduce((n, f) => n + f.records, 0)).toBe(rows.rows.length);
  },
  600_000,
);

// ---- 5 --------------------------------------------------------------------------------------

step(
  '5. the operator and an agent killed while logs arrive: everything converges, nothing lost or doubled',
  async () => {
    const before = new Map<string, StoredAnomaly[]>();
    for (const agent of agentNames) before.set(agent, await storedAnomalies(agent));

    // New logs keep arriving, with a new brute force on another router.
    const sample = (await readFile(sampleLog, 'utf8')).split('\n').filter(Boolean);
    const start = Date.now() - 60_000;
    const fresh = background(sample, start, 0.25, 11).filter((r) => r.time < Date.now());
    const brute = scenarios.find((s) => s.agent === 'auth')!;
    const late = attackRows(brute, 'gw-home', Date.now() - 30_000, 500).map((r) => ({
      ...r,
      scenario: `${brute.name} (late)`,
    }));
    await insert([...fresh, ...late]);

    // Kill: the operator's pod and the auth agent's pod, with no grace.
    const operatorPod = (
      await kubectl([
        'get',
        'pods',
        '-n',
        RELEASE_NS,
        '-l',
        'app.kubernetes.io/component=operator',
        '-o',
        'jsonpath={.items[0].metadata.name}',
      ])
    ).trim();
    expect(operatorPod).not.toBe('');
    await kubectl(['delete', 'pod', operatorPod, '-n', RELEASE_NS, '--grace-period=0', '--force']);
    await kubectl(['delete', 'pod', 'auth-agent-0', '-n', NS, '--grace-period=0', '--force']);

    // Converged: a new operator, a new auth pod, every agent Ready with every row read.
    await until('a new operator pod Ready', async () => {
      const d = await kubectlJson<{ status?: { readyReplicas?: number } }>([
        'get',
        'deployment',
        RELEASE,
        '-n',
        RELEASE_NS,
      ]);
      return d.status?.readyReplicas === 1 ? true : undefined;
    });
    const rows = await rowCount();
    for (const agent of agentNames) {
      const status = await until(
        `${agent} to converge on ${rows} rows`,
        async () => {
          const a = await agentResource(agent);
          return condition(a.status?.conditions, 'Ready')?.status === 'True' &&
            a.status?.linesAnalyzed === rows
            ? a.status
            : undefined;
        },
        420_000,
      );
      const after = await storedAnomalies(agent);
      expect(status.anomalies!.total).toBe(after.length);
      // Nothing lost, nothing doubled: every earlier anomaly is still there, ids unique, and no
      // two anomalies for the same device, type and window.
      const ids = new Set(after.map((a) => a.id));
      expect(ids.size).toBe(after.length);
      for (const a of before.get(agent)!) expect(ids.has(a.id)).toBe(true);
      const windows = after.map((a) => `${a.device}/${a.type}/${a.windowStart}`);
      expect(new Set(windows).size).toBe(windows.length);
      if (agent === 'auth') {
        const lateIds = injected.get(`${brute.name} (late)`)!;
        const found = after.filter((a) => a.evidence.some((id) => lateIds.has(Number(id))));
        expect(found.map((a) => a.type)).toEqual(expect.arrayContaining(['brute_force']));
        expect(found.filter((a) => a.type === 'brute_force')).toHaveLength(1);
        // And alerted once: the restarted agent did not send it again.
        const alerted = (): number =>
          alerts.filter(
            (x) =>
              x.agentName === 'auth' &&
              x.anomaly.type === 'brute_force' &&
              x.anomaly.evidence.some((id) => lateIds.has(Number(id))),
          ).length;
        await until('the late brute force alert', () =>
          Promise.resolve(alerted() > 0 ? true : undefined),
        );
        expect(alerted()).toBe(1);
      }
    }
    const auth = await kubectlJson<{ status?: { containerStatuses?: unknown[] } }>([
      'get',
      'pod',
      'auth-agent-0',
      '-n',
      NS,
    ]);
    expect(auth.status?.containerStatuses).toBeDefined();
  },
  900_000,
);

// ---- 6 --------------------------------------------------------------------------------------

step(
  '6. kubectl edgewarden: anomalies across two namespaces, triaged; a false positive suppresses its pattern; a viewer cannot triage',
  async () => {
    // A second site: a firewall agent of its own in another namespace, on the same collector,
    // with a short interval so that the next cycle comes soon.
    await kubectl(['create', 'namespace', NS2]);
    await kubectl(['label', 'namespace', NS2, 'pod-security.kubernetes.io/enforce=restricted']);
    await createSecret(
      NS2,
      'router-logs-db',
      `--from-literal=url=postgresql://edgewarden_ro:${READER_PASSWORD}@${hostAddress}:${postgres.port}/syslog`,
    );
    await createSecret(
      NS2,
      'router-logs-db-ca',
      `--from-file=ca.crt=${path.join(postgres.dir, 'ca.crt')}`,
    );
    await createSecret(
      NS2,
      'alerts-webhook',
      `--from-literal=url=http://${hostAddress}:${(receiver.address() as AddressInfo).port}/alerts`,
    );
    const branch = agentSpec('firewall') as {
      metadata: Record<string, unknown>;
      spec: Record<string, unknown>;
    };
    branch.metadata = { name: BRANCH_AGENT, namespace: NS2 };
    branch.spec = { ...branch.spec, interval: '10s' };
    await applyObject(branch);
    const rows = await rowCount();
    await until(
      `AnalysisAgent ${NS2}/${BRANCH_AGENT} Ready with every row analysed`,
      async () => {
        const a = await kubectlJson<AgentResource>([
          'get',
          'analysisagent',
          BRANCH_AGENT,
          '-n',
          NS2,
        ]);
        return condition(a.status?.conditions, 'Ready')?.status === 'True' &&
          a.status?.linesAnalyzed === rows
          ? true
          : undefined;
      },
      300_000,
    );

    // The operator's Warning Event for an anomaly at alertSeverity newer than its start: step
    // 5's late brute force, found after the operator was restarted.
    interface EventShape {
      message: string;
      type: string;
      involvedObject: { kind: string; name: string };
    }
    const detected = await until('an AnomalyDetected Event for the late brute force', async () => {
      const { items } = await kubectlJson<{ items: EventShape[] }>([
        ...['get', 'events', '-n', NS, '--field-selector', 'reason=AnomalyDetected'],
      ]);
      return items.find(
        (e) => e.involvedObject.name === 'auth' && /brute_force on gw-home: /.test(e.message),
      );
    });
    expect(detected).toMatchObject({ type: 'Warning', involvedObject: { kind: 'AnalysisAgent' } });
    const eventsTable = await kubectl([
      ...['get', 'events', '-n', NS, '--field-selector', 'reason=AnomalyDetected'],
    ]);

    // The plugin, found by kubectl on the PATH, lists both namespaces' anomalies.
    const bin = await pluginPath(work);
    const listed = (await pluginJson(bin, ['anomalies', '-A', '--status', 'all'])).items;
    const scan = scenarios.find((s) => s.name === 'Port scan from the WAN')!;
    const isScan = (a: PluginAnomaly): boolean =>
      a.device === ATTACKED &&
      a.type === 'port_scan' &&
      a.evidence.some((id) => injected.get(scan.name)!.has(Number(id)));
    const homeScan = listed.find((a) => a.namespace === NS && isScan(a));
    const branchScan = listed.find((a) => a.namespace === NS2 && isScan(a));
    const brute = listed.find(
      (a) => a.namespace === NS && a.analysisAgent === 'auth' && a.type === 'brute_force',
    );
    expect({ homeScan: !!homeScan, branchScan: !!branchScan, brute: !!brute }).toEqual({
      homeScan: true,
      branchScan: true,
      brute: true,
    });
    const table = await plugin(bin, ['anomalies', '-A']);
    expect(table.split('\n')[0]).toMatch(
      /^NAMESPACE\s+ID\s+AGENT\s+SEVERITY\s+TYPE\s+DEVICE\s+STATUS\s+AGE\s+DESCRIPTION$/,
    );
    expect(table).toContain(branchScan!.name);
    const agentsTable = await plugin(bin, ['agents', '-A']);
    expect(agentsTable).toMatch(new RegExp(`^${NS2}\\s+${BRANCH_AGENT}\\s+firewall\\s+yes`, 'm'));
    const top = await plugin(bin, ['top', 'devices', '-A']);
    expect(top).toMatch(new RegExp(`^${NS}\\s+${ATTACKED}\\s`, 'm'));
    const transcript = [
      `$ kubectl edgewarden anomalies -A\n${table}`,
      `$ kubectl edgewarden agents -A\n${agentsTable}`,
      `$ kubectl edgewarden top devices -A\n${top}`,
      `$ kubectl get events -n ${NS} --field-selector reason=AnomalyDetected\n${eventsTable}`,
    ];
    // Acknowledged, with a note and who did it.
    const ack = ['ack', brute!.name, '-n', NS, '--note', 'looking into it'];
    transcript.push(`$ kubectl edgewarden ${ack.join(' ')}\n${await plugin(bin, ack)}`);
    transcript.push(
      `$ kubectl edgewarden anomaly ${brute!.name} -n ${NS}\n${await plugin(bin, ['anomaly', brute!.name, '-n', NS])}`,
    );
    const acked = await pluginJson<PluginAnomaly>(bin, ['anomaly', brute!.name, '-n', NS]);
    expect(acked).toMatchObject({ status: 'acknowledged', note: 'looking into it' });
    expect(acked.statusBy).toBeTruthy();

    // A false positive in the second namespace: marked, and a suppression of its rule, router
    // and source written into the AnalysisAgent's spec.
    const falsePositive = [
      ...['false-positive', branchScan!.name, '-n', NS2],
      ...['--note', 'our own scanner'],
    ];
    const fpOutput = await plugin(bin, falsePositive);
    expect(fpOutput).toMatch(
      new RegExp(
        `^analysisagent\\.edgewarden\\.io/${BRANCH_AGENT} patched: suppression of rule ${branchScan!.rule} on ${ATTACKED} from 198\\.51\\.100\\.23 until `,
        'm',
      ),
    );
    transcript.push(`$ kubectl edgewarden ${falsePositive.join(' ')}\n${fpOutput}`);
    const marked = await pluginJson<PluginAnomaly>(bin, ['anomaly', branchScan!.name, '-n', NS2]);
    expect(marked.status).toBe('false_positive');
    const spec = await kubectlJson<{
      spec: { rules?: { suppressions?: Record<string, unknown>[] } };
    }>(['get', 'analysisagent', BRANCH_AGENT, '-n', NS2]);
    expect(spec.spec.rules?.suppressions).toEqual([
      expect.objectContaining({
        rule: branchScan!.rule,
        device: ATTACKED,
        source: '198.51.100.23',
        reason: 'our own scanner',
      }),
    ]);
    // In force in the agent (the kubelet updates its mounted configuration within a minute).
    await until('the suppression in force in the branch agent', async () => {
      const status = JSON.parse(await agentPodGet(NS2, `${BRANCH_AGENT}-agent-0`, '/status')) as {
        rules?: { suppressions?: { active?: number } };
      };
      return (status.rules?.suppressions?.active ?? 0) >= 1 ? true : undefined;
    });

    // The same scan again: the next cycle counts it as suppressed, stores and alerts nothing.
    const again = attackRows(scan, ATTACKED, Date.now() - 30_000, 900).map((r) => ({
      ...r,
      scenario: `${scan.name} (again)`,
    }));
    const alertsBefore = alerts.filter((x) => x.agentName === BRANCH_AGENT).length;
    await insert(again);
    const total = await rowCount();
    await until(`${BRANCH_AGENT} to read the new rows`, async () => {
      const a = await kubectlJson<AgentResource>(['get', 'analysisagent', BRANCH_AGENT, '-n', NS2]);
      return a.status?.linesAnalyzed === total ? true : undefined;
    });
    const againIds = injected.get(`${scan.name} (again)`)!;
    const branchStored = await agentStoredAnomalies(NS2, `${BRANCH_AGENT}-agent-0`);
    expect(branchStored.filter((a) => a.evidence.some((id) => againIds.has(Number(id))))).toEqual(
      [],
    );
    const metrics = await agentPodGet(NS2, `${BRANCH_AGENT}-agent-0`, '/metrics');
    const suppressed = new RegExp(
      `^edgewarden_anomalies_suppressed_total\\{[^}]*rule="${branchScan!.rule}"[^}]*\\} (\\d+)`,
      'm',
    ).exec(metrics);
    expect(Number(suppressed?.[1] ?? 0)).toBeGreaterThan(0);
    expect(alerts.filter((x) => x.agentName === BRANCH_AGENT).length).toBe(alertsBefore);

    // A user bound only to edgewarden-viewer: may read through the proxy, may not triage.
    const viewer = await boundUserKubeconfig(work, NS, 'triage-viewer', 'edgewarden-viewer');
    const as = `--as=system:serviceaccount:${NS}:triage-viewer`;
    expect((await kubectl(['auth', 'can-i', 'get', 'pods/proxy', '-n', NS, as])).trim()).toBe(
      'yes',
    );
    const canCreate = await kubectlRun(['auth', 'can-i', 'create', 'pods/proxy', '-n', NS, as]);
    expect({ code: canCreate.code, answer: canCreate.stdout.trim() }).toEqual({
      code: 1,
      answer: 'no',
    });
    const seen = await pluginRun(bin, ['anomalies', '-n', NS, '-o', 'json'], viewer);
    expect(seen.code).toBe(0);
    expect((JSON.parse(seen.stdout) as { items: PluginAnomaly[] }).items.length).toBeGreaterThan(0);
    const refused = await pluginRun(bin, ['resolve', brute!.name, '-n', NS], viewer);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/forbidden/i);
    const still = await pluginJson<PluginAnomaly>(bin, ['anomaly', brute!.name, '-n', NS]);
    expect(still.status).toBe('acknowledged');
    transcript.push(
      `$ kubectl edgewarden resolve ${brute!.name} -n ${NS}   # as the viewer\n${refused.stderr}`,
      `$ kubectl edgewarden anomalies -n ${NS2} --status all -o wide\n${await plugin(bin, ['anomalies', '-n', NS2, '--status', 'all', '-o', 'wide'])}`,
    );
    // What docs/operating.md quotes, kept outside the run's folder (which afterAll removes).
    await writeFile(path.join(tmpdir(), 'edgewarden-e2e-plugin-output.txt'), transcript.join('\n'));
  },
  900_000,
);

// ---- 7 --------------------------------------------------------------------------------------

step(
  '7. helm uninstall: the operator goes; CRDs, resources, agents and their stores stay',
  async () => {
    await helm(['uninstall', RELEASE, '-n', RELEASE_NS, '--wait']);
    for (const kind of ['deployment', 'serviceaccount', 'service', 'role', 'rolebinding']) {
      const left = await kubectl([
        'get',
        kind,
        '-n',
        RELEASE_NS,
        '-l',
        'app.kubernetes.io/instance=edgewarden',
        '-o',
        'name',
      ]);
      expect({ kind, left: left.trim() }).toEqual({ kind, left: '' });
    }
    const clusterRoles = await kubectl(['get', 'clusterroles,clusterrolebindings', '-o', 'name']);
    expect(clusterRoles).not.toMatch(/edgewarden/);

    const crds = await kubectl(['get', 'crd', '-o', 'name']);
    for (const crd of ['analysisagents', 'modeldeployments', 'exportjobs'])
      expect(crds).toContain(`${crd}.edgewarden.io`);
    expect(
      (await kubectl(['get', 'analysisagents', '-n', NS, '-o', 'name'])).trim().split('\n'),
    ).toHaveLength(agentNames.length);
    expect(await kubectl(['get', 'modeldeployment', 'dns-model', '-n', NS, '-o', 'name'])).toMatch(
      /dns-model/,
    );
    expect(await kubectl(['get', 'exportjobs', '-n', NS, '-o', 'name'])).toMatch(/day/);
    // The agents run on, unmanaged, with their stores.
    const stored = await storedAnomalies('dns');
    expect(stored.length).toBeGreaterThan(0);

    // Deleting an AnalysisAgent now: its StatefulSet and pod go (garbage collection of what it
    // owns), its claim (the SQLite store) stays.
    await kubectl(['delete', 'analysisagent', 'wifi', '-n', NS]);
    await until('the wifi agent StatefulSet and pod to go', async () => {
      const left = await kubectl([
        'get',
        'statefulsets,pods',
        '-n',
        NS,
        '-l',
        'app.kubernetes.io/component=agent,app.kubernetes.io/instance=wifi',
        '-o',
        'name',
      ]);
      return left.trim() === '' ? true : undefined;
    });
    const claims = await kubectl(['get', 'pvc', '-n', NS, '-o', 'name']);
    expect(claims).toMatch(/wifi-agent-0/);
  },
  300_000,
);
