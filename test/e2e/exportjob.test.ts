// ExportJobs end to end: a real API server, the operator as a process, a real PostgreSQL
// holding a million router log rows, and each Job's pod run by the test cluster's real node
// (kubelet, containerd, the image built from our Dockerfile): the Job controller makes the
// pods, the kubelet runs them and reports how they ended, nothing completes them but the
// exporter. The pods reach PostgreSQL at the node's address (EDGEWARDEN_E2E_HOST_ADDRESS),
// and the operator reaches each exporter's /progress at its pod IP. The destination claim is
// bound to a hostPath volume, a folder of this machine (the node), so the files outlive the
// pods and the test reads them back from the folder.
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import type pg from 'pg';

import {
  startPostgres,
  type PostgresServer,
  adminClient,
  createLogTable,
} from '../services/postgres.js';
import { exportExit } from '../../agent-runtime/src/contract/export.js';
import {
  applyObject,
  createSecret,
  createSourceSecrets,
  hostPathClaim,
  createNamespace,
  eventually,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  operatorMetrics,
  startOperator,
} from '../integration/kube.js';
import { getPod, killContainerProcess, podLogs, type NodePod } from './pods.js';

interface ExportJobView {
  metadata: { name: string; finalizers?: string[] };
  status?: {
    phase?: string;
    progress?: { recordsDone: number; recordsTotal?: number; percent: number; summary: string };
    files?: { name: string; records: number; bytes: number; sha256: string }[];
    validation?: {
      rows: number;
      duplicates: number;
      rejectedRows: number;
      nullRates: Record<string, number>;
    };
    conditions?: { type: string; status: string; reason: string; message: string }[];
    expiresAt?: string;
  };
}
interface Row {
  id: string;
  time: string;
  device: string;
  program: string;
  level: string;
  message: string;
}

const ROWS = 1_000_000;
const T0 = Date.parse('2026-11-20T00:00:00Z');
/** This machine as the pods see it: the node's address (jest-global-setup.mjs). */
const hostAddress = process.env.EDGEWARDEN_E2E_HOST_ADDRESS;
let namespace: string;
let postgres: PostgresServer;
let admin: pg.Client;
let operator: { proc: ChildProcess; log: () => string };
let volume: string;
const pvName = `exports-pv-${process.pid}`;
/** Volumes made for claims that appear late (deleted with the suite). */
const latePvs: string[] = [];

const view = (name: string): Promise<ExportJobView> =>
  kubectlJson<ExportJobView>(['get', 'exportjob', name, '-n', namespace]);
const condition = (v: ExportJobView, type: string) =>
  v.status?.conditions?.find((c) => c.type === type);

async function createExport(name: string, spec: Record<string, unknown>): Promise<void> {
  await applyObject({
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'ExportJob',
    metadata: { name, namespace },
    spec: {
      source: { analysisAgentRef: { name: 'guard' } },
      destination: { persistentVolumeClaim: { claimName: 'exports' }, path: `out/${name}` },
      ...spec,
    },
  });
}

const jobPods = async (job: string): Promise<NodePod[]> =>
  (
    await kubectlJson<{ items: NodePod[] }>([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      `job-name=${job}`,
    ])
  ).items;

/** The pod of `job` that the scheduler has placed on the node, other than those in `seen`. */
async function placedPod(job: string, seen: string[] = []): Promise<NodePod> {
  return eventually(
    `a new pod of Job ${job} on the node`,
    async () =>
      (await jobPods(job)).find((p) => p.spec.nodeName && !seen.includes(p.metadata.name)),
    60_000,
  );
}

