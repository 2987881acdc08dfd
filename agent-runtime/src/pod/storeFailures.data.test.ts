// `edgewarden agent` as a process, against a real PostgreSQL, when its SQLite store is bad
// (issue 20, M5): a store that is not a database, or one written by a newer edgewarden, is
// moved aside (kept, never deleted) and a fresh one started, and /status says so; a store
// that fails every cycle turns /readyz not ready after MAX_FAILED_CYCLES in a row, the metrics
// count the failures, and one good cycle makes the agent ready again.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type pg from 'pg';

import type { AgentStatus } from '../contract/index.js';
import {
  startPostgres,
  type PostgresServer,
  adminClient,
  createLogTable,
} from '../../../test/services/postgres.js';
import { MAX_FAILED_CYCLES } from './analysisLoop.js';
import { until } from '../../../test/fixtures/until.js';
import { authAgentYaml } from '../../../test/fixtures/agentManifest.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let server: PostgresServer;
let dir: string;
let admin: pg.Client;

const MANIFEST = authAgentYaml();

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-store-'));
  await writeFile(path.join(dir, 'ca.crt'), server.ca);
  await writeFile(path.join(dir, 'agent.yaml'), MANIFEST);
  admin = await adminClient(server);
  await createLogTable(admin);
});

afterAll(async () => {
  await admin?.end().catch(() => undefined);
  await server?.remove();
  await rm(dir, { recursive: true, force: true });
});

interface RunningAgent {
  proc: ChildProcess;
  output: () => string;
  url: (p: string) => string;
  stop: () => Promise<void>;
}

