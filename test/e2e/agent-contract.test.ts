// The agent contract, proven end to end: the example AnalysisAgent (manifests/examples) is
// applied with kubectl; the operator builds its StatefulSet; the controller manager makes the
// pod; and the test cluster's real node runs it from the image, with the environment,
// arguments, user and volumes the kubelet gives it from the pod spec (the Secrets' values, the
// ConfigMap written to the mount path), against a real PostgreSQL (TLS, verify-full) seeded
// with router logs and a real Redis, both on this machine at the node's address. What the
// agent finds must reach the AnalysisAgent's status through the operator, its store the
// claim, and its Slack notification the receiver.
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
} from '../integration/kube.js';
import { containerProcess, nodeInPod } from './inPod.js';
import { podLogs, runningPod, type EnvVar } from './pods.js';

/** This machine as the node's pods reach it (jest-global-setup.mjs). */
const hostAddress = process.env.EDGEWARDEN_E2E_HOST_ADDRESS!;

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
const slack: { text?: string; blocks?: unknown }[] = [];
const pvName = `contract-pv-${process.pid}`;
/** The hostPath behind the agent's claim (the kubelet mounts it; this machine is the node). */
let dataVolume: string;

let lastSeen: Agent | undefined;

/** The agent's log, as `kubectl logs` gives it. */
const agentLog = (): Promise<string> => podLogs(namespace, ['dns-agent-0'], 100);
const agentOf = async (): Promise<Agent> =>
  (lastSeen = await kubectlJson<Agent>(['get', 'analysisagent', 'dns', '-n', namespace]));
const condition = (a: Agent, type: string): Condition | undefined =>
  a.status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('contract');
  [postgres, redis] = await Promise.all([
    startPostgres([hostAddress]),
    startRedis(undefined, [hostAddress]),
  ]);
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
  await new Promise<void>((r) => receiver.listen(0, hostAddress, () => r()));

  // The Secrets the example's comments tell a user to create, holding this test's servers.
  await createSourceSecrets(namespace, postgres, 'edgewarden_ro:ro-secret', hostAddress);
  await createSecret(
    namespace,
    'edgewarden-slack',
    `--from-literal=url=http://${hostAddress}:${(receiver.address() as AddressInfo).port}/services/T0/B0/x`,
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

  // The pod the StatefulSet controller made from the operator's template, on its bound claim,
  // run by the kubelet: its process started from the image's entrypoint and the pod's args,
  // the Secrets' values in files the kubelet mounted, which the environment names; no value in
  // the environment itself (issue 20, Lows: secrets as files).
  const podSpec = await runningPod(namespace, 'dns-agent-0');
  const { argv, env } = await containerProcess(namespace, 'dns-agent-0', 'agent');
  expect(argv).toEqual(['/nodejs/bin/node', '/app/bin/edgewarden.js', 'agent']);
  expect(env.EDGEWARDEN_PG_URL).toBeUndefined();
  expect(env.EDGEWARDEN_SLACK_URL).toBeUndefined();
  expect(JSON.stringify(env)).not.toContain('ro-secret');
  const secretFiles = JSON.parse(
    await nodeInPod(
      namespace,
      'dns-agent-0',
      'agent',
      "const fs = require('fs'); const read = (v) => fs.readFileSync(process.env[v], 'utf8');" +
        " process.stdout.write(JSON.stringify({ pg: read('EDGEWARDEN_PG_URL_FILE'), slack: read('EDGEWARDEN_SLACK_URL_FILE') }));",
    ),
  ) as { pg: string; slack: string };
  expect(secretFiles.pg).toContain(`edgewarden_ro:ro-secret@${hostAddress}`);
  expect(secretFiles.slack).toMatch(/^http:\/\/[\d.]+:\d+\/services\//);
  expect(env.EDGEWARDEN_PG_CA_FILE).toBe('/etc/edgewarden/pg-ca/ca.crt');
  // Every variable the pod spec names (an optional key its Secret lacks, such as the URL
  // Secret's `host`, is left out by the kubelet), and beyond them only what the image and the
  // kubelet give every container (the image's PATH and its base's SSL_CERT_FILE; HOSTNAME,
  // HOME and the API server's Service).
  const specEnv = podSpec.spec.containers[0]!.env!;
  const declared = specEnv.map((e) => e.name);
  const optional = (e: EnvVar): boolean =>
    !!(e.valueFrom?.secretKeyRef?.optional ?? e.valueFrom?.configMapKeyRef?.optional);
  for (const e of specEnv.filter((v) => !optional(v)))
    expect({ name: e.name, set: e.name in env }).toEqual({ name: e.name, set: true });
  expect(
    Object.keys(env)
      .filter((n) => !declared.includes(n))
      .filter((n) => !/^(PATH|SSL_CERT_FILE|HOSTNAME|HOME|KUBERNETES_(SERVICE|PORT)\w*)$/.test(n))
      .sort(),
  ).toEqual([]);

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
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}\nagent:\n${await agentLog()}\noperator:\n${operatorLog()}\nstatus: ${JSON.stringify(lastSeen?.status)}`,
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
  // And the label its comments tell them to add: a model source must carry it (issue 20, H1).
  await kubectl([
    'label',
    'configmap',
    command![1]!,
    '-n',
    namespace,
    'edgewarden.io/model-source=true',
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
      `${error.message}\nmodeldeployment:\n${model.stdout}\nagent:\n${await agentLog()}\noperator:\n${operatorLog().slice(-3000)}`,
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
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\nagent:\n${await agentLog()}`);
  });
  expect(found.status?.anomalies?.last24h).toBe(found.status?.anomalies?.total);
  expect(found.status?.observedGeneration).toBe(found.metadata.generation);

  // The store is where the pod spec put it: the claim's folder, not the read-only root.
  const db = new Database(path.join(dataVolume, 'anomalies.db'), { readonly: true });
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