async function finished(name: string, timeoutMs = 120_000): Promise<ExportJobView> {
  let last: ExportJobView | undefined;
  return eventually(
    `ExportJob ${name} to finish`,
    async () => {
      last = await view(name);
      return last.status?.phase === 'Succeeded' || last.status?.phase === 'Failed'
        ? last
        : undefined;
    },
    timeoutMs,
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}\nstatus: ${JSON.stringify(last?.status, null, 1)}\noperator:\n${operator.log().slice(-3000)}\npods:\n${await podLogs(namespace, ['-l', `job-name in (${name}-export,${name}-cleanup)`], 40)}`,
    );
  });
}

/** The records of one exported file, whatever its format and compression. */
async function recordsOf(file: string): Promise<Record<string, unknown>[]> {
  let bytes = await readFile(file);
  if (file.endsWith('.gz')) bytes = gunzipSync(bytes);
  const text = bytes.toString('utf8');
  if (/\.jsonl(\.gz)?$/.test(file))
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  if (/\.json(\.gz)?$/.test(file)) return JSON.parse(text) as Record<string, unknown>[];
  return parseCsv<Record<string, unknown>>(text, { columns: true });
}

beforeAll(async () => {
  if (!hostAddress)
    throw new Error('EDGEWARDEN_E2E_HOST_ADDRESS is not set: run with jest.e2e.config.js');
  await installCrds();
  namespace = await createNamespace('export');
  volume = await mkdtemp(path.join(tmpdir(), 'edgewarden-exports-'));
  await chmod(volume, 0o777); // the exporter's user writes here (no fsGroup on hostPath)
  // On the node's address too, where the pods reach it (its certificate names that address).
  postgres = await startPostgres([hostAddress]);
  admin = await adminClient(postgres);
  await createLogTable(admin);
  // A million lines over 10 hours from 8 routers: addresses to hash, and messages with
  // commas, quotes and a newline now and then for CSV.
  await admin.query(
    `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
     SELECT 'gw-' || (i % 8),
            to_timestamp($1::double precision / 1000) + (i * interval '36 milliseconds'),
            (ARRAY['info','notice','warning','err'])[1 + i % 4],
            (ARRAY['dnsmasq','dropbear','hostapd','kernel','netifd'])[1 + i % 5],
            CASE WHEN i % 97 = 0 THEN 'quote "' || i || '", comma, and' || chr(10) || 'a new line'
                 ELSE 'DHCPACK(br-lan) 192.168.1.' || (i % 250) || ' 02:00:00:00:' || lpad(to_hex(i % 256), 2, '0') || ':01 host-' || i END
     FROM generate_series(1, $2) AS i`,
    [T0, ROWS],
  );
  await admin.query('ANALYZE log_entries');
  await createSourceSecrets(namespace, postgres, 'reader:reader-secret', hostAddress);
  await createSecret(namespace, 'export-key', '--from-literal=key=a-site-secret');
  // The destination: a claim bound to a hostPath volume (the node's kubelet mounts the folder).
  await hostPathClaim(pvName, volume, { namespace, name: 'exports' }, '10Gi');
  for (const [name, source] of [
    [
      'guard',
      {
        secretRef: { name: 'router-logs-db' },
        caSecretRef: { name: 'router-logs-db-ca' },
        sslMode: 'verify-full',
      },
    ],
    [
      'mislabelled',
      {
        secretRef: { name: 'router-logs-db' },
        caSecretRef: { name: 'router-logs-db-ca' },
        sslMode: 'verify-full',
        preset: 'custom',
        table: 'log_entries',
        columns: { id: 'id', timestamp: 'timestamp', message: 'msg' },
      },
    ],
  ] as const)
    await applyObject({
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'AnalysisAgent',
      metadata: { name, namespace },
      spec: { agent: 'auth', paused: true, source },
    });
  operator = startOperator(namespace);
  await eventually('the operator to sync its caches', () =>
    Promise.resolve(operator.log().includes('caches synced') ? true : undefined),
  );
}, 240_000);

afterAll(async () => {
  if (operator && operator.proc.exitCode === null) {
    operator.proc.kill('SIGTERM');
    await new Promise((r) => operator.proc.once('exit', r));
  }
  await admin?.end().catch(() => undefined);
  await postgres?.remove();
  // The namespace's pods go with it: the kubelet stops them.
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
  for (const pv of [pvName, ...latePvs]) await kubectlRun(['delete', 'pv', pv, '--wait=false']);
  if (volume) await rm(volume, { recursive: true, force: true });
}, 60_000);

/** The source rows under the filters used below, as the exporter should write them. */
async function sourceRows(device: string, levels: string[]): Promise<Map<string, Row>> {
  const { rows } = await admin.query<{
    id: string;
    time: Date;
    device: string;
    program: string;
    level: string;
    message: string;
  }>(
    `SELECT id::text, timestamp AS time, device_id AS device, process_name AS program, log_level AS level, message
     FROM log_entries WHERE device_id = $1 AND log_level = ANY($2) AND timestamp >= $3 AND timestamp < $4`,
    [device, levels, new Date(T0).toISOString(), new Date(T0 + 3_600_000).toISOString()],
  );
  return new Map(rows.map((r) => [r.id, { ...r, time: r.time.toISOString() }]));
}

test.each([
  ['jsonl', 'none'],
  ['jsonl', 'gzip'],
  ['json', 'none'],
  ['json', 'gzip'],
  ['csv', 'none'],
  ['csv', 'gzip'],
])(
  '%s (compression %s) round-trips: the rows read back are the source rows under the filters',
  async (format, compression) => {
    const name = `rt-${format}-${compression}`;
    await createExport(name, {
      dataTypes: ['logs'],
      timeRange: { from: new Date(T0).toISOString(), to: new Date(T0 + 3_600_000).toISOString() },
      filters: { devices: ['gw-3'], levels: ['warning', 'err'] },
      format,
      compression,
      maxFileSize: '1Mi',
      // Compared with the source rows as stored; hashing (on by default) has its own test.
      transform: { timestamps: 'utc', hashAddresses: false },
    });
    // The Job controller makes the pod, the node runs it: the test only waits for the end.
    const done = await finished(name);
    expect(done.status?.phase).toBe('Succeeded');
    const expected = await sourceRows('gw-3', ['warning', 'err']);
    const files = done.status!.files!;
    expect(files.length).toBeGreaterThan(1); // 1Mi per file
    const dir = path.join(volume, 'out', name);
    const seen = new Map<string, Record<string, unknown>>();
    for (const f of files) {
      const bytes = await readFile(path.join(dir, f.name));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      expect(bytes.length).toBe(f.bytes);
      const records = await recordsOf(path.join(dir, f.name));
      expect(records).toHaveLength(f.records);
      for (const r of records) seen.set(String(r.id), r);
    }
    expect(seen.size).toBe(expected.size);
    for (const [id, row] of expected) {
      const got = seen.get(id)!;
      expect({
        time: got.time,
        device: got.device,
        program: got.program,
        level: got.level,
        message: got.message,
      }).toEqual({
        time: row.time,
        device: row.device,
        program: row.program,
        level: row.level,
        message: row.message,
      });
    }
    // No half files, and the manifest lists the same files.
    const names = await readdir(dir);
    expect(names.filter((n) => n.includes('partial'))).toEqual([]);
    const manifest = JSON.parse(
      await readFile(path.join(dir, `${name}.manifest.json`), 'utf8'),
    ) as { files: { name: string; sha256: string }[] };
    expect(manifest.files.map((f) => [f.name, f.sha256])).toEqual(
      files.map((f) => [f.name, f.sha256]),
    );
    expect(done.status?.validation).toMatchObject({
      rows: expected.size,
      duplicates: 0,
      rejectedRows: 0,
    });
  },
);

test('a million rows, the exporter killed mid-way: the retry resumes, every row exactly once; progress moves in status', async () => {
  const name = 'all';
  await createExport(name, {
    dataTypes: ['logs'],
    timeRange: {
      from: new Date(T0 - 60_000).toISOString(),
      to: new Date(T0 + 11 * 3_600_000).toISOString(),
    },
    format: 'jsonl',
    compression: 'gzip',
    batchSize: 5000,
    maxFileSize: '64Mi',
    transform: { hashAddresses: true, hashKeySecretRef: { name: 'export-key' } },
  });
  const first = await placedPod(`${name}-export`);
  const percents: number[] = [];
  const mid = await eventually(
    'progress past a quarter in status',
    async () => {
      const v = await view(name);
      if (v.status?.progress) percents.push(v.status.progress.percent);
      return (v.status?.progress?.percent ?? 0) >= 25 ? v : undefined;
    },
    120_000,
  );
  expect(mid.status?.phase).toBe('Running');
  expect(new Set(percents).size).toBeGreaterThan(1); // it moved
  const row = await kubectl(['get', 'exportjobs', '-n', namespace, name, '--no-headers']);
  expect(row).toMatch(/Running\s+\d+% \(\d+\/1000000\)/);
  // The exporter crashes: its container's process SIGKILLed on the node, no SIGTERM first.
  await killContainerProcess(namespace, first.metadata.name, 'export');
  // The kubelet reports it as it reports any crash: the pod Failed, exit 128 + SIGKILL's 9.
  const crashed = await eventually(`pod ${first.metadata.name} reported Failed`, async () => {
    const p = await getPod(namespace, first.metadata.name);
    return p.status?.phase === 'Failed' ? p : undefined;
  });
  expect(crashed.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
    exitCode: 137,
    reason: 'Error',
  });
  // The Job controller's retry (after its back-off), which the node runs to the end.
  const retry = await placedPod(`${name}-export`, [first.metadata.name]);
  const done = await finished(name, 300_000);
  expect(done.status?.phase).toBe('Succeeded');
  // Resumed once: the crashed pod and its retry, nothing else.
  expect(
    (await jobPods(`${name}-export`)).map((p) => [p.metadata.name, p.status?.phase]).sort(),
  ).toEqual(
    [
      [first.metadata.name, 'Failed'],
      [retry.metadata.name, 'Succeeded'],
    ].sort(),
  );
  expect(done.status?.progress).toMatchObject({
    recordsDone: ROWS,
    recordsTotal: ROWS,
    percent: 100,
  });
  const dir = path.join(volume, 'out', name);
  const ids = new Uint8Array(ROWS + 1);
  let count = 0;
  let sawRawAddress = false;
  for (const f of done.status!.files!) {
    for (const r of await recordsOf(path.join(dir, f.name))) {
      const id = Number(r.id);
      expect(ids[id]).toBe(0); // not twice
      ids[id] = 1;
      count++;
      if (/192\.168\.1\.\d+|02:00:00:00/.test(String(r.message))) sawRawAddress = true;
    }
  }
  expect(count).toBe(ROWS);
  expect(sawRawAddress).toBe(false); // addresses hashed
}, 600_000);

test('a bad spec fails fast with its reason: an unknown column, and from after to refused by the API server', async () => {
  await createExport('bad-column', {
    dataTypes: ['logs'],
    source: { analysisAgentRef: { name: 'mislabelled' } },
    timeRange: { last: '1h' },
  });
  const failed = await finished('bad-column');
  expect(failed.status?.phase).toBe('Failed');
  expect(condition(failed, 'Failed')).toMatchObject({ status: 'True', reason: 'UnknownColumn' });
  expect(condition(failed, 'Failed')?.message).toContain('msg');
  // The operator reports the phase, for the EdgewardenExportJobFailed alert.
  const metrics = await operatorMetrics(operator);
  expect(metrics).toContain(
    `edgewarden_operator_exportjob_phase{resource_namespace="${namespace}",exportjob="bad-column",phase="Failed"} 1`,
  );
  expect(metrics).toContain(
    `edgewarden_operator_exportjob_phase{resource_namespace="${namespace}",exportjob="bad-column",phase="Running"} 0`,
  );
  // Failed at once: one pod, no retry. The kubelet reported the exporter's bad-spec exit
  // code, which the Job's pod failure policy fails the Job on.
  const list = await jobPods('bad-column-export');
  expect(list).toHaveLength(1);
  expect(list[0]!.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(
    exportExit.badSpec,
  );
  const refused = await kubectlRun(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'ExportJob',
      metadata: { name: 'backwards', namespace },
      spec: {
        dataTypes: ['logs'],
        source: { analysisAgentRef: { name: 'guard' } },
        timeRange: { from: '2026-11-21T00:00:00Z', to: '2026-11-20T00:00:00Z' },
        destination: { persistentVolumeClaim: { claimName: 'exports' }, path: 'x' },
      },
    }),
  );
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('timeRange.from must be before timeRange.to');
});

test('TTL expiry removes the files, then the ExportJob', async () => {
  const name = 'short-lived';
  await createExport(name, {
    dataTypes: ['logs'],
    timeRange: { from: new Date(T0).toISOString(), to: new Date(T0 + 600_000).toISOString() },
    // The node runs the cleanup Job as soon as the operator makes it, at expiry (the local
    // kubelet waited for the test): long enough to see the files before they go.
    ttlSecondsAfterFinished: 15,
  });
  await eventually('the finalizer', async () =>
    (await view(name)).metadata.finalizers?.includes('edgewarden.io/export-files')
      ? true
      : undefined,
  );
  const done = await finished(name);
  expect(done.status?.expiresAt).toBeTruthy();
  const dir = path.join(volume, 'out', name);
  expect(Date.now()).toBeLessThan(Date.parse(done.status!.expiresAt!));
  expect((await readdir(dir)).length).toBeGreaterThan(0);
  // Expired: the operator's cleanup Job, run by the node, removes the files; then it goes.
  await eventually('the ExportJob to be gone', async () => {
    const r = await kubectlRun(['get', 'exportjob', name, '-n', namespace]);
    return r.code !== 0 && r.stderr.includes('NotFound') ? true : undefined;
  });
  const left = existsSync(dir) ? (await readdir(dir)).filter((n) => !n.startsWith('.')) : [];
  expect(left).toEqual([]);
});

test("a pod the scheduler cannot place: Pending with the scheduler's reason in status, not failed, and it runs once it can", async () => {
  const window = {
    from: new Date(T0).toISOString(),
    to: new Date(T0 + 600_000).toISOString(),
  };
  // One claim that does not exist (yet), and one that exists but that nothing can bind (a
  // StorageClass no provisioner serves; the node's local-path is not asked, the claim names
  // another class): the node is there and Ready, but no pod can go on it.
  await applyObject({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'never-bound', namespace },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
      storageClassName: 'no-such-provisioner',
    },
  });
  for (const [name, claim] of [
    ['unplaced', 'late-exports'],
    ['unbound', 'never-bound'],
  ] as const)
    await createExport(name, {
      dataTypes: ['logs'],
      timeRange: window,
      destination: { persistentVolumeClaim: { claimName: claim }, path: `out/${name}` },
    });
  const unschedulable = async (name: string): Promise<ExportJobView> => {
    let last: ExportJobView | undefined;
    return eventually(
      `ExportJob ${name} to say why its pod is not scheduled`,
      async () => {
        last = await view(name);
        return condition(last, 'Running')?.reason === 'Unschedulable' ? last : undefined;
      },
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nstatus: ${JSON.stringify(last?.status, null, 1)}`);
    });
  };
  for (const [name, cause] of [
    ['unplaced', 'persistentvolumeclaim "late-exports" not found'],
    ['unbound', 'unbound immediate PersistentVolumeClaims'],
  ] as const) {
    const v = await unschedulable(name);
    expect(v.status?.phase).toBe('Pending');
    expect(condition(v, 'Running')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    // The scheduler's own words, as `kubectl describe pod` shows them.
    expect(condition(v, 'Running')?.message).toMatch(/0\/1 nodes are available/);
    expect(condition(v, 'Running')?.message).toContain(cause);
    // Transient: not failed, so it goes on when the claim appears.
    expect(condition(v, 'Failed')).toMatchObject({ status: 'False' });
    expect(condition(v, 'Succeeded')).toMatchObject({ status: 'False' });
  }
  // `kubectl get ewexport` says why; `-o wide` adds the message.
  const row = await kubectl(['get', 'ewexport', '-n', namespace, 'unplaced', '--no-headers']);
  expect(row).toMatch(/^unplaced\s+Pending\s+.*Unschedulable\s/);
  const wide = await kubectl(['get', 'ewexport', '-n', namespace, 'unplaced', '-o', 'wide']);
  expect(wide).toMatch(/REASON\s+FORMAT\s+BYTES\s+COMPLETED\s+MESSAGE\s+AGE/);
  expect(wide).toContain('persistentvolumeclaim "late-exports" not found');
  // And `kubectl describe` has it as an Event.
  const events = await kubectl([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    'involvedObject.kind=ExportJob,involvedObject.name=unplaced',
    '-o',
    'custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message',
    '--no-headers',
  ]);
  expect(events).toMatch(/Warning\s+Unschedulable\s+the export pod cannot be scheduled/);

  // The claim appears (bound, as a provisioner would make it): the scheduler places the pod
  // by itself, and the export runs to the end.
  const latePv = `late-exports-pv-${process.pid}`;
  latePvs.push(latePv);
  await hostPathClaim(latePv, volume, { namespace, name: 'late-exports' }, '1Gi');
  await placedPod('unplaced-export');
  const done = await finished('unplaced');
  expect(done.status?.phase).toBe('Succeeded');
  expect(condition(done, 'Running')).toMatchObject({ status: 'False', reason: 'Completed' });
  // The other one still waits, and still says why.
  expect((await view('unbound')).status?.phase).toBe('Pending');
  await kubectl(['delete', 'exportjob', 'unbound', '-n', namespace, '--wait=false']);
});
