// The Grafana dashboards, end to end: no dead panels. A real control plane, the operator as a
// process, a real PostgreSQL that router logs keep arriving in (the OpenWrt sample, replayed
// from three routers) with the demo's attacks injected, and each of the six agents run in turn
// from its AnalysisAgent's pod (the image, on the test cluster's real node, at the pod's own
// IP) with a model to serve: the shipped baselines, or models trained here with `edgewarden
// train`'s code; the auth agent's then replaced by a ModelDeployment rollout. An ExportJob
// runs to completion. A real Prometheus (3.x, built from the Go module proxy) finds the agent
// pods with kubernetes_sd_configs (the API server's pod list) and scrapes them at their pod
// IPs through the chart's PodMonitor relabelling, and the operator with its ServiceMonitor's
// labels, every second. What the pods connect to (PostgreSQL, the Slack receiver, a real
// Alertmanager: Debian's prometheus-alertmanager) listens on the node's address, where the pods
// reach this machine (EDGEWARDEN_E2E_HOST_ADDRESS). Every agent sends its anomalies to that
// Alertmanager (spec.notifications.alertmanager.url); the auth agent suppresses the SSH brute
// force on one router (spec.rules.suppressions), and one of its anomalies is marked a false
// positive through its API, so the overview's Triage row has something to show.
//
// Then every dashboard the chart renders (dashboards.enabled, ConfigMaps found by the Grafana
// sidecar's label in the API server) is read as Grafana reads it: its variables resolved by
// their label_values() queries, the built-in intervals set, and every panel query run over the
// whole run. Each must return data (a series with a value that is a number); a failure names
// the dashboard, the panel and the query. Some panels are checked for what they must show: the
// injected attacks' types by agent, the model versions, the device attacked, the export's phase.
// The overview's open-anomalies panel (Grafana's Alert groups panel) runs no Prometheus query:
// its matcher is run against the Alertmanager while each agent runs, and must list its attacks.
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import {
  connect,
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
} from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { parseAllDocuments } from 'yaml';

import { agentNames } from '../../agent-runtime/src/agents/registry.js';
import type { AgentName } from '../../agent-runtime/src/agents/types.js';
import { logreadTime, scenarios } from '../../agent-runtime/src/demo/attacks.js';
import { SyslogParser } from '../../agent-runtime/src/parse/syslog.js';
import { train } from '../../agent-runtime/src/trainer/train.js';
import {
  alertmanagerFilters,
  openAnomaliesMatchers,
  panelLabelFilter,
} from '../../scripts/dashboards/alertmanager.js';
import type { Dashboard } from '../../scripts/dashboards/model.js';
import {
  applyObject,
  createNamespace,
  createSecret,
  helmRun,
  hostPathClaim,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  repoRoot,
  SOURCE_SECRETS,
  startOperator,
  eventually,
} from '../integration/kube.js';
import { startAlertmanager, type AlertmanagerServer } from '../services/alertmanager.js';
import {
  adminClient,
  createLogTable,
  startPostgres,
  type PostgresServer,
} from '../services/postgres.js';
import {
  applyRegex,
  formatValues,
  parseLabelValues,
  queryVariables,
  substitute,
  timeVariables,
} from './grafana.js';
import { podGet, podPostTriage, storedAnomalies } from './agentApi.js';
import { nodeInPod } from './inPod.js';
import { podLogs, runningPod, type NodePod } from './pods.js';
import {
  activeTargets,
  instantQuery,
  kubernetesPodDiscovery,
  labelValues,
  podMonitorRelabelling,
  rangeQuery,
  startPrometheus,
  type PodMonitor,
  type PrometheusServer,
  type Series,
  type ServiceMonitor,
} from './prometheus.js';

/** Prometheus scrapes every second (the chart's monitors say 30s: a test has minutes, not hours). */
const SCRAPE_SECONDS = 1;
/** Grafana's step for the range queries, and so its $__interval. */
const STEP_SECONDS = 5;
const chart = path.join(repoRoot, 'charts/edgewarden');
/** The routers the background logs come from, and how many lines each sends per second. */
const ROUTERS: [string, number][] = [
  ['gw-shop', 40],
  ['gw-home', 15],
  ['ap-garden', 5],
];
/** The router the attacks land on. */
const ATTACKED = 'gw-shop';
/** The router the auth agent's suppression covers: the SSH brute force lands here too, suppressed. */
const SUPPRESSED = 'ap-garden';
/** The rule the SSH brute force scenario trips (agent-runtime/rules/auth.yaml). */
const BRUTE_FORCE_RULE = 'auth.dropbear-brute-force';

