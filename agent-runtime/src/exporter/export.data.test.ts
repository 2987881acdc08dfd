// `edgewarden export` as a process, against a real PostgreSQL and a real agent HTTP server
// over a real anomaly store: every format with and without gzip read back and compared with
// the source rows, SIGKILL mid-way then a restart (every row exactly once), SIGTERM, a bad
// column (exit 3 with the reason), hashed addresses, CSV quoting, anomalies paged by cursor.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import express from 'express';
import pg from 'pg';

import type { ExportJobSpec } from '../../../api/src/generated/types.js';
import type { ExportPlan, ExportProgress } from '../contract/export.js';
import { serveAnomalies } from '../http/anomaliesRoute.js';
import { AnomalyStore } from '../store/anomalyStore.js';
import { readRecords } from '../trainer/records.js';
import {
  startPostgres,
  type PostgresServer,
  adminClient,
  createLogTable,
} from '../../../test/services/postgres.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FROM = '2026-11-23T00:00:00.000Z';
const TO = '2026-11-24T00:00:00.000Z';
const AWKWARD = [
  'plain message',
  'commas, in, it',
  'a "quoted" word',
  'two\nlines',
  'carriage\r\nreturn',
  '"starts with a quote',
  'ends with a comma,',
  'unicode: naïve – ✓',
  '',
];