/** Starts the agent on `dataDir`; resolves once it serves (or throws with its output). */
async function startAgent(dataDir: string): Promise<RunningAgent> {
  const proc = spawn('node', [path.join(root, 'bin/edgewarden.js'), 'agent'], {
    env: {
      ...process.env,
      EDGEWARDEN_CONFIG: path.join(dir, 'agent.yaml'),
      EDGEWARDEN_PG_URL: `postgresql://reader:reader-secret@localhost:${server.port}/postgres`,
      EDGEWARDEN_PG_CA_FILE: path.join(dir, 'ca.crt'),
      EDGEWARDEN_DATA_DIR: dataDir,
      EDGEWARDEN_MODEL_DIR: path.join(dir, 'no-model'),
      EDGEWARDEN_HTTP_PORT: '0',
      POD_NAME: 'ssh-guard-0',
      // Run as by hand: /status, /anomalies open (issue 20, H2; apiAuth.data.test checks the tokens).
      EDGEWARDEN_API_AUTH: 'none',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited: number | null | undefined;
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const gone = new Promise<void>((r) =>
    proc.on('exit', (code) => {
      exited = code;
      r();
    }),
  );
  const port = await until('the agent to listen', () => {
    if (exited !== undefined) throw new Error(`the agent exited (${exited}):\n${output}`);
    return Promise.resolve(/serving on port (\d+)/.exec(output)?.[1]);
  }).catch((error: Error) => {
    proc.kill('SIGKILL');
    throw new Error(`${error.message}\n${output}`);
  });
  return {
    proc,
    output: () => output,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    stop: async () => {
      if (exited === undefined) proc.kill('SIGTERM');
      await gone;
    },
  };
}

const status = async (agent: RunningAgent): Promise<AgentStatus> =>
  (await (await fetch(agent.url('/status'))).json()) as AgentStatus;

/** The one file of `dataDir` whose name starts with `prefix`. */
async function movedAside(dataDir: string, prefix: string): Promise<string[]> {
  return (await readdir(dataDir)).filter((f) => f.startsWith(prefix)).sort();
}

test('a store that is not a database is moved aside, kept, and a fresh one serves', async () => {
  const dataDir = path.join(dir, 'garbage');
  await mkdir(dataDir);
  const garbage = Buffer.from('this is not an SQLite file, just bytes '.repeat(200));
  await writeFile(path.join(dataDir, 'anomalies.db'), garbage);
  await writeFile(path.join(dataDir, 'anomalies.db-wal'), Buffer.from('not a wal either'));
  const agent = await startAgent(dataDir);
  try {
    await until('ready', async () =>
      (await fetch(agent.url('/readyz'))).status === 200 ? true : undefined,
    );
    const { store } = await status(agent);
    expect(store?.reason).toBe('Corrupt');
    expect(store?.message).toMatch(/not a database/);
    expect(store?.movedTo).toMatch(/^anomalies\.db\.corrupt-\d{8}T\d{6}Z$/);
    expect(Date.parse(store!.recoveredAt)).toBeLessThanOrEqual(Date.now());
    const moved = await movedAside(dataDir, 'anomalies.db.corrupt-');
    expect(moved).toEqual([store!.movedTo, `${store!.movedTo}-wal`]);
    expect(await readFile(path.join(dataDir, store!.movedTo))).toEqual(garbage);
    const fresh = new Database(path.join(dataDir, 'anomalies.db'), { readonly: true });
    expect(fresh.pragma('user_version', { simple: true })).toBeGreaterThan(0);
    fresh.close();
    expect(agent.output()).toMatch(/moved aside/);
  } finally {
    await agent.stop();
  }
});

test('a store of a newer edgewarden is moved aside, never thrown away', async () => {
  const dataDir = path.join(dir, 'newer');
  await mkdir(dataDir);
  const newer = new Database(path.join(dataDir, 'anomalies.db'));
  newer.exec("CREATE TABLE kept (what TEXT); INSERT INTO kept VALUES ('from the future')");
  newer.pragma('user_version = 999');
  newer.close();
  const agent = await startAgent(dataDir);
  try {
    const { store } = await status(agent);
    expect(store?.reason).toBe('NewerSchema');
    expect(store?.movedTo).toMatch(/^anomalies\.db\.newer-\d{8}T\d{6}Z$/);
    const old = new Database(path.join(dataDir, store!.movedTo), { readonly: true });
    expect(old.pragma('user_version', { simple: true })).toBe(999);
    expect(old.prepare('SELECT what FROM kept').pluck().get()).toBe('from the future');
    old.close();
    expect(agent.output()).toMatch(/schema version 999.*moved aside.*never deleted/s);
  } finally {
    await agent.stop();
  }
});

/** A sample of the agent's /metrics: the value of `name` (first series), or undefined. */
async function metric(agent: RunningAgent, name: string): Promise<number | undefined> {
  const text = await (await fetch(agent.url('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('cycles that keep failing turn /readyz not ready, are counted, and one success heals', async () => {
  const dataDir = path.join(dir, 'failing');
  await mkdir(dataDir);
  const agent = await startAgent(dataDir);
  try {
    await until('ready', async () =>
      (await fetch(agent.url('/readyz'))).status === 200 ? true : undefined,
    );
    // Every cycle writes a row to `cycles` with its watermark: without the table, each fails
    // in the store (as on a full disk), while the source answers.
    const store = new Database(path.join(dataDir, 'anomalies.db'));
    const schema = store
      .prepare("SELECT sql FROM sqlite_master WHERE name = 'cycles'")
      .pluck()
      .get() as string;
    store.exec('DROP TABLE cycles');
    const body = await until('not ready', async () => {
      const res = await fetch(agent.url('/readyz'));
      return res.status === 503 ? ((await res.json()) as { reasons: string[] }) : undefined;
    });
    expect(body.reasons).toEqual([expect.stringMatching(/^cycles: \d+ failed in a row/)]);
    expect(await metric(agent, 'edgewarden_cycle_failures_total')).toBeGreaterThanOrEqual(
      MAX_FAILED_CYCLES,
    );
    expect(await metric(agent, 'edgewarden_cycle_consecutive_failures')).toBeGreaterThanOrEqual(
      MAX_FAILED_CYCLES,
    );
    expect(await metric(agent, 'edgewarden_ready')).toBe(0);

    store.exec(schema);
    store.close();
    await until('ready again', async () =>
      (await fetch(agent.url('/readyz'))).status === 200 ? true : undefined,
    );
    expect(await metric(agent, 'edgewarden_cycle_consecutive_failures')).toBe(0);
  } finally {
    await agent.stop();
  }
});
