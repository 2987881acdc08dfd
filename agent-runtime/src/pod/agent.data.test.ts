// `edgewarden agent` as a process, against a real PostgreSQL: probes, anomalies over HTTP,
// metrics, readiness that follows the database, and a clean SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

import { logisticRegressionOnnx } from '../../../test/fixtures/onnx.js';
import { controlTokenDigest } from '../contract/index.js';
import { train } from '../trainer/train.js';
import {
  startPostgres,
  type PostgresServer,
  adminClient,
  createLogTable,
} from '../../../test/services/postgres.js';
import { until } from '../../../test/fixtures/until.js';
import { authAgentYaml } from '../../../test/fixtures/agentManifest.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let server: PostgresServer;
let dir: string;
let admin: pg.Client;
let receiver: Server;
let hookUrl: string;
const alerts: { agentName: string; anomaly: { type: string; device: string } }[] = [];

const manifest = (extra = ''): string =>
  authAgentYaml(`  notifications:
    webhook: { urlSecretRef: { name: alert-hook } }
${extra}`);

async function connectAdmin(): Promise<void> {
  admin = await adminClient(server);
}

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-agent-'));
  await writeFile(path.join(dir, 'ca.crt'), server.ca);
  await writeFile(path.join(dir, 'agent.yaml'), manifest());
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      alerts.push(JSON.parse(body) as (typeof alerts)[number]);
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook/token-123`;
  await connectAdmin();
  await createLogTable(admin);
});

afterAll(async () => {
  await new Promise((r) => receiver?.close(r));
  await admin?.end().catch(() => undefined);
  await server?.remove();
  await rm(dir, { recursive: true, force: true });
});

function agentEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    EDGEWARDEN_CONFIG: path.join(dir, 'agent.yaml'),
    EDGEWARDEN_PG_URL: `postgresql://reader:reader-secret@localhost:${server.port}/postgres`,
    EDGEWARDEN_PG_CA_FILE: path.join(dir, 'ca.crt'),
    EDGEWARDEN_DATA_DIR: path.join(dir, 'data'),
    EDGEWARDEN_MODEL_DIR: path.join(dir, 'no-model'),
    EDGEWARDEN_HTTP_PORT: '0',
    POD_NAME: 'ssh-guard-0',
    EDGEWARDEN_WEBHOOK_URL: hookUrl,
    // Run as by hand: /status, /anomalies open (issue 20, H2; apiAuth.data.test checks the tokens).
    EDGEWARDEN_API_AUTH: 'none',
    ...overrides,
  };
}