/** This machine's address as the pods see it: the test node's (jest-global-setup.mjs). */
const hostAddress = process.env.EDGEWARDEN_E2E_HOST_ADDRESS;
let started: number;
let namespace: string;
let monitoring: string;
let postgres: PostgresServer;
let admin: pg.Client;
let operator: { proc: ChildProcess; log: () => string };
let prometheus: PrometheusServer | undefined;
let receiver: Server;
let alertmanager: AlertmanagerServer;
/** The Alertmanager's port on the node's address, relayed to its loopback one. */
let alertmanagerRelay: TcpServer;
let alertmanagerUrl: string;
/** What the open-anomalies panel's matcher found in the Alertmanager, by agent, while it ran. */
const alertmanagerShown = new Map<AgentName, AlertmanagerAlert[]>();
let background: NodeJS.Timeout | undefined;
let work: string;
const pvName = `e2e-exports-pv-${process.pid}`;
const notifications: string[] = [];
/** The model each agent serves first: its folder and version. */
const models = new Map<AgentName, { dir: string; version: string }>();

type Doc = {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
};

const parser = new SyslogParser();
/** A logread line's parts, as the collector stores them. */
function row(text: string): { level: string; program: string; message: string } {
  const parsed = parser.parse(text);
  if (!parsed.ok) throw new Error(`unparsable line: ${text}`);
  const r = parsed.record;
  return { level: r.level ?? 'info', program: r.program ?? '', message: r.message };
}

/** Inserts rows, all stamped now() by the database, in one statement (one agent cycle sees them whole). */
async function insert(
  rows: { device: string; level: string; program: string; message: string }[],
): Promise<void> {
  await admin.query(
    `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
     SELECT d, now(), l, p, m FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(d, l, p, m)`,
    [
      rows.map((r) => r.device),
      rows.map((r) => r.level),
      rows.map((r) => r.program),
      rows.map((r) => r.message),
    ],
  );
}

