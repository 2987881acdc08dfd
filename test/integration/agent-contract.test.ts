// The agent contract, proven end to end: the example AnalysisAgent (manifests/examples) is
// applied with kubectl; the operator builds its StatefulSet; the controller manager makes the
// pod; and instead of kwok, a local kubelet (localKubelet.ts) runs that pod's container as a
// process with exactly its environment, arguments, user and mounted volumes (the Secrets'
// values, the ConfigMap written to the mount path), against a real PostgreSQL (TLS,
// verify-full) seeded with router logs and a real Redis. What the agent finds must reach the
// AnalysisAgent's status through the operator, and its Slack notification the receiver.
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type pg from 'pg';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import Database from 'better-sqlite3';

import {
  startPostgres,
  type PostgresServer,
  adminClient,
  createLogTable,
} from '../services/postgres.js';
import { startRedis, type RedisServer } from '../services/redis.js';
import {
  createNamespace,
  createSecret,
  createSourceSecrets,
  hostPathVolume,
  eventually,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  repoRoot,
  startOperator,
} from './kube.js';
import { runPodLocally, scheduledPod, type LocalPod } from './localKubelet.js';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Agent {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    modelVersion?: string;
    lastCycleTime?: string;
    linesAnalyzed?: number;
    anomalies?: { total: number; last24h: number };
    conditions?: Condition[];
  };
}

let namespace: string;
let postgres: PostgresServer;
let redis: RedisServer;
let admin: pg.Client;
let operator: ChildProcess;
let operatorLog: () => string;
let receiver: Server;
let pod: LocalPod | undefined;
const slack: { text?: string; blocks?: unknown }[] = [];
const pvName = `contract-pv-${process.pid}`;
/** The hostPath behind the agent's claim (the local kubelet mounts it, as a kubelet would). */
let dataVolume: string;

let lastSeen: Agent | undefined;
const agentOf = async (): Promise<Agent> =>
  (lastSeen = await kubectlJson<Agent>(['get', 'analysisagent', 'dns', '-n', namespace]));
const condition = (a: Agent, type: string): Condition | undefined =>
  a.status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('contract');
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  admin = await adminClient(postgres);
  // The collector's table, and the read-only role the example's Secret names.
  await createLogTable(admin, { user: 'edgewarden_ro', password: 'ro-secret' });
  await admin.query(
    `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
     VALUES ('gw-home', now() - interval '1 hour', 'info', 'dnsmasq', 'started, version 2.90 cachesize 150')`,
  );

  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      slack.push(JSON.parse(body) as (typeof slack)[number]);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));

  // The Secrets the example's comments tell a user to create, holding this test's servers.
  await createSourceSecrets(namespace, postgres, 'edgewarden_ro:ro-secret');
  await createSecret(
    namespace,
    'edgewarden-slack',
    `--from-literal=url=http://127.0.0.1:${(receiver.address() as AddressInfo).port}/services/T0/B0/x`,
  );
  // A volume for the example's claim, as a storage provisioner would make one: a folder the
  // agent's user may write (a kubelet applies no fsGroup to hostPath volumes).
  dataVolume = await mkdtemp(path.join(tmpdir(), 'edgewarden-contract-data-'));
  await chmod(dataVolume, 0o777);
  await hostPathVolume(pvName, dataVolume, { namespace, name: 'data-dns-agent-0' });

  const started = startOperator(namespace);
  operator = started.proc;
  operatorLog = started.log;
  await eventually('the operator to sync its caches', () =>
    Promise.resolve(operatorLog().includes('caches synced') ? true : undefined),
  );
}, 120_000);

afterAll(async () => {
  await pod?.stop();
  if (operator && operator.exitCode === null) {
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
  }
  await new Promise((r) => receiver?.close(r));
  await admin?.end().catch(() => undefined);
  await Promise.all([postgres?.remove(), redis?.stop()]);
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
  await kubectlRun(['delete', 'pv', pvName, '--wait=false']);
  if (dataVolume) await rm(dataVolume, { recursive: true, force: true });
}, 60_000);