function startAgent(env: NodeJS.ProcessEnv): {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const proc = spawn('node', [path.join(root, 'bin/edgewarden.js'), 'agent'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return { proc, output: () => output, exited: new Promise((r) => proc.on('exit', r)) };
}

const insertFailures = async (n: number, from: string): Promise<void> => {
  for (let i = 0; i < n; i++)
    await admin.query(
      `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message) VALUES ('gw-home', now(), 'warning', 'dropbear', $1)`,
      [`Bad password attempt for 'root' from ${from}:${40000 + i}`],
    );
};

test('the agent analyses new lines, serves them, follows the database, and stops cleanly', async () => {
  const agent = startAgent(agentEnv());
  try {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(agent.output())?.[1]),
    );
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    expect((await fetch(url('/healthz'))).status).toBe(200);
    await until('ready', async () =>
      (await fetch(url('/readyz'))).status === 200 ? true : undefined,
    );

    await insertFailures(12, '203.0.113.5');
    const found = await until('the brute force to be found and stored', async () => {
      const list = (await (await fetch(url('/anomalies?minSeverity=high'))).json()) as {
        type: string;
        device: string;
      }[];
      return list.find((a) => a.type === 'brute_force');
    });
    expect(found).toMatchObject({ device: 'gw-home', agent: 'auth' });
    // The alert went to the webhook (brute force is high severity, the default alert floor).
    await until('the alert', () =>
      Promise.resolve(alerts.some((a) => a.anomaly.type === 'brute_force') ? true : undefined),
    );
    expect(alerts.find((a) => a.anomaly.type === 'brute_force')).toMatchObject({
      agentName: 'ssh-guard',
      anomaly: { device: 'gw-home' },
    });
    const status = (await (await fetch(url('/status'))).json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      agent: 'auth',
      name: 'ssh-guard',
      pod: 'ssh-guard-0',
      ready: true,
      sourceReachable: true,
      linesAnalyzed: 12,
      // Started on an empty table: nothing left unread.
      start: { from: 'end', rowsBefore: 0 },
    });
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/^edgewarden_lines_read_total\{agent="auth"\} 12$/m);
    expect(metrics).toMatch(
      /^edgewarden_anomalies_total\{agent="auth",type="brute_force",severity="\d"\} 1$/m,
    );
    expect(metrics).not.toContain('203.0.113.5'); // no addresses in labels
    // Per device: when it last sent a line (the newest row's time), and its anomalies.
    const newest = (
      await admin.query<{ t: string }>(
        "SELECT extract(epoch FROM max(timestamp))::text AS t FROM log_entries WHERE device_id = 'gw-home'",
      )
    ).rows[0]!.t;
    const lastLine = Number(
      /^edgewarden_device_last_line_timestamp_seconds\{agent="auth",device="gw-home"\} (\S+)$/m.exec(
        metrics,
      )?.[1],
    );
    expect(lastLine).toBeCloseTo(Number(newest), 2);
    expect(metrics).toMatch(
      /^edgewarden_device_anomalies_total\{agent="auth",device="gw-home"\} 1$/m,
    );
    expect(metrics).toMatch(/^edgewarden_cycle_stretch\{agent="auth"\} \d+$/m);
    expect(
      (status as { resources: { stretch: number; memory: number } }).resources.memory,
    ).toBeGreaterThan(0);
    expect((await fetch(url('/anomalies?minSeverity=severe'))).status).toBe(400);

    // The database goes away: not ready, and says why. It comes back: ready, and catches up.
    await admin.end();
    await server.stop();
    const down = await until('not ready', async () => {
      const r = await fetch(url('/readyz'));
      return r.status === 503 ? ((await r.json()) as { reasons: string[] }) : undefined;
    });
    expect(down.reasons.join(' ')).toMatch(/^source: /);
    expect((await fetch(url('/healthz'))).status).toBe(200); // alive all the same
    await server.start();
    await connectAdmin();
    await insertFailures(3, '198.51.100.7');
    await until('ready again', async () =>
      (await fetch(url('/readyz'))).status === 200 ? true : undefined,
    );
    await until('the lines written meanwhile to be analysed', async () => {
      const s = (await (await fetch(url('/status'))).json()) as { linesAnalyzed: number };
      return s.linesAnalyzed === 15 ? true : undefined;
    });
  } finally {
    agent.proc.kill('SIGTERM');
  }
  expect(await agent.exited).toBe(0);
  expect(agent.output()).toContain('edgewarden agent: stopping');

  // Restarted, it still reports when each device last sent a line, before reading any: a
  // router that went silent meanwhile stays visible to the alert on that gauge.
  const again = startAgent(
    agentEnv({ EDGEWARDEN_PG_URL: 'postgresql://reader:x@127.0.0.1:1/none' }),
  );
  try {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(again.output())?.[1]),
    );
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(
      /^edgewarden_device_last_line_timestamp_seconds\{agent="auth",device="gw-home"\} \d+(\.\d+)?$/m,
    );
  } finally {
    again.proc.kill('SIGTERM');
  }
  expect(await again.exited).toBe(0);
});