/** Synthetic quiet logs for an agent that ships no baseline model, in logread's format. */
function trainingLog(agent: 'auth' | 'firewall'): string {
  const lines: string[] = [];
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let w = 0; w < 2000; w++) {
    const n = Math.floor(random() * 6);
    for (let i = 0; i < n; i++) {
      const t = t0 + w * 10_000 + i * 1000;
      const host = `192.168.1.${10 + Math.floor(random() * 20)}`;
      lines.push(
        agent === 'auth'
          ? random() < 0.8
            ? `${logreadTime(t)} authpriv.info dropbear[${1000 + w}]: Password auth succeeded for 'root' from ${host}:${40000 + i}`
            : `${logreadTime(t)} authpriv.warn dropbear[${1000 + w}]: Bad password attempt for 'root' from ${host}:${40000 + i}`
          : `${logreadTime(t)} kern.warn kernel: [${(w * 10 + i).toFixed(6)}] drop wan in: IN=eth0.2 OUT= SRC=203.0.113.${Math.floor(random() * 50)} DST=192.0.2.1 LEN=44 PROTO=TCP SPT=${40000 + i} DPT=${[22, 80, 443, 8080][i % 4]} WINDOW=1024 SYN URGP=0`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

async function trainModel(agent: 'auth' | 'firewall'): Promise<{ dir: string; version: string }> {
  const input = path.join(work, `${agent}-training.log`);
  await writeFile(input, trainingLog(agent));
  const out = path.join(work, `${agent}-model`);
  const version = `${agent}-e2e-1`;
  await train({
    agent,
    inputs: [input],
    out,
    trees: 50,
    sampleSize: 128,
    contamination: 0.01,
    seed: 1,
    windowMs: 10_000,
    version,
    defaultHost: 'gw-train',
  });
  return { dir: out, version };
}

/** The pod's log, as `kubectl logs` gives it (through the kubelet), for failure messages. */
const podLog = (selector: string[]): Promise<string> =>
  podLogs(namespace, selector).then((log) => log.slice(-3000));

/** The agent's address: its pod IP and the port of its `http` container port. */
function agentUrl(pod: NodePod): string {
  const port = pod.spec.containers[0]!.ports!.find((p) => p.name === 'http')!.containerPort;
  return `http://${pod.status!.podIP}:${port}`;
}

/**
 * Puts `from`'s files in the pod's volume `volume`, as a delivery leaves them, through `kubectl
 * exec` (the image has no shell or tar for `kubectl cp`: its Node writes what it reads on
 * stdin, each file under a temporary name first, then renamed, so the agent never reads half).
 */
async function copyIntoPod(pod: NodePod, volume: string, from: string): Promise<void> {
  const container = pod.spec.containers[0]!;
  const mount = container.volumeMounts!.find((m) => m.name === volume)!.mountPath;
  const files = await Promise.all(
    (await readdir(from)).map(async (name) => ({
      name,
      data: (await readFile(path.join(from, name))).toString('base64'),
    })),
  );
  const script = [
    "const fs = require('fs'), path = require('path');",
    "let input = '';",
    "process.stdin.on('data', (d) => (input += d)).on('end', () => {",
    '  for (const f of JSON.parse(input)) {',
    `    const target = path.join(${JSON.stringify(mount)}, f.name);`,
    "    fs.writeFileSync(target + '.partial', Buffer.from(f.data, 'base64'));",
    "    fs.renameSync(target + '.partial', target);",
    '  }',
    '});',
  ].join('\n');
  await nodeInPod(namespace, pod.metadata.name, container.name, script, JSON.stringify(files));
}

interface AgentStatusView {
  model?: { version?: string };
  lastCycleTime?: string;
  linesAnalyzed: number;
}
// Through the API server's pod proxy with the agent's read token (issue 20, H2: /status is
// authenticated), as a user reads it.
const agentStatus = async (pod: NodePod): Promise<AgentStatusView> =>
  JSON.parse(await podGet(namespace, pod.metadata.name, '/status')) as AgentStatusView;

const query = (q: string): Promise<Series[]> => instantQuery(prometheus!.url, q);

interface AlertmanagerAlert {
  labels: Record<string, string>;
  status: { state: string };
}

/**
 * The active alerts the open-anomalies panel lists: its matchers as Alertmanager's own filter
 * (GET /api/v2/alerts?filter=...), as Grafana's Alert groups panel matches them in the browser.
 */
async function openAnomalyAlerts(): Promise<AlertmanagerAlert[]> {
  const params = new URLSearchParams({ active: 'true' });
  for (const f of alertmanagerFilters(openAnomaliesMatchers)) params.append('filter', f);
  const res = await fetch(`${alertmanager.url}/api/v2/alerts?${params.toString()}`);
  if (!res.ok) throw new Error(`Alertmanager: HTTP ${res.status}: ${await res.text()}`);
  return (await res.json()) as AlertmanagerAlert[];
}

/**
 * Relays the node's address to the Alertmanager on loopback (test/services/alertmanager.ts
 * listens on 127.0.0.1 only), so the agent pods reach it as they reach PostgreSQL.
 */
async function relayToAlertmanager(port: number): Promise<TcpServer> {
  const relay = createTcpServer((socket) => {
    const upstream = connect(port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    const end = () => (socket.destroy(), upstream.destroy());
    socket.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((r) => relay.listen(0, hostAddress, () => r()));
  return relay;
}

/** Waits until Prometheus answers `q` with a series, with the agent pod's log on failure. */
async function scraped(what: string, q: string, pod?: string, timeoutMs = 90_000) {
  return eventually(
    what,
    async () => {
      const r = await query(q);
      return r.length > 0 ? r : undefined;
    },
    timeoutMs,
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}\nquery: ${q}\nagent:\n${pod ? await podLog([pod]) : ''}\nprometheus:\n${prometheus?.log().slice(-2000)}`,
    );
  });
}

beforeAll(async () => {
  started = Math.floor(Date.now() / 1000);
  if (!hostAddress)
    throw new Error('EDGEWARDEN_E2E_HOST_ADDRESS is not set: run with jest.e2e.config.js');
  work = await mkdtemp(path.join(tmpdir(), 'edgewarden-e2e-'));
  await installCrds();
  namespace = await createNamespace('e2e-home');
  monitoring = await createNamespace('monitoring');
  // On the node's address too, where the pods reach it (its certificate names that address).
  postgres = await startPostgres([hostAddress]);
  admin = await adminClient(postgres);
  await createLogTable(admin);
  models.set('auth', await trainModel('auth'));
  models.set('firewall', await trainModel('firewall'));
  for (const name of ['wifi', 'dns', 'system', 'template'] as const) {
    const manifest = JSON.parse(
      await readFile(path.join(repoRoot, 'models', name, 'manifest.json'), 'utf8'),
    ) as { version: string };
    models.set(name, { dir: path.join(repoRoot, 'models', name), version: manifest.version });
  }

  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      notifications.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, hostAddress, () => r()));
  alertmanager = await startAlertmanager();
  alertmanagerRelay = await relayToAlertmanager(alertmanager.port);
  alertmanagerUrl = `http://${hostAddress}:${(alertmanagerRelay.address() as AddressInfo).port}`;
  // The Secrets name this machine as the pods reach it.
  await createSecret(
    namespace,
    'router-logs-db',
    `--from-literal=url=postgresql://reader:reader-secret@${hostAddress}:${postgres.port}/postgres`,
  );
  await createSecret(
    namespace,
    'router-logs-db-ca',
    `--from-file=ca.crt=${path.join(postgres.dir, 'ca.crt')}`,
  );
  await createSecret(
    namespace,
    'edgewarden-slack',
    `--from-literal=url=http://${hostAddress}:${(receiver.address() as AddressInfo).port}/services/T0/B0/x`,
  );
  // The ExportJob's destination: a claim bound to a folder of this machine.
  const exports = path.join(work, 'exports');
  await mkdir(exports);
  await chmod(exports, 0o777);
  await hostPathClaim(pvName, exports, { namespace, name: 'exports' });

  // The chart with monitoring on, as kube-prometheus-stack users install it: the monitors
  // give Prometheus its scrape configs, and the dashboards' ConfigMaps go to the API server.
  const rendered = await helmRun([
    'template',
    'ew',
    chart,
    '-n',
    'edgewarden-system',
    '--kube-version',
    '1.34.4',
    '-f',
    path.join(chart, 'ci/monitoring-values.yaml'),
    '--set',
    `dashboards.namespace=${monitoring}`,
  ]);
  if (rendered.code !== 0) throw new Error(`helm template failed: ${rendered.stderr}`);
  const docs = parseAllDocuments(rendered.stdout)
    .map((d) => d.toJSON() as Doc | null)
    .filter((d): d is Doc => d !== null);
  for (const cm of docs.filter((d) => d.kind === 'ConfigMap'))
    await kubectl(
      ['apply', '--server-side', '--field-manager=edgewarden-tests', '-f', '-'],
      JSON.stringify(cm),
    );
  const podMonitor = docs.find((d) => d.kind === 'PodMonitor') as unknown as PodMonitor;
  const serviceMonitor = docs.find((d) => d.kind === 'ServiceMonitor') as unknown as ServiceMonitor;
  const service = docs.find((d) => d.kind === 'Service')!;
  const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as {
    metadata: { name: string };
    spec: { template: { spec: { containers: { name: string; ports: { name: string }[] }[] } } };
  };

  operator = startOperator(namespace, ['--poll', '2s']);
  await eventually('the operator to sync its caches', () =>
    Promise.resolve(operator.log().includes('caches synced') ? true : undefined),
  );
  const metricsPort = /"metricsPort":(\d+)/.exec(operator.log())![1]!;

  const smEndpoint = serviceMonitor.spec.endpoints[0]!;
  const servicePort = (
    service.spec as { ports: { name: string; targetPort: string }[] }
  ).ports.find((p) => p.name === smEndpoint.port)!;
  const operatorContainer = deployment.spec.template.spec.containers.find((c) =>
    c.ports.some((p) => p.name === servicePort.targetPort),
  )!;
  prometheus = await startPrometheus({
    global: { scrape_interval: `${SCRAPE_SECONDS}s`, scrape_timeout: `${SCRAPE_SECONDS}s` },
    scrape_configs: [
      {
        job_name: `podMonitor/${podMonitor.metadata.namespace}/${podMonitor.metadata.name}/0`,
        metrics_path: podMonitor.spec.podMetricsEndpoints[0]!.path ?? '/metrics',
        kubernetes_sd_configs: [await kubernetesPodDiscovery([namespace])],
        relabel_configs: podMonitorRelabelling(podMonitor),
      },
      {
        // The operator runs as a process (startOperator), not as the chart's pod, so no
        // discovery can find it: its target is static, with the labels the Prometheus
        // Operator gives the ServiceMonitor's target (endpoints of the chart's Service, the
        // Deployment's pod and container, job = the Service's name).
        job_name: `serviceMonitor/${serviceMonitor.metadata.namespace}/${serviceMonitor.metadata.name}/0`,
        metrics_path: smEndpoint.path ?? '/metrics',
        static_configs: [
          {
            targets: [`127.0.0.1:${metricsPort}`],
            labels: {
              namespace: serviceMonitor.metadata.namespace,
              service: service.metadata.name,
              endpoint: smEndpoint.port,
              container: operatorContainer.name,
              pod: `${deployment.metadata.name}-7d9f8b6c5d-local`,
            },
          },
        ],
        relabel_configs: [{ target_label: 'job', replacement: service.metadata.name }],
      },
    ],
  });

  // Router logs keep arriving: the OpenWrt sample, replayed from three routers.
  const sample = (
    await readFile(path.join(repoRoot, 'agent-runtime/data/openwrt/logread-sample.log'), 'utf8')
  )
    .split('\n')
    .filter(Boolean)
    .map(row);
  let next = 0;
  background = setInterval(() => {
    const rows = ROUTERS.flatMap(([device, perSecond]) =>
      Array.from({ length: perSecond }, () => ({ device, ...sample[next++ % sample.length]! })),
    );
    void insert(rows).catch(() => undefined);
  }, 1000);
}, 240_000);

afterAll(async () => {
  clearInterval(background);
  if (operator && operator.proc.exitCode === null) {
    operator.proc.kill('SIGTERM');
    await new Promise((r) => operator.proc.once('exit', r));
  }
  await prometheus?.stop();
  await new Promise((r) => receiver?.close(r));
  await new Promise((r) => alertmanagerRelay?.close(r));
  await alertmanager?.close();
  await admin?.end().catch(() => undefined);
  await postgres?.remove();
  // The namespace's pods go with it: the kubelet stops them.
  for (const ns of [namespace, monitoring])
    if (ns) await kubectlRun(['delete', 'namespace', ns, '--wait=false']);
  await kubectlRun(['delete', 'pv', pvName, '--wait=false']);
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

/** The anomaly types that count as finding the attacks injected for `agent`. */
function expectedTypes(agent: AgentName): string[][] {
  if (agent === 'template') return [['new_template', 'new_template_burst']];
  return scenarios.filter((s) => s.agent === agent).map((s) => [...s.types]);
}

describe.each(agentNames.map((n) => [n]))('the %s agent', (agent) => {
  const name = `home-${agent}`;
  const podName = `${name}-agent-0`;
  let pod: NodePod;

  test('runs from its pod, finds the attacks injected, and is scraped with its model', async () => {
    const model = models.get(agent)!;
    await applyObject({
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'AnalysisAgent',
      metadata: { name, namespace },
      spec: {
        agent,
        interval: '10s',
        source: {
          ...SOURCE_SECRETS,
        },
        model: { name: `${agent}-model` },
        thresholds: { storeSeverity: 'info', alertSeverity: 'info' },
        notifications: {
          slack: { webhookSecretRef: { name: 'edgewarden-slack' } },
          alertmanager: { url: alertmanagerUrl },
        },
        // The SSH brute force on SUPPRESSED is suppressed: counted, not stored or alerted.
        ...(agent === 'auth'
          ? {
              rules: {
                suppressions: [
                  {
                    rule: BRUTE_FORCE_RULE,
                    device: SUPPRESSED,
                    expires: new Date(Date.now() + 86_400_000).toISOString(),
                    reason: 'e2e: the suppressed matches panel',
                  },
                ],
              },
            }
          : {}),
      },
    });
    // The node runs the pod the scheduler puts on it; the agent answers at its pod IP.
    pod = await runningPod(namespace, podName);
    await eventually(
      `${agent}: the agent answering at ${agentUrl(pod)}`,
      () => agentStatus(pod).catch(() => undefined),
      120_000,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\nagent:\n${await podLog([podName])}`);
    });
    // The model arrives in the model volume, as a delivery would leave it.
    await copyIntoPod(pod, 'model', model.dir);
    const warm = agent === 'template' ? 2000 : 1; // the template agent learns before it reports
    await eventually(
      `${agent}: the model served and ${warm} lines analysed`,
      async () => {
        const s = await agentStatus(pod).catch(() => undefined);
        return s?.model?.version === model.version && s.linesAnalyzed >= warm ? s : undefined;
      },
      120_000,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\nagent:\n${await podLog([podName])}`);
    });
    // And its pod Ready in the API server (the kubelet reports the readiness probe's answer).
    await eventually(
      `${agent}: pod ${podName} Ready`,
      async () => {
        const p = await kubectlJson<NodePod>(['get', 'pod', podName, '-n', namespace]);
        return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : undefined;
      },
      60_000,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\nagent:\n${await podLog([podName])}`);
    });

    // The attacks, on one router: each scenario's lines in one statement (one window).
    const random = (() => {
      let a = 1;
      return () => ((a = (a * 48271) % 2147483647) - 1) / 2147483646;
    })();
    const attack = (s: (typeof scenarios)[number], device: string) =>
      insert(
        s
          .lines(random)
          .map(([, rest]) => ({ device, ...row(`${logreadTime(Date.now())} ${rest}`) })),
      );
    for (const s of scenarios.filter((x) => agent === 'template' || x.agent === agent))
      await attack(s, ATTACKED);
    // And the SSH brute force on the router the auth agent's suppression covers.
    if (agent === 'auth')
      for (const s of scenarios.filter((x) => x.agent === 'auth')) await attack(s, SUPPRESSED);

    const sel = `namespace="${namespace}", pod="${podName}", agent="${agent}"`;
    const found = await scraped(
      `${agent}: the attacks' anomaly types in Prometheus`,
      `edgewarden_anomalies_total{${sel}}`,
      podName,
    ).then(async () =>
      eventually(
        `${agent}: every attack found`,
        async () => {
          const types = new Set(
            (await query(`edgewarden_anomalies_total{${sel}}`)).map((r) => r.metric.type!),
          );
          return expectedTypes(agent).every((any) => any.some((t) => types.has(t)))
            ? types
            : undefined;
        },
        90_000,
      ).catch(async (error: Error) => {
        const types = (await query(`edgewarden_anomalies_total{${sel}}`)).map((r) => r.metric.type);
        throw new Error(
          `${error.message}: found ${types.join(', ')}\nagent:\n${await podLog([podName])}`,
        );
      }),
    );
    expect(found.size).toBeGreaterThan(0);
    // What the dashboards show besides: per-device series, drift of the served model, the
    // notifications, and histograms that have moved (so their rates are numbers).
    for (const q of [
      `edgewarden_device_anomalies_total{${sel}, device="${ATTACKED}"}`,
      `edgewarden_device_last_line_timestamp_seconds{${sel}}`,
      `edgewarden_feature_drift{${sel}}`,
      `edgewarden_model_info{${sel}, version="${model.version}"}`,
      `edgewarden_notifications_total{${sel}, outcome="sent"}`,
      `increase(edgewarden_inference_duration_seconds_count{${sel}}[20s]) > 0`,
      `increase(edgewarden_cycle_duration_seconds_count{${sel}}[20s]) > 0`,
      `up{namespace="${namespace}", pod="${podName}", container="agent"} == 1`,
      ...(agent === 'auth'
        ? [
            `edgewarden_anomalies_suppressed_total{${sel}, rule="${BRUTE_FORCE_RULE}"} > 0`,
            `edgewarden_rule_anomalies{${sel}, rule="${BRUTE_FORCE_RULE}", status="open"} > 0`,
          ]
        : []),
    ])
      await scraped(`${agent}: ${q}`, q, podName);
    // A counter needs two samples for rate() and increase(): the pod runs on until every
    // series a panel reads has ten.
    for (const metric of [
      'edgewarden_anomalies_total',
      'edgewarden_device_anomalies_total',
      'edgewarden_notifications_total',
      ...(agent === 'auth' ? ['edgewarden_anomalies_suppressed_total'] : []),
    ])
      await scraped(
        `${agent}: ten samples of each ${metric} series`,
        `min(count_over_time(${metric}{${sel}}[5m])) >= 10`,
        podName,
      );
  });

  test("its attacks fire in Alertmanager, where the overview's open-anomalies matcher finds them", async () => {
    const mine = await eventually(
      `${agent}: its attacks' anomalies firing in Alertmanager`,
      async () => {
        const alerts = (await openAnomalyAlerts()).filter(
          (a) => a.labels.namespace === namespace && a.labels.agent === name,
        );
        const types = new Set(alerts.map((a) => a.labels.type!));
        return alerts.some((a) => a.labels.device === ATTACKED) &&
          expectedTypes(agent).every((any) => any.some((t) => types.has(t)))
          ? alerts
          : undefined;
      },
      90_000,
    ).catch(async (error: Error) => {
      const alerts = await openAnomalyAlerts().catch((e: Error) => e.message);
      throw new Error(
        `${error.message}\nalertmanager has: ${JSON.stringify(alerts).slice(0, 2000)}\n${alertmanager.log().slice(-2000)}\nagent:\n${await podLog([podName])}`,
      );
    });
    for (const a of mine) {
      expect(a.labels.alertname).toBe('EdgewardenAnomaly');
      expect(a.labels.agent_kind).toBe(agent);
      expect(a.status.state).toBe('active');
    }
    // The suppressed brute force raised none.
    if (agent === 'auth')
      expect(
        mine.filter((a) => a.labels.device === SUPPRESSED && a.labels.rule === BRUTE_FORCE_RULE),
      ).toEqual([]);
    alertmanagerShown.set(agent, mine);
  });

  if (agent === 'auth')
    test('an anomaly marked a false positive through its API counts in the per-rule gauge', async () => {
      const target = (await storedAnomalies(namespace, podName)).find(
        (a) => a.rule === BRUTE_FORCE_RULE && a.device === ATTACKED,
      );
      expect(target).toBeDefined();
      const updated = JSON.parse(
        await podPostTriage(namespace, podName, `/anomalies/${target!.id}/status`, {
          status: 'false_positive',
          note: 'e2e: the false-positive panel',
          by: 'e2e',
        }),
      ) as { status: string };
      expect(updated.status).toBe('false_positive');
      await scraped(
        'the false positive in edgewarden_rule_anomalies',
        `edgewarden_rule_anomalies{namespace="${namespace}", pod="${podName}", rule="${BRUTE_FORCE_RULE}", status="false_positive"} >= 1`,
        podName,
      );
    });

  if (agent === 'auth')
    test('a ModelDeployment rolls a new model out to it, and the operator reports the transition', async () => {
      const model = models.get('auth')!;
      const file = path.join(model.dir, 'model.onnx');
      await kubectl([
        'create',
        'configmap',
        'auth-2',
        '-n',
        namespace,
        `--from-file=model.onnx=${file}`,
      ]);
      await kubectl([
        'label',
        'configmap',
        'auth-2',
        '-n',
        namespace,
        'edgewarden.io/model-source=true',
      ]);
      const manifest = JSON.parse(
        await readFile(path.join(model.dir, 'manifest.json'), 'utf8'),
      ) as { features: string[]; threshold: number };
      await applyObject({
        apiVersion: 'edgewarden.io/v1alpha1',
        kind: 'ModelDeployment',
        metadata: { name: 'auth-model', namespace },
        spec: {
          agent: 'auth',
          version: 'auth-2',
          features: manifest.features,
          threshold: manifest.threshold,
          source: { configMap: { name: 'auth-2', key: 'model.onnx' } },
        },
      });
      await eventually(
        'auth-2 rolled out',
        async () =>
          (await kubectl([
            'get',
            'modeldeployment',
            'auth-model',
            '-n',
            namespace,
            '-o',
            'jsonpath={.status.activeVersion}/{.status.transition}',
          ])) === 'auth-2/UpToDate'
            ? true
            : undefined,
        90_000,
      ).catch(async (error: Error) => {
        const status = await kubectl([
          'get',
          'modeldeployment',
          'auth-model',
          '-n',
          namespace,
          '-o',
          'jsonpath={.status}',
        ]);
        throw new Error(
          `${error.message}\nstatus: ${status}\noperator:\n${operator.log().slice(-4000)}\nagent:\n${await podLog([podName])}`,
        );
      });
      // Served long enough to show on a graph of 5 s steps.
      await scraped(
        'auth-2 served',
        `count_over_time(edgewarden_model_info{namespace="${namespace}", agent="auth", version="auth-2"}[5m]) >= ${3 * STEP_SECONDS}`,
        podName,
      );
      await scraped(
        'the transition gauge',
        `edgewarden_operator_modeldeployment_transition{resource_namespace="${namespace}", modeldeployment="auth-model", transition="UpToDate"} == 1`,
      );
    });

  // One agent at a time, as a user might try them: the machine has two cores, and each agent's
  // anomalies come from the attacks injected while it runs.
  test('its AnalysisAgent is paused: its pod goes, and Prometheus stops scraping it', async () => {
    await kubectl([
      'patch',
      'analysisagent',
      name,
      '-n',
      namespace,
      '--type=merge',
      '-p',
      '{"spec":{"paused":true}}',
    ]);
    // Scaled to zero: the pod is deleted, and the kubelet stops it and removes it.
    await eventually(
      `${podName} stopped and gone from the API server`,
      async () => {
        const r = await kubectlRun(['get', 'pod', podName, '-n', namespace, '-o', 'name']);
        return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
      },
      90_000,
    );
    await eventually(
      `${podName} gone from Prometheus's targets`,
      async () =>
        (await activeTargets(prometheus!.url)).some((t) => t.labels.pod === podName)
          ? undefined
          : true,
      60_000,
    );
  });
});

test('an ExportJob runs to completion, and the operator reports its phase', async () => {
  await applyObject({
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'ExportJob',
    metadata: { name: 'last-hour', namespace },
    spec: {
      source: { analysisAgentRef: { name: 'home-dns' } },
      dataTypes: ['logs'],
      timeRange: { last: '1h' },
      format: 'jsonl',
      destination: { persistentVolumeClaim: { claimName: 'exports' }, path: 'out/last-hour' },
    },
  });
  // The export's Job pod runs on the node; the kubelet reports its end to the Job controller.
  await eventually(
    'the export to succeed',
    async () =>
      (await kubectl([
        'get',
        'exportjob',
        'last-hour',
        '-n',
        namespace,
        '-o',
        'jsonpath={.status.phase}',
      ])) === 'Succeeded'
        ? true
        : undefined,
    120_000,
  ).catch(async (error: Error) => {
    const status = await kubectl([
      'get',
      'exportjob',
      'last-hour',
      '-n',
      namespace,
      '-o',
      'jsonpath={.status}',
    ]);
    throw new Error(
      `${error.message}\nstatus: ${status}\nexporter:\n${await podLog(['-l', 'job-name=last-hour-export'])}`,
    );
  });
  await scraped(
    'the phase gauge',
    `edgewarden_operator_exportjob_phase{resource_namespace="${namespace}", exportjob="last-hour", phase="Succeeded"} == 1`,
  );
});

// ---------------------------------------------------------------------------------------------
// The dashboards

interface Checked {
  dashboard: string;
  panel: string;
  expr: string;
  series: Series[];
}
const checked: Checked[] = [];

/** The dashboards as Grafana's sidecar finds them: ConfigMaps with its label, in the API server. */
async function sidecarDashboards(): Promise<Dashboard[]> {
  const list = await kubectlJson<{
    items: {
      metadata: { namespace: string; annotations?: Record<string, string> };
      data: Record<string, string>;
    }[];
  }>(['get', 'configmaps', '--all-namespaces', '-l', 'grafana_dashboard=1']);
  for (const cm of list.items) {
    expect(cm.metadata.namespace).toBe(monitoring);
    expect(cm.metadata.annotations?.grafana_folder).toBe('edgewarden');
  }
  return list.items.flatMap((cm) =>
    Object.values(cm.data).map((text) => JSON.parse(text) as Dashboard),
  );
}

/** True when some series has a value that is a number (NaN is a gap on a graph, not data). */
const hasData = (series: Series[]): boolean =>
  series.some((s) =>
    (s.values ?? (s.value ? [s.value] : [])).some(([, v]) => !Number.isNaN(Number(v))),
  );

/**
 * A panel without Prometheus queries: only the overview's Alert groups panel may be one, its
 * filter the matchers run against the Alertmanager above, and those found every agent's attacks.
 */
function alertGroupsProblems(d: Dashboard, p: Dashboard['panels'][number]): string[] {
  const where = `${d.title} / "${p.title}"`;
  if (p.type !== 'alertGroups' || d.uid !== 'edgewarden-overview') return [`${where}: no queries`];
  const labels = (p.options as { labels?: string } | undefined)?.labels;
  const wanted = panelLabelFilter(openAnomaliesMatchers);
  if (labels !== wanted) return [`${where}: filter ${labels}, the test ran ${wanted}`];
  return agentNames
    .filter((a) => !(alertmanagerShown.get(a)?.length ?? 0))
    .map((a) => `${where}: nothing of the ${a} agent found in Alertmanager`);
}

test('every panel of every dashboard returns data', async () => {
  // A few scrapes after the last event, so the last rates have two samples.
  await new Promise((r) => setTimeout(r, 3 * STEP_SECONDS * 1000));
  const end = Math.floor(Date.now() / 1000);
  const start = started;
  const dashboards = await sidecarDashboards();
  expect(dashboards.map((d) => d.uid).sort()).toEqual(
    [
      'edgewarden-overview',
      'edgewarden-operator',
      ...agentNames.map((n) => `edgewarden-agent-${n}`),
    ].sort(),
  );
  // The check itself: an empty answer, and one of NaN only, are dead; a number is data.
  const probe = (q: string) => rangeQuery(prometheus!.url, q, start, end, STEP_SECONDS);
  expect(hasData(await probe('up{job="no-such-job"}'))).toBe(false);
  expect(hasData(await probe('vector(0) / 0'))).toBe(false);
  expect(hasData(await probe('vector(0)'))).toBe(true);
  const dead: string[] = [];
  for (const d of dashboards) {
    const values: Record<string, string> = {
      ...timeVariables(end - start, STEP_SECONDS, SCRAPE_SECONDS),
    };
    for (const v of queryVariables(d)) {
      const { selector, label } = parseLabelValues(substitute(v.definition!, values));
      const found = applyRegex(
        await labelValues(prometheus!.url, label, selector, start, end),
        v.regex,
      ).sort();
      if (found.length === 0) {
        dead.push(`${d.title}: variable $${v.name} (${v.definition}) has no values`);
        values[v.name] = '__none__';
      } else values[v.name] = formatValues([...new Set(found)]);
    }
    for (const p of d.panels) {
      if (p.type !== 'row' && (p.targets ?? []).length === 0)
        dead.push(...alertGroupsProblems(d, p));
      for (const t of p.targets ?? []) {
        const expr = substitute(t.expr, values);
        const series = t.instant
          ? await instantQuery(prometheus!.url, expr, end)
          : await rangeQuery(prometheus!.url, expr, start, end, STEP_SECONDS);
        checked.push({ dashboard: d.title, panel: p.title, expr, series });
        if (!hasData(series)) dead.push(`${d.title} / "${p.title}" (${t.refId}): ${expr}`);
      }
    }
  }
  console.log(
    `${dashboards.length} dashboards, ${checked.length} panel queries run over ${end - start} s of data`,
  );
  expect(dead).toEqual([]);
  expect(checked.length).toBeGreaterThan(100);
}, 300_000);

/** The label values of a panel's results (the panel checked above). */
function shown(dashboard: string, panel: string, label: string): Set<string> {
  const c = checked.filter((x) => x.dashboard === dashboard && x.panel === panel);
  expect(c.length).toBeGreaterThan(0);
  return new Set(c.flatMap((x) => x.series.map((s) => s.metric[label] ?? '')));
}

test('the overview shows every agent, the attacks by agent and type, the attacked router and every model version', () => {
  const o = 'edgewarden / Overview';
  expect([...shown(o, 'Agent pods ready, by agent', 'agent')].sort()).toEqual(
    [...agentNames].sort(),
  );
  const byAgentType = checked
    .filter((x) => x.dashboard === o && x.panel === 'Anomalies in range, by agent and type')
    .flatMap((x) => x.series.map((s) => `${s.metric.agent}/${s.metric.type}`));
  for (const agent of agentNames)
    for (const any of expectedTypes(agent))
      expect({ agent, any, shown: any.some((t) => byAgentType.includes(`${agent}/${t}`)) }).toEqual(
        {
          agent,
          any,
          shown: true,
        },
      );
  expect(shown(o, 'Top devices by anomalies', 'device')).toContain(ATTACKED);
  const versions = shown(o, 'Model versions in service', 'version');
  for (const { version } of models.values()) expect(versions).toContain(version);
  expect(versions).toContain('auth-2');
  expect(shown(o, 'Time since each device was last heard', 'device')).toEqual(
    new Set(ROUTERS.map(([d]) => d)),
  );
  expect(notifications.length).toBeGreaterThan(0);
  expect(shown(o, 'False-positive share, by rule (7 days)', 'rule')).toContain(BRUTE_FORCE_RULE);
  expect(shown(o, 'Suppressed matches per second, by rule', 'rule')).toContain(BRUTE_FORCE_RULE);
  expect([...alertmanagerShown.keys()].sort()).toEqual([...agentNames].sort());
});

test("each agent's dashboard shows its own attacks and models", () => {
  for (const agent of agentNames) {
    const d = `edgewarden / Agent: ${agent}`;
    const types = shown(d, 'Anomalies per second, by type', 'type');
    for (const any of expectedTypes(agent)) expect(any.some((t) => types.has(t))).toBe(true);
    expect(shown(d, 'Feature drift', 'feature').size).toBeGreaterThan(0);
  }
  const auth = shown('edgewarden / Agent: auth', 'Model version, by pod', 'version');
  expect([...auth].sort()).toEqual([models.get('auth')!.version, 'auth-2'].sort());
});

test('the operator dashboard shows the rollout and the export', () => {
  const o = 'edgewarden / Operator';
  expect(shown(o, 'Reconciles per second, by controller and result', 'controller')).toEqual(
    new Set(['analysisagent', 'modeldeployment', 'exportjob']),
  );
  const exports = checked.find((x) => x.dashboard === o && x.panel === 'ExportJobs')!.series;
  expect(exports.map((s) => [s.metric.exportjob, s.metric.phase])).toContainEqual([
    'last-hour',
    'Succeeded',
  ]);
  const rollouts = checked.find((x) => x.dashboard === o && x.panel === 'ModelDeployments')!.series;
  expect(rollouts.map((s) => s.metric.modeldeployment)).toEqual(['auth-model']);
  expect(shown(o, 'ModelDeployments, by transition', 'transition')).toContain('UpToDate');
});