test('the example AnalysisAgent, run from its pod spec, reports its findings in status', async () => {
  // The example as shipped, but for what only this machine can say: where Redis is, and a
  // short interval so the test need not wait five minutes for the next cycle.
  const example = parseYaml(
    await readFile(path.join(repoRoot, 'manifests/examples/analysisagent.yaml'), 'utf8'),
  ) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  example.metadata.namespace = namespace;
  example.spec.interval = '10s';
  example.spec.cache = { url: redis.url };
  await kubectl(['apply', '-f', '-'], toYaml(example));

  // The pod the StatefulSet controller made from the operator's template, on its bound claim.
  const podSpec = await scheduledPod(namespace, 'dns-agent-0');
  pod = await runPodLocally(podSpec);
  expect(pod.command).toEqual(['/nodejs/bin/node', '/app/bin/edgewarden.js', 'agent']);
  // Secrets reached the process through the pod's references, and nothing else did.
  expect(pod.env.EDGEWARDEN_PG_URL).toContain('edgewarden_ro:ro-secret@localhost');
  expect(pod.env.EDGEWARDEN_SLACK_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/services\//);
  expect(pod.env.EDGEWARDEN_PG_CA_FILE).toBe('/etc/edgewarden/pg-ca/ca.crt');
  expect(Object.keys(pod.env).sort()).toEqual(
    [
      ...podSpec.spec.containers[0]!.env!.map((e) => e.name),
      'PATH',
      'HOSTNAME',
      // What a kubelet gives every container: where the API server is.
      'KUBERNETES_SERVICE_HOST',
      'KUBERNETES_SERVICE_PORT',
      'KUBERNETES_SERVICE_PORT_HTTPS',
    ]
      .filter((n) => n in pod!.env)
      .sort(),
  );

  // The agent's first cycle, as the operator reports it: the source is reachable over TLS,
  // but the example names a model (dns-model) that nothing has delivered yet.
  const first = await eventually(
    'a first cycle in status',
    async () => {
      const a = await agentOf();
      return a.status?.lastCycleTime && condition(a, 'SourceReachable')?.status === 'True'
        ? a
        : undefined;
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(
      `${error.message}\nagent:\n${pod!.log()}\noperator:\n${operatorLog()}\nstatus: ${JSON.stringify(lastSeen?.status)}`,
    );
  });
  expect(condition(first, 'ModelLoaded')).toMatchObject({ status: 'False' });
  expect(first.status?.readyReplicas ?? 0).toBe(0); // its readiness probe says: no model

  // The example ModelDeployment, as its comments have a user apply it: the shipped baseline in
  // a ConfigMap made with their command, then the file as it is. The operator validates the
  // model on the pod and delivers it; the agent loads it without a restart, turns ready, and
  // says which version it serves.
  const modelExample = path.join(repoRoot, 'manifests/examples/modeldeployment.yaml');
  const command = /kubectl create configmap (\S+) --from-file=(\S+)/.exec(
    await readFile(modelExample, 'utf8'),
  );
  expect(command).not.toBeNull();
  await kubectl([
    'create',
    'configmap',
    command![1]!,
    '-n',
    namespace,
    `--from-file=${command![2]}`,
  ]);
  await kubectl(['apply', '-n', namespace, '-f', modelExample]);
  const version = (parseYaml(await readFile(modelExample, 'utf8')) as { spec: { version: string } })
    .spec.version;
  const serving = await eventually(
    'the example model served and the agent ready',
    async () => {
      const a = await agentOf();
      return a.status?.modelVersion === version && a.status.readyReplicas === 1 ? a : undefined;
    },
    90_000,
  ).catch(async (error: Error) => {
    const model = await kubectlRun([
      'get',
      'modeldeployment',
      'dns-model',
      '-n',
      namespace,
      '-o',
      'yaml',
    ]);
    throw new Error(
      `${error.message}\nmodeldeployment:\n${model.stdout}\nagent:\n${pod!.log()}\noperator:\n${operatorLog().slice(-3000)}`,
    );
  });
  expect(condition(serving, 'ModelLoaded')).toMatchObject({ status: 'True' });
  expect(condition(serving, 'Ready')).toMatchObject({ status: 'True', reason: 'AgentsReady' });

  // A DHCP starvation attack lands in the collector's table.
  const lines: [string, string][] = [];
  for (let i = 0; i < 120; i++) {
    const mac = `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    lines.push(['dnsmasq-dhcp', `DHCPDISCOVER(br-lan) ${mac}`]);
    if (i > 60) lines.push(['dnsmasq-dhcp', `DHCPDISCOVER(br-lan) ${mac} no address available`]);
  }
  for (const [program, message] of lines)
    await admin.query(
      `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
       VALUES ('gw-home', now(), 'info', $1, $2)`,
      [program, message],
    );

  const found = await eventually(
    'the anomalies in status',
    async () => {
      const a = await agentOf();
      return (a.status?.anomalies?.total ?? 0) > 0 && a.status?.linesAnalyzed === lines.length
        ? a
        : undefined;
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\nagent:\n${pod!.log()}`);
  });
  expect(found.status?.anomalies?.last24h).toBe(found.status?.anomalies?.total);
  expect(found.status?.observedGeneration).toBe(found.metadata.generation);

  // The store is where the pod spec put it: the claim's folder, not the read-only root.
  const db = new Database(path.join(pod.volumes.data ?? '', 'anomalies.db'), { readonly: true });
  const rows = db.prepare(`SELECT anomaly_type, device_id FROM anomalies`).all() as {
    anomaly_type: string;
    device_id: string;
  }[];
  db.close();
  expect(rows).toContainEqual({ anomaly_type: 'dhcp_starvation', device_id: 'gw-home' });
  await eventually('the Slack notification', () =>
    Promise.resolve(slack.length > 0 ? true : undefined),
  );
  expect(JSON.stringify(slack[0])).toContain('DHCP');
}, 240_000);