test('thresholds: below storeSeverity a finding is neither stored nor counted; below alertSeverity none is sent', async () => {
  const config = path.join(dir, 'severities.yaml');
  await writeFile(
    config,
    manifest('  thresholds: { storeSeverity: medium, alertSeverity: critical }\n'),
  );
  const agent = startAgent(
    agentEnv({ EDGEWARDEN_CONFIG: config, EDGEWARDEN_DATA_DIR: path.join(dir, 'data-severities') }),
  );
  try {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(agent.output())?.[1]),
    );
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    await until('ready', async () =>
      (await fetch(url('/readyz'))).status === 200 ? true : undefined,
    );
    // One statement, so one cycle reads them all, in one window: a login from a second source
    // (new_login_source, low), six failures from one source (brute_force, medium), and four
    // failures then a success from another (success_after_failures, critical).
    const messages = [
      "Password auth succeeded for 'root' from 192.0.2.1:2200",
      "Password auth succeeded for 'root' from 192.0.2.2:2200",
      ...Array.from(
        { length: 6 },
        (_, i) => `Bad password attempt for 'root' from 203.0.113.20:${40000 + i}`,
      ),
      ...Array.from(
        { length: 4 },
        (_, i) => `Bad password attempt for 'admin' from 198.51.100.30:${41000 + i}`,
      ),
      "Password auth succeeded for 'admin' from 198.51.100.30:41009",
    ];
    await admin.query(
      `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
       SELECT 'gw-severity', now(), 'info', 'dropbear', m FROM unnest($1::text[]) WITH ORDINALITY AS x(m, n) ORDER BY n`,
      [messages],
    );
    const stored = await until('the critical finding to be stored', async () => {
      const list = (await (await fetch(url('/anomalies'))).json()) as {
        type: string;
        device: string;
        severity: number;
      }[];
      const mine = list.filter((a) => a.device === 'gw-severity');
      return mine.some((a) => a.type === 'success_after_failures') ? mine : undefined;
    });
    expect(stored.map((a) => [a.type, a.severity]).sort()).toEqual([
      ['brute_force', 3],
      ['success_after_failures', 5],
    ]);
    // Alerts go out after the cycle commits, in the order found: the brute force came first.
    await until('the critical alert', () =>
      Promise.resolve(
        alerts.some(
          (a) => a.anomaly.device === 'gw-severity' && a.anomaly.type === 'success_after_failures',
        )
          ? true
          : undefined,
      ),
    );
    expect(
      alerts.filter((a) => a.anomaly.device === 'gw-severity').map((a) => a.anomaly.type),
    ).toEqual(['success_after_failures']);
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(
      /^edgewarden_anomalies_total\{agent="auth",type="brute_force",severity="3"\} 1$/m,
    );
    expect(metrics).not.toContain('new_login_source');
    expect(metrics).toMatch(
      /^edgewarden_device_anomalies_total\{agent="auth",device="gw-severity"\} 2$/m,
    );
  } finally {
    agent.proc.kill('SIGTERM');
  }
  expect(await agent.exited).toBe(0);
});

test('rows loaded before a new agent starts are not read, and /status and the log say so', async () => {
  // The table holds the rows of the tests above, as historical logs loaded to try an agent.
  const { n } = (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM log_entries'))
    .rows[0]!;
  expect(n).toBeGreaterThan(0);
  const agent = startAgent(agentEnv({ EDGEWARDEN_DATA_DIR: path.join(dir, 'data-history') }));
  try {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(agent.output())?.[1]),
    );
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    type Status = {
      linesAnalyzed: number;
      start?: { from: string; rowsBefore: number; oldestBefore: string; newestBefore: string };
    };
    const status = await until('the first cycle', async () => {
      const s = (await (await fetch(url('/status'))).json()) as Status;
      return s.start ? s : undefined;
    });
    expect(status).toMatchObject({ linesAnalyzed: 0, start: { from: 'end', rowsBefore: n } });
    expect(status.start!.oldestBefore <= status.start!.newestBefore).toBe(true);
    expect(agent.output()).toContain(
      `edgewarden agent: first start: reading the source from its end: only rows that arrive from now on; ${n.toLocaleString('en-US')} older rows, from ${status.start!.oldestBefore} to ${status.start!.newestBefore}, are not analysed: spec.source.backfill`,
    );
    // A new row is read; the start stays as it was.
    await insertFailures(1, '192.0.2.99');
    const later = await until('the new row', async () => {
      const s = (await (await fetch(url('/status'))).json()) as Status;
      return s.linesAnalyzed === 1 ? s : undefined;
    });
    expect(later.start).toEqual(status.start);
  } finally {
    agent.proc.kill('SIGTERM');
  }
  expect(await agent.exited).toBe(0);
});

test('the source Secret as files, as a pod mounts it (libpq parts, each <NAME>_FILE): read at start, the file wins', async () => {
  const secretDir = path.join(dir, 'secret-files');
  await mkdir(secretDir, { recursive: true });
  // As `kubectl create secret --from-file` stores them: a final newline each.
  const keys = { host: 'localhost', port: String(server.port), database: 'postgres' };
  for (const [key, value] of Object.entries({
    ...keys,
    username: 'reader',
    password: 'reader-secret',
  }))
    await writeFile(path.join(secretDir, key), `${value}\n`);
  const agent = startAgent(
    agentEnv({
      EDGEWARDEN_PG_URL: undefined,
      PGHOST_FILE: path.join(secretDir, 'host'),
      PGPORT_FILE: path.join(secretDir, 'port'),
      PGDATABASE_FILE: path.join(secretDir, 'database'),
      PGUSER_FILE: path.join(secretDir, 'username'),
      PGPASSWORD_FILE: path.join(secretDir, 'password'),
      // A stale value in the environment: the file wins.
      PGPASSWORD: 'not-the-password',
      EDGEWARDEN_DATA_DIR: path.join(dir, 'data-secret-files'),
    }),
  );
  try {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(agent.output())?.[1]),
    );
    const status = await until('a cycle that read the source', async () => {
      const s = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
        sourceReachable: boolean;
        lastCycleTime?: string;
      };
      return s.lastCycleTime ? s : undefined;
    });
    expect(status.sourceReachable).toBe(true);
    expect(agent.output()).not.toContain('reader-secret');
  } finally {
    agent.proc.kill('SIGTERM');
  }
  expect(await agent.exited).toBe(0);
});