let server: PostgresServer;
let admin: pg.Client;
let dir: string;
let agentHttp: Server;
let agentUrl: string;
let store: AnomalyStore;

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-export-'));
  await writeFile(path.join(dir, 'ca.crt'), server.ca);
  admin = await adminClient(server);
  await createLogTable(admin);
  // 30,000 rows: 24 hours of the window plus an hour either side, four devices, four programs,
  // every level, the awkward messages, and addresses in some.
  await admin.query(
    `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
     SELECT (ARRAY['gw-home','ap-attic','ap-garage','10.0.0.1'])[1 + g % 4],
            timestamptz '2026-11-22 23:00:00+00' + (g * interval '3.2 seconds') + (g % 7) * interval '1 microsecond',
            (ARRAY['emerg','alert','crit','err','warning','notice','info','debug'])[1 + g % 8],
            (ARRAY['dropbear','dnsmasq','hostapd','kernel'])[1 + (g / 3) % 4],
            CASE WHEN g % 10 = 0 THEN (ARRAY[${AWKWARD.map((m) => pg.escapeLiteral(m)).join(',')}])[1 + (g / 10) % ${AWKWARD.length}]
                 WHEN g % 10 = 1 THEN 'Bad password attempt for root from 192.168.1.' || (g % 250) || ':' || (40000 + g % 1000)
                 WHEN g % 10 = 2 THEN 'wlan0: STA aa:bb:cc:00:' || lpad(to_hex(g % 256), 2, '0') || ':FF IEEE 802.11: authenticated'
                 WHEN g % 10 = 3 THEN 'DHCPv6 reply fe80::1:' || to_hex(g % 4096) || ' to 2001:db8::' || to_hex(g % 16)
                 ELSE 'line ' || g END
     FROM generate_series(1, 30000) g`,
  );
  // A table without an id (syslog-ng's messages): ties at one timestamp, read by time and columns.
  await admin.query(`CREATE TABLE messages (date timestamp NOT NULL, host text, program text,
    pid text, level text, facility text, message text)`);
  await admin.query(
    `INSERT INTO messages SELECT timestamp '2026-11-23 00:00:00' + (g / 5) * interval '1 second',
       'gw-' || (g % 3), 'dnsmasq', (g % 97)::text, 'info', 'daemon', 'query ' || (g % 11)
     FROM generate_series(0, 59999) g`,
  );
  await admin.query('GRANT SELECT ON log_entries, messages TO reader');

  // An agent's GET /anomalies: a real store, the agent's own query parsing and route.
  store = new AnomalyStore(path.join(dir, 'anomalies.db'), {
    cooldownMs: 0,
    retentionMs: 1e12,
    maxRows: 1e9,
  });
  const anomalies = [];
  for (let i = 0; i < 240; i++) {
    const end = new Date(Date.parse('2026-11-22T22:00:00Z') + i * 30 * 60_000 * 0.5).toISOString();
    anomalies.push({
      agent: i % 2 ? ('auth' as const) : ('wifi' as const),
      device: i % 3 ? 'gw-home' : 'ap-attic',
      type: `t${i % 5}`,
      severity: (1 + (i % 5)) as 1 | 2 | 3 | 4 | 5,
      confidence: 0.9,
      score: 0.5,
      description: `from 192.168.1.${i % 50}, "quoted", comma`,
      features: { failures: i },
      evidence: [i, i + 1],
      windowStart: end,
      windowEnd: end,
    });
  }
  // Pairs sharing one timestamp, so paging must break ties by id.
  store.record(anomalies);
  store.record(anomalies.slice(100, 120).map((a) => ({ ...a, type: `${a.type}-again` })));
  const app = express();
  app.get('/anomalies', serveAnomalies(store));
  await new Promise<void>((r) => {
    agentHttp = app.listen(0, '127.0.0.1', () => r());
  });
  agentUrl = `http://127.0.0.1:${(agentHttp.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => agentHttp?.close(r));
  store?.close();
  await admin?.end().catch(() => undefined);
  await server?.remove();
  await rm(dir, { recursive: true, force: true });
});

let runs = 0;

function planOf(
  spec: Partial<ExportJobSpec>,
  extra: Partial<ExportPlan> = {},
): ExportPlan & { out: string } {
  runs++;
  const name = extra.name ?? `export-${runs}`;
  return {
    name,
    namespace: 'default',
    uid: `uid-${runs}`,
    from: FROM,
    to: TO,
    spec: {
      dataTypes: ['logs'],
      timeRange: { from: FROM, to: TO },
      destination: { persistentVolumeClaim: { claimName: 'exports' }, path: `run-${runs}` },
      source: { analysisAgentRef: { name: 'ssh-guard' } },
      // Compared with the rows as stored; hashing (on by default) has a test of its own.
      transform: { hashAddresses: false },
      ...spec,
    },
    logs: {
      source: { secretRef: { name: 'pg' }, sslMode: 'verify-full', preset: 'log_entries' },
    },
    ...extra,
    out: path.join(dir, `run-${runs}`),
  };
}

interface Run {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  port: () => Promise<number>;
}

function start(plan: ExportPlan & { out: string }, env: Record<string, string> = {}): Run {
  const planFile = path.join(dir, `${plan.name}-plan.json`);
  const { out, ...body } = plan;
  const started = writeFile(planFile, JSON.stringify(body));
  let output = '';
  let proc: ChildProcess | undefined;
  const ready = started.then(() => {
    proc = spawn('node', [path.join(root, 'bin/edgewarden.js'), 'export'], {
      env: {
        ...process.env,
        EDGEWARDEN_EXPORT_PLAN: planFile,
        EDGEWARDEN_EXPORT_DIR: out,
        EDGEWARDEN_HTTP_PORT: '0',
        EDGEWARDEN_PG_URL: `postgresql://reader:reader-secret@localhost:${server.port}/postgres`,
        EDGEWARDEN_PG_CA_FILE: path.join(dir, 'ca.crt'),
        EDGEWARDEN_TERMINATION_MESSAGE: path.join(dir, `${plan.name}-termination`),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    return proc;
  });
  const run: Run = {
    get proc() {
      return proc!;
    },
    output: () => output,
    exited: ready.then((p) => new Promise<number | null>((r) => p.on('exit', (code) => r(code)))),
    port: async () => {
      for (;;) {
        const m = /serving on port (\d+)/.exec(output);
        if (m) return Number(m[1]);
        if (proc?.exitCode !== null && proc?.exitCode !== undefined)
          throw new Error(`exited: ${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  return run;
}

async function finish(
  plan: ExportPlan & { out: string },
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string; report: ExportProgress }> {
  const run = start(plan, env);
  const code = await run.exited;
  const report = JSON.parse(
    await readFile(path.join(dir, `${plan.name}-termination`), 'utf8'),
  ) as ExportProgress;
  return { code, output: run.output(), report };
}

function expectOk(code: number | null, output: string): void {
  if (code !== 0) throw new Error(`export exited with ${code}:\n${output}`);
}

interface Manifest {
  files: { name: string; dataType: string; records: number; bytes: number; sha256: string }[];
  records: Record<string, number>;
  validation: ExportProgress['validation'];
}

/** Every file of the manifest, checked against its sha256 and size, parsed back into records. */
async function readBack(
  plan: ExportPlan & { out: string },
): Promise<{ manifest: Manifest; records: Record<string, unknown>[] }> {
  const manifest = JSON.parse(
    await readFile(path.join(plan.out, `${plan.name}.manifest.json`), 'utf8'),
  ) as Manifest;
  const records: Record<string, unknown>[] = [];
  for (const f of manifest.files) {
    const bytes = await readFile(path.join(plan.out, f.name));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    expect(bytes.length).toBe(f.bytes);
    const text = (f.name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    let parsed: Record<string, unknown>[];
    if (/\.jsonl(\.gz)?$/.test(f.name))
      parsed = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    else if (/\.json(\.gz)?$/.test(f.name)) parsed = JSON.parse(text) as Record<string, unknown>[];
    else parsed = parseCsv<Record<string, unknown>>(text, { columns: true });
    expect(parsed).toHaveLength(f.records);
    records.push(...parsed);
  }
  // Nothing half-written is left behind.
  expect((await readdir(plan.out)).filter((n) => n.endsWith('.partial'))).toEqual([]);
  return { manifest, records };
}

async function sourceRows(where: string, params: unknown[] = []) {
  const { rows } = await admin.query<{
    id: string;
    device: string;
    program: string;
    level: string;
    message: string;
    ms: string;
  }>(
    `SELECT id::text, device_id AS device, process_name AS program, log_level AS level, message,
            (extract(epoch FROM timestamp) * 1000)::bigint::text AS ms
     FROM log_entries WHERE timestamp >= $1 AND timestamp < $2 ${where} ORDER BY timestamp, id`,
    [FROM, TO, ...params],
  );
  return rows;
}

const cases = (['jsonl', 'json', 'csv'] as const).flatMap((format) =>
  (['none', 'gzip'] as const).map((compression) => ({ format, compression })),
);

test.each(cases)(
  '$format, compression $compression: the files hold exactly the filtered rows, with their sha256s',
  async ({ format, compression }) => {
    const plan = planOf({
      format,
      compression,
      batchSize: 700,
      maxFileSize: '256Ki',
      filters: {
        programs: ['dropbear', 'dnsmasq', 'hostapd'],
        devices: ['gw-home', 'ap-attic', '10.0.0.1'],
        levels: ['err', 'warning', 'notice', 'info', 'debug', 'crit'],
      },
    });
    const { code, report, output } = await finish(plan);
    expectOk(code, output);
    const expected = await sourceRows(
      `AND process_name = ANY($3) AND device_id = ANY($4) AND log_level = ANY($5)`,
      [
        ['dropbear', 'dnsmasq', 'hostapd'],
        ['gw-home', 'ap-attic', '10.0.0.1'],
        ['err', 'warning', 'notice', 'info', 'debug', 'crit'],
      ],
    );
    expect(expected.length).toBeGreaterThan(10_000);
    const { manifest, records } = await readBack(plan);
    expect(manifest.files.length).toBeGreaterThan(2); // maxFileSize split them
    for (const [i, f] of manifest.files.entries()) {
      expect(f.name).toBe(
        `${plan.name}-logs-${String(i + 1).padStart(4, '0')}.${format}${compression === 'gzip' ? '.gz' : ''}`,
      );
      if (compression === 'none') expect(f.bytes).toBeLessThanOrEqual(256 * 1024);
    }
    expect(records.map((r) => String(r.id))).toEqual(expected.map((r) => r.id));
    for (const [i, r] of records.entries()) {
      const e = expected[i]!;
      expect([r.device, r.program, r.level, r.message]).toEqual([
        e.device,
        e.program,
        e.level,
        e.message,
      ]);
      expect(Date.parse(String(r.time))).toBe(Number(e.ms));
      expect(String(r.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    }
    expect(report).toMatchObject({
      state: 'succeeded',
      recordsDone: expected.length,
      recordsTotal: expected.length,
      manifest: `${plan.name}.manifest.json`,
    });
    expect(report.files).toEqual(manifest.files.map(({ dataType: _, ...f }) => f));
    expect(report.validation).toMatchObject({
      rows: expected.length,
      rejectedRows: 0,
      outOfRange: 0,
      duplicates: 0,
    });
    expect(report.validation!.nullRates.message).toBeGreaterThan(0); // the empty message
    if (format !== 'json') {
      // What an ExportJob writes, `edgewarden train` reads.
      const stats = { records: 0, unreadable: 0 };
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      for await (const _ of readRecords(
        manifest.files.map((f) => path.join(plan.out, f.name)),
        {
          stats,
        },
      ));
      expect(stats).toEqual({ records: expected.length, unreadable: 0 });
    }
  },
);

test('CSV: commas, quotes, CR and LF survive a round trip through a CSV parser', async () => {
  const plan = planOf({ format: 'csv' });
  const { code } = await finish(plan);
  expect(code).toBe(0);
  const { records } = await readBack(plan);
  const seen = new Set(records.map((r) => r.message));
  for (const m of AWKWARD) expect(seen.has(m)).toBe(true);
  const raw = await readFile(path.join(plan.out, `${plan.name}-logs-0001.csv`), 'utf8');
  expect(raw.startsWith('time,device,program,level,message,id\r\n')).toBe(true);
  expect(raw).toContain('"a ""quoted"" word"');
  expect(raw).toContain('"two\nlines"');
  expect(raw).toContain('"commas, in, it"');
});

async function progressOf(run: Run): Promise<ExportProgress> {
  const response = await fetch(`http://127.0.0.1:${await run.port()}/progress`);
  return (await response.json()) as ExportProgress;
}

async function killWhen(run: Run, done: (p: ExportProgress) => boolean): Promise<ExportProgress> {
  for (;;) {
    const p = await progressOf(run).catch(() => undefined);
    if (p && done(p)) {
      run.proc.kill('SIGKILL');
      await run.exited;
      return p;
    }
    if (run.proc?.exitCode !== null && run.proc?.exitCode !== undefined)
      throw new Error(`finished before it could be killed: ${run.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('SIGKILL mid-way, twice, then a restart: every row exactly once (jsonl + gzip, several files)', async () => {
  const plan = planOf({
    format: 'jsonl',
    compression: 'gzip',
    batchSize: 100,
    maxFileSize: '300Ki',
  });
  const first = start(plan);
  await killWhen(first, (p) => p.recordsDone > 5_000);
  const second = start(plan);
  const killed = await killWhen(second, (p) => p.files.length >= 2 && p.recordsDone > 12_000);
  expect(killed.resumedAt).toBeGreaterThan(5_000);
  const { code, report, output } = await finish(plan);
  expectOk(code, output);
  expect(report.resumedAt).toBeGreaterThan(12_000);
  const expected = await sourceRows('');
  const { records } = await readBack(plan);
  expect(records).toHaveLength(expected.length);
  expect(records.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  expect(report.recordsDone).toBe(expected.length);
});

test('without an id column (ties at one timestamp): killed and restarted, every row exactly once', async () => {
  const plan = planOf(
    { format: 'csv', batchSize: 64, maxFileSize: '200Ki' },
    { logs: { source: { secretRef: { name: 'pg' }, sslMode: 'verify-full', preset: 'messages' } } },
  );
  const first = start(plan);
  await killWhen(first, (p) => p.recordsDone > 20_000);
  const { code, output, report } = await finish(plan);
  expectOk(code, output);
  const { records } = await readBack(plan);
  const { rows } = await admin.query<{ key: string; n: string }>(
    `SELECT date::text || '/' || host || '/' || pid || '/' || message AS key, count(*)::text AS n
     FROM messages GROUP BY 1`,
  );
  const counts = new Map<string, number>();
  for (const r of records) {
    const key = `${String(r.time)
      .replace('T', ' ')
      .replace(/\.0*Z$/, '')}/${String(r.device)}/${String(r.pid)}/${String(r.message)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  expect(records).toHaveLength(60_000);
  expect(Object.fromEntries(counts)).toEqual(
    Object.fromEntries(rows.map((r) => [r.key, Number(r.n)])),
  );
  expect(report.validation!.duplicates).toBe(0);
});

test('SIGTERM: stops at the next flush point with exit 1 and the checkpoint; the next run completes', async () => {
  const plan = planOf({ format: 'json', batchSize: 200 });
  const run = start(plan);
  // As soon as it serves its progress: the run checkpoints about once a second, and the whole
  // window takes about that long, so waiting for a checkpoint would race the run's end.
  for (;;) {
    const p = await progressOf(run).catch(() => undefined);
    if (p) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  run.proc.kill('SIGTERM');
  expect(await run.exited).toBe(1);
  const stopped = JSON.parse(
    await readFile(path.join(dir, `${plan.name}-termination`), 'utf8'),
  ) as ExportProgress;
  expect(stopped).toMatchObject({ state: 'failed', error: { reason: 'Terminated' } });
  // Stopped part-way: the next run has rows left to do.
  expect(stopped.recordsDone).toBeLessThan((await sourceRows('')).length);
  const { code, report } = await finish(plan);
  expect(code).toBe(0);
  expect(report.resumedAt).toBe(stopped.recordsDone);
  const { records } = await readBack(plan);
  expect(records.map((r) => r.id)).toEqual((await sourceRows('')).map((r) => r.id));
});

test('an unknown column, an unknown table, an empty time range: exit 3 with the reason', async () => {
  const badColumn = planOf(
    {},
    {
      logs: {
        source: {
          secretRef: { name: 'pg' },
          preset: 'log_entries',
          columns: { message: 'msg' },
        },
      },
    },
  );
  const column = await finish(badColumn);
  expect(column.code).toBe(3);
  expect(column.report).toMatchObject({ state: 'failed', error: { reason: 'UnknownColumn' } });
  expect(column.report.error!.message).toContain('msg');

  const badTable = planOf(
    {},
    { logs: { source: { secretRef: { name: 'pg' }, preset: 'log_entries', table: 'nope' } } },
  );
  const table = await finish(badTable);
  expect(table.code).toBe(3);
  expect(table.report.error).toMatchObject({ reason: 'UnknownTable' });
  expect(table.report.error!.message).toContain('nope');

  const empty = await finish(planOf({}, { from: TO, to: FROM }));
  expect(empty.code).toBe(3);
  expect(empty.report.error).toMatchObject({ reason: 'BadTimeRange' });
  expect(existsSync(badColumn.out) ? await readdir(badColumn.out) : []).toEqual([]);
});

test('a system schema is never exported, even by a hand-run export (issue 20, M4)', async () => {
  const peek = planOf(
    {},
    {
      logs: {
        source: {
          secretRef: { name: 'pg' },
          preset: 'custom',
          table: 'pg_catalog.pg_stat_activity',
          columns: { timestamp: 'query_start', message: 'query' },
        },
      },
    },
  );
  const run = await finish(peek);
  expect(run.code).toBe(3);
  expect(run.report.error).toMatchObject({ reason: 'SourceTableNotAllowed' });
  expect(run.report.error!.message).toContain('pg_catalog.pg_stat_activity');
  expect(existsSync(peek.out) ? await readdir(peek.out) : []).toEqual([]);
});

test('hashAddresses: every MAC and IP replaced by its keyed hash, the same address alike', async () => {
  const key = 'export-test-key';
  const plan = planOf({
    format: 'jsonl',
    transform: { hashAddresses: true, hashKeySecretRef: { name: 'k' } },
  });
  const { code } = await finish(plan, { EDGEWARDEN_EXPORT_HASH_KEY: key });
  expect(code).toBe(0);
  const { records } = await readBack(plan);
  const text = records.map((r) => JSON.stringify(r)).join('\n');
  expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
  expect(text).not.toMatch(/[0-9a-f]{2}(:[0-9a-f]{2}){5}/i);
  expect(text).not.toMatch(/fe80::|2001:db8/);
  const hmac = (kind: string, address: string): string =>
    `${kind}-${createHmac('sha256', key).update(`${kind}:${address}`).digest('hex').slice(0, 16)}`;
  const ssh = records.find((r) => String(r.message).startsWith('Bad password attempt'))!;
  const address = /from (ip-[0-9a-f]{16}):(\d+)/.exec(String(ssh.message))!;
  const source = await admin.query<{ message: string }>(
    'SELECT message FROM log_entries WHERE id = $1',
    [ssh.id],
  );
  const original = /from ([\d.]+):/.exec(source.rows[0]!.message)![1]!;
  expect(address[1]).toBe(hmac('ip', original));
  // A device named by its address is hashed too; MACs are hashed whatever their case.
  expect(records.some((r) => r.device === hmac('ip', '10.0.0.1'))).toBe(true);
  const sta = records.find((r) => String(r.message).startsWith('wlan0: STA'))!;
  const mac = await admin.query<{ message: string }>(
    'SELECT message FROM log_entries WHERE id = $1',
    [sta.id],
  );
  const rawMac = /STA (\S+)/.exec(mac.rows[0]!.message)![1]!;
  expect(String(sta.message)).toBe(
    `wlan0: STA ${hmac('mac', rawMac.toLowerCase())} IEEE 802.11: authenticated`,
  );
});

test('anomalies: paged oldest first through GET /anomalies by cursor, filtered, exactly once', async () => {
  const plan = planOf(
    {
      dataTypes: ['logs', 'anomalies'],
      format: 'csv',
      batchSize: 10,
      filters: { devices: ['gw-home'], minSeverity: 'low', programs: ['kernel'] },
    },
    { anomalies: [{ agent: 'ssh-guard', kind: 'auth', pod: 'ssh-guard-0', url: agentUrl }] },
  );
  const { code, report, output } = await finish(plan);
  expectOk(code, output);
  const { manifest, records } = await readBack(plan);
  const anomalies = records.filter((r) => 'analysisAgent' in r);
  const expected = store
    .list({ since: FROM, until: TO, order: 'asc', limit: 10_000, minSeverity: 2 })
    .filter((a) => a.device === 'gw-home');
  expect(expected.length).toBeGreaterThan(20);
  expect(anomalies.map((a) => Number(a.id))).toEqual(expected.map((a) => a.id));
  expect(anomalies[0]).toMatchObject({
    analysisAgent: 'ssh-guard',
    device: 'gw-home',
    description: expected[0]!.description,
    features: JSON.stringify(expected[0]!.features),
  });
  expect(manifest.records.anomalies).toBe(expected.length);
  expect(report.validation!.nullRates['anomalies.description']).toBe(0);
  expect(report.recordsTotal).toBe(report.recordsDone);
});

test('--clean removes the files, the manifest and the checkpoint, and nothing else', async () => {
  const plan = planOf({ format: 'jsonl', maxFileSize: '512Ki' });
  expect((await finish(plan)).code).toBe(0);
  await writeFile(path.join(plan.out, 'someone-elses.jsonl'), '{}\n');
  const planFile = path.join(dir, `${plan.name}-plan.json`);
  const clean = spawn('node', [path.join(root, 'bin/edgewarden.js'), 'export', '--clean'], {
    env: { ...process.env, EDGEWARDEN_EXPORT_PLAN: planFile, EDGEWARDEN_EXPORT_DIR: plan.out },
    stdio: 'ignore',
  });
  expect(await new Promise((r) => clean.on('exit', r))).toBe(0);
  expect(await readdir(plan.out)).toEqual(['.edgewarden-export', 'someone-elses.jsonl']);
  expect(await readdir(path.join(plan.out, '.edgewarden-export'))).toEqual([]);
});