test.each([
  [{ EDGEWARDEN_PG_URL: undefined }, 'no database connection: set EDGEWARDEN_PG_URL'],
  [{ EDGEWARDEN_PG_URL: 'mysql://x@y/z' }, 'EDGEWARDEN_PG_URL: must start with postgresql://'],
  [{ EDGEWARDEN_HTTP_PORT: 'eighty' }, 'EDGEWARDEN_HTTP_PORT: not a port'],
  [
    { EDGEWARDEN_CONFIG: '/nonexistent/agent.yaml' },
    'EDGEWARDEN_CONFIG: cannot read /nonexistent/agent.yaml',
  ],
  [{ EDGEWARDEN_PG_CA_FILE: '/nonexistent/ca.crt' }, 'EDGEWARDEN_PG_CA_FILE: cannot read'],
  // A secret setting's file that cannot be read: named with its path, never a value.
  [{ PGPASSWORD_FILE: '/' }, 'PGPASSWORD_FILE: cannot read / (EISDIR)'],
  [
    { EDGEWARDEN_WEBHOOK_URL: undefined },
    'EDGEWARDEN_WEBHOOK_URL: not set, but the spec asks for this notification channel',
  ],
])('a bad setting %j stops the agent with a message naming it', async (overrides, message) => {
  const agent = startAgent(
    agentEnv({ PGHOST: undefined, PGDATABASE: undefined, PGUSER: undefined, ...overrides }),
  );
  expect(await agent.exited).toBe(2);
  expect(agent.output()).toContain(message);
});

test('a manifest that breaks the schema stops the agent, naming the field', async () => {
  const file = path.join(dir, 'bad.yaml');
  await writeFile(file, manifest('  replicas: many\n'));
  const agent = startAgent(agentEnv({ EDGEWARDEN_CONFIG: file }));
  expect(await agent.exited).toBe(2);
  expect(agent.output()).toContain('spec.replicas');
});

/** A model trained on quiet logins: one success and now and then one failure per window. */
let quietModel: Promise<string> | undefined;
function quietLoginsModel(): Promise<string> {
  quietModel ??= trainQuietLogins();
  return quietModel;
}
async function trainQuietLogins(): Promise<string> {
  const trainLog = path.join(dir, 'quiet-logins.log');
  const lines: string[] = [];
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  for (let w = 0; w < 600; w++) {
    const at = new Date(t0 + w * 10_000).toISOString();
    lines.push(`${at} gw-home dropbear[1]: Password auth succeeded for 'root' from 192.0.2.1:2200`);
    if (w % 3 === 0)
      lines.push(`${at} gw-home dropbear[1]: Bad password attempt for 'root' from 192.0.2.1:2201`);
  }
  await writeFile(trainLog, lines.join('\n') + '\n');
  const modelDir = path.join(dir, 'auth-model');
  await train({
    agent: 'auth',
    inputs: [trainLog],
    out: modelDir,
    trees: 50,
    sampleSize: 128,
    contamination: 0.01,
    seed: 1,
    windowMs: 10_000,
  });
  return modelDir;
}

test('the served model’s features are checked for drift: /status, /metrics', async () => {
  const modelDir = await quietLoginsModel();
  const config = path.join(dir, 'with-model.yaml');
  await writeFile(config, manifest('  model: { name: auth-model }\n'));
  const agent = startAgent(
    agentEnv({
      EDGEWARDEN_CONFIG: config,
      EDGEWARDEN_MODEL_DIR: modelDir,
      EDGEWARDEN_DATA_DIR: path.join(dir, 'data-drift'),
    }),
  );
  try {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(agent.output())?.[1]),
    );
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    await until('ready', async () =>
      (await fetch(url('/readyz'))).status === 200 ? true : undefined,
    );
    // Forty windows of a new pattern: four failed logins each, from four sources (not a brute
    // force), time-stamped in the last minutes so they close windows at once.
    const start = Date.now() - 40 * 10_000 - 60_000;
    for (let w = 0; w < 40; w++)
      for (let k = 0; k < 4; k++)
        await admin.query(
          `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message) VALUES ('gw-home', $1, 'warning', 'dropbear', $2)`,
          [
            new Date(start + w * 10_000 + k).toISOString(),
            `Bad password attempt for 'root' from 198.51.100.${k + 1}:40000`,
          ],
        );
    const drift = await until('drift to be judged', async () => {
      const s = (await (await fetch(url('/status'))).json()) as {
        drift?: { judged: boolean; detected: boolean; drifted: string[]; modelVersion: string };
      };
      return s.drift?.judged ? s.drift : undefined;
    });
    expect(drift.detected).toBe(true);
    expect(drift.drifted).toContain('failures');
    expect(drift.modelVersion).toMatch(/^auth-/);
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/^edgewarden_model_drift\{agent="auth"\} 1$/m);
    expect(metrics).toMatch(
      /^edgewarden_feature_drift\{agent="auth",feature="failures"\} (1|0\.\d+)$/m,
    );
  } finally {
    agent.proc.kill('SIGTERM');
  }
  expect(await agent.exited).toBe(0);
});

test('a rolled-out model is checked for drift too: PUT /model with its manifest.json', async () => {
  // The quiet-logins model of the test above, offered as a ModelDeployment rollout offers it:
  // its bytes and its manifest (the summary drift is judged against), not a model folder.
  const modelDir = await quietLoginsModel();
  const [bytes, manifestJson] = await Promise.all([
    readFile(path.join(modelDir, 'model.onnx')),
    readFile(path.join(modelDir, 'manifest.json')),
  ]);
  const trained = JSON.parse(manifestJson.toString()) as { features: string[]; summary?: object };
  expect(trained.summary).toBeDefined();
  const token = 'operator-derived-token';
  const served = path.join(dir, 'rolled-out-model');
  await mkdir(served, { recursive: true });
  const config = path.join(dir, 'rolled-out.yaml');
  await writeFile(config, manifest('  model: { name: auth-model }\n'));
  const agent = startAgent(
    agentEnv({
      EDGEWARDEN_CONFIG: config,
      EDGEWARDEN_MODEL_DIR: served,
      EDGEWARDEN_DATA_DIR: path.join(dir, 'data-rolled-out'),
      EDGEWARDEN_CONTROL_TOKEN_SHA256: controlTokenDigest(token),
    }),
  );
  try {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(agent.output())?.[1]),
    );
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    const installed = await fetch(url('/model'), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        version: 'quiet-1',
        agent: 'auth',
        features: trained.features,
        source: { inline: bytes.toString('base64') },
        manifest: { inline: manifestJson.toString('base64') },
      }),
    });
    expect(installed.status).toBe(200);
    await until('ready', async () =>
      (await fetch(url('/readyz'))).status === 200 ? true : undefined,
    );
    // The same forty windows of four failed logins from four sources each.
    const start = Date.now() - 40 * 10_000 - 60_000;
    for (let w = 0; w < 40; w++)
      for (let k = 0; k < 4; k++)
        await admin.query(
          `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message) VALUES ('gw-rolled', $1, 'warning', 'dropbear', $2)`,
          [
            new Date(start + w * 10_000 + k).toISOString(),
            `Bad password attempt for 'root' from 198.51.100.${k + 1}:40000`,
          ],
        );
    const drift = await until('drift of the rolled-out model to be judged', async () => {
      const s = (await (await fetch(url('/status'))).json()) as {
        drift?: { judged: boolean; detected: boolean; drifted: string[]; modelVersion: string };
      };
      return s.drift?.judged ? s.drift : undefined;
    });
    expect(drift).toMatchObject({ modelVersion: 'quiet-1', detected: true });
    expect(drift.drifted).toContain('failures');
    expect(await (await fetch(url('/metrics'))).text()).toMatch(
      /^edgewarden_model_drift\{agent="auth"\} 1$/m,
    );
  } finally {
    agent.proc.kill('SIGTERM');
  }
  expect(await agent.exited).toBe(0);
});

test('kill -9 of `edgewarden agent` in the middle of a cycle: restarted, it loses nothing and counts nothing twice', async () => {
  const config = path.join(dir, 'small-batches.yaml');
  // Small batches make a long cycle: a thousand reads for 100,000 rows.
  await writeFile(
    config,
    manifest().replace('preset: log_entries', 'preset: log_entries\n    batchSize: 100'),
  );
  const dataDir = path.join(dir, 'data-kill');
  const env = agentEnv({
    EDGEWARDEN_CONFIG: config,
    EDGEWARDEN_DATA_DIR: dataDir,
    EDGEWARDEN_WEBHOOK_URL: hookUrl,
  });
  const waitReady = async (
    agent: ReturnType<typeof startAgent>,
  ): Promise<(p: string) => string> => {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(agent.output())?.[1]),
    );
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    await until('ready', async () =>
      (await fetch(url('/readyz'))).status === 200 ? true : undefined,
    );
    return url;
  };
  const first = startAgent(env);
  await waitReady(first); // its first cycle set the watermark at the table's end
  const maxId = async (): Promise<number> =>
    Number(
      (await admin.query<{ id: string | null }>('SELECT max(id) AS id FROM log_entries')).rows[0]!
        .id ?? 0,
    );
  const before = await maxId();
  // 100,000 rows in groups of ten sharing a second: five failed logins from the group's own
  // source (10,000 sources, a brute force apiece) and five successes from elsewhere.
  await admin.query(
    `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
     SELECT 'gw-kill', now() - interval '3 minutes' + (g / 10 % 120) * interval '1 second', 'warning', 'dropbear',
       CASE WHEN g % 10 < 5
         THEN format('Bad password attempt for ''root'' from 10.%s.%s.1:4000', g / 10 / 250, g / 10 % 250)
         ELSE format('Password auth succeeded for ''admin'' from 192.0.2.%s:2200', g % 200)
       END
     FROM generate_series(0, 99999) AS g`,
  );
  // Kill it while it is reading them: one of its reads is running in PostgreSQL.
  await until(
    'the agent to be reading the new rows',
    async () =>
      (
        await admin.query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = 'edgewarden-auth-ssh-guard-0' AND state = 'active'`,
        )
      ).rowCount! > 0
        ? true
        : undefined,
    20_000,
  );
  first.proc.kill('SIGKILL');
  expect(await first.exited).toBeNull();
  const { default: Database } = await import('better-sqlite3');
  const peek = (): { lines: number; bruteForces: number } => {
    const db = new Database(path.join(dataDir, 'anomalies.db'), { readonly: true });
    try {
      const lines = (
        db.prepare('SELECT COALESCE(SUM(lines), 0) AS n FROM cycles').get() as { n: number }
      ).n;
      const { n } = db
        .prepare(
          "SELECT COALESCE(SUM(occurrences), 0) AS n FROM anomalies WHERE device_id = 'gw-kill' AND anomaly_type = 'brute_force'",
        )
        .get() as { n: number };
      return { lines, bruteForces: n };
    } finally {
      db.close();
    }
  };
  // It died before committing: none of the new rows counts as analysed, no anomaly is stored.
  expect(peek()).toEqual({ lines: 0, bruteForces: 0 });

  const second = startAgent(env);
  try {
    const url = await waitReady(second);
    await until(
      'every new row to be analysed',
      async () => {
        const s = (await (await fetch(url('/status'))).json()) as { linesAnalyzed: number };
        return s.linesAnalyzed === 100_000 ? true : undefined;
      },
      60_000,
    );
    const after = peek();
    expect(after.lines).toBe(100_000); // each row in exactly one committed cycle
    expect(await maxId()).toBe(before + 100_000);
    // Every source's brute force found once (counted on one de-duplicated row), none twice.
    expect(after.bruteForces).toBe(10_000);
    const stored = (await (await fetch(url('/anomalies?limit=1000'))).json()) as {
      type: string;
      device: string;
    }[];
    expect(stored.filter((a) => a.device === 'gw-kill' && a.type === 'brute_force')).toHaveLength(
      1,
    );
  } finally {
    second.proc.kill('SIGTERM');
  }
  expect(await second.exited).toBe(0);
}, 120_000);

test('PUT /model: only with the token; a dry run changes nothing; an install serves at once and counts what it scores', async () => {
  const token = 'operator-derived-token';
  const modelDir = path.join(dir, 'delivered-model');
  await mkdir(modelDir, { recursive: true });
  const config = path.join(dir, 'delivered.yaml');
  await writeFile(config, manifest('  model: { name: auth-model }\n'));
  const agent = startAgent(
    agentEnv({
      EDGEWARDEN_CONFIG: config,
      EDGEWARDEN_MODEL_DIR: modelDir,
      EDGEWARDEN_DATA_DIR: path.join(dir, 'data-delivered'),
      EDGEWARDEN_CONTROL_TOKEN_SHA256: controlTokenDigest(token),
    }),
  );
  try {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(agent.output())?.[1]),
    );
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    // A model that flags every window: sigmoid(bias 6) ≈ 0.998 whatever the features.
    const bytes = logisticRegressionOnnx([0, 0, 0], 6);
    const body = {
      version: 'flood-1',
      agent: 'auth',
      features: ['failures', 'successes', 'failure_sources'],
      threshold: 0.9,
      source: { inline: Buffer.from(bytes).toString('base64') },
    };
    const put = (b: unknown, auth = `Bearer ${token}`) =>
      fetch(url('/model'), {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: JSON.stringify(b),
      });
    const status = async () =>
      (await (await fetch(url('/status'))).json()) as {
        model?: {
          version?: string;
          sha256?: string;
          scored?: { windows: number; flagged: number };
        };
      };

    expect((await put(body, 'Bearer wrong')).status).toBe(401);
    const dry = await put({ ...body, dryRun: true });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({
      version: 'flood-1',
      dryRun: true,
      golden: { rows: 1, flagged: 1 },
    });
    expect((await status()).model?.version).toBeUndefined();

    // No threshold in the offer (a ModelDeployment may leave it out): the agent's own applies.
    const withoutThreshold: Partial<typeof body> = { ...body };
    delete withoutThreshold.threshold;
    const defaulted = await put({ ...withoutThreshold, dryRun: true });
    expect(defaulted.status).toBe(200);
    expect(await defaulted.json()).toMatchObject({ golden: { rows: 1, flagged: 1 } });

    const refused = await put({ ...body, version: 'wide', features: ['failures', 'successes'] });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ reason: 'InputShapeMismatch' });

    const installed = await put(body);
    expect(installed.status).toBe(200);
    const { sha256 } = (await installed.json()) as { sha256: string };
    expect((await status()).model).toMatchObject({ version: 'flood-1', sha256 });
    await until('ready with the delivered model', async () =>
      (await fetch(url('/readyz'))).status === 200 ? true : undefined,
    );
    // Lines in a closed window: the model scores that window and flags it.
    const at = new Date(Date.now() - 60_000).toISOString();
    await admin.query(
      `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message) VALUES ('gw-model', $1, 'warning', 'dropbear', 'Bad password attempt for ''root'' from 198.51.100.9:40000')`,
      [at],
    );
    const scored = await until('the window to be scored', async () => {
      const s = (await status()).model?.scored;
      return s && s.windows > 0 ? s : undefined;
    });
    expect(scored.flagged).toBe(scored.windows);
    // Published when the cycle that scored the window ends (it may still be running).
    await until('the served model in /metrics', async () =>
      /^edgewarden_model_info\{agent="auth",version="flood-1"\} 1$/m.test(
        await (await fetch(url('/metrics'))).text(),
      )
        ? true
        : undefined,
    );

    expect(
      (
        await fetch(url('/model'), {
          method: 'DELETE',
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(204);
    expect((await status()).model?.version).toBeUndefined();
  } finally {
    agent.proc.kill('SIGTERM');
  }
  expect(await agent.exited).toBe(0);
});

/** As the kubelet updates a mounted ConfigMap: the new file appears whole, never half-written. */
async function writeAtomically(file: string, text: string): Promise<void> {
  await writeFile(`${file}.new`, text);
  await rename(`${file}.new`, file);
}

test('rules: an override and an allowlist in the AnalysisAgent apply within a cycle, with no restart; a broken pack is refused and the rules in force go on', async () => {
  const config = path.join(dir, 'rules.yaml');
  const rulesDir = path.join(dir, 'rules');
  const packFile = path.join(rulesDir, 'site-rules', 'mine.yaml');
  await mkdir(path.dirname(packFile), { recursive: true });
  // A pack of the site's own, as a ConfigMap mounted in the rules folder would hold it.
  // dropbear svr-authpasswd.c: "Bad password attempt for '%s' from %s".
  const pack = (pattern: string) => `pack: site-rules
rules:
  - id: site.dropbear-failures
    agent: auth
    type: site_failures
    description: '{count} failed logins from {source} (site rule)'
    match:
      - programs: [dropbear]
        pattern: "${pattern}"
    detect: { count: { threshold: 3, window: 10m, groupBy: [source] } }
    severity: 3
    remediation: Block the source at the firewall.
    format: "dropbear svr-authpasswd.c: Bad password attempt for '%s' from %s"
    examples:
      match: ["<38>Nov 12 13:20:06 gw dropbear[9]: Bad password attempt for 'root' from 192.0.2.7:4000"]
      noMatch: ["<38>Nov 12 13:20:06 gw dropbear[9]: Child connection from 192.0.2.7:4000"]
`;
  const good = "^Bad password attempt for '[^']*' from (?<source>[^\\\\s:]+)";
  await writeFile(packFile, pack(good));
  await writeAtomically(config, manifest());
  const agent = startAgent(
    agentEnv({
      EDGEWARDEN_CONFIG: config,
      EDGEWARDEN_RULES_DIR: rulesDir,
      EDGEWARDEN_DATA_DIR: path.join(dir, 'data-rules'),
    }),
  );
  const failures = async (n: number, from: string): Promise<void> => {
    for (let i = 0; i < n; i++)
      await admin.query(
        `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message) VALUES ('gw-rules', now(), 'warning', 'dropbear', $1)`,
        [`Bad password attempt for 'admin' from ${from}:${41000 + i}`],
      );
  };
  try {
    const port = await until('the agent to listen', () =>
      Promise.resolve(/serving on port (\d+)/.exec(agent.output())?.[1]),
    );
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    type Status = {
      linesAnalyzed: number;
      rules: { rules: number; reloads: number; error?: string };
    };
    const status = async () => (await (await fetch(url('/status'))).json()) as Status;
    const siteFindings = async () =>
      (
        (await (await fetch(url('/anomalies'))).json()) as {
          type: string;
          description: string;
          rule?: string;
        }[]
      ).filter((a) => a.type === 'site_failures');
    const analysed = (n: number) =>
      until(`${n} lines analysed`, async () =>
        (await status()).linesAnalyzed >= n ? true : undefined,
      );
    await until('ready', async () =>
      (await fetch(url('/readyz'))).status === 200 ? true : undefined,
    );
    const first = await status();
    expect(first.rules.error).toBeUndefined();

    await failures(3, '203.0.113.20');
    const found = await until('the site rule to fire', async () => {
      const list = await siteFindings();
      return list.length > 0 ? list : undefined;
    });
    expect(found[0]).toMatchObject({
      rule: 'site.dropbear-failures',
      description: '3 failed logins from 203.0.113.20 (site rule)',
      remediation: 'Block the source at the firewall.',
    });

    // The AnalysisAgent's spec.rules changes (the kubelet rewrites the mounted file in place).
    await writeAtomically(
      config,
      manifest(`  rules:
    overrides: [{ rule: site.dropbear-failures, threshold: 10 }]
    allow: { sources: [198.51.100.0/24] }
`),
    );
    await until('the new tuning to be loaded', async () =>
      (await status()).rules.reloads > first.rules.reloads ? true : undefined,
    );
    await failures(5, '203.0.113.21'); // below the new threshold
    await failures(12, '198.51.100.7'); // allowed
    await analysed(3 + 5 + 12);
    expect((await siteFindings()).map((a) => a.description)).toEqual([
      '3 failed logins from 203.0.113.20 (site rule)',
    ]);

    // A pack that does not compile: refused, named; the rules in force (threshold 10) go on.
    await writeAtomically(packFile, pack('^Bad password (?<source>[unclosed'));
    const refused = await until(
      'the broken pack to be refused',
      async () => (await status()).rules.error,
    );
    expect(refused).toMatch(
      /^rule site\.dropbear-failures \(.*mine\.yaml\): match\[0\]\.pattern: Invalid regular expression/,
    );
    expect(agent.output()).toContain(
      'edgewarden agent: rules refused, the rules in force go on: rule site.dropbear-failures',
    );
    await failures(10, '203.0.113.30');
    await until('the rules in force to fire', async () =>
      (await siteFindings()).some(
        (a) => a.description === '10 failed logins from 203.0.113.30 (site rule)',
      )
        ? true
        : undefined,
    );
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/^edgewarden_rules_refused_total\{agent="auth"\} 1$/m);
    expect(metrics).toMatch(
      /^edgewarden_rule_anomalies_total\{agent="auth",rule="site\.dropbear-failures"\} 2$/m,
    );
    expect(agent.proc.exitCode).toBeNull(); // the same process throughout: no restart
  } finally {
    agent.proc.kill('SIGTERM');
  }
  expect(await agent.exited).toBe(0);
});
