// The agent's cycle against a real PostgreSQL and SQLite: it finds in the database what
// `analyze` finds in the file; kill -9 in the middle of a cycle loses nothing and counts
// nothing twice, and neither does a cycle that fails when the database goes away and is
// retried by the same process. An agent started at the end of that table of old rows
// records what it left unread.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

import {
  startPostgres,
  type PostgresServer,
  adminClient,
  createLogTable,
} from '../../../test/services/postgres.js';
import { AnalysisEngine } from '../agents/engine.js';
import { agentNames } from '../agents/registry.js';
import { ruledAgents } from '../rules/ruledAgents.js';
import type { Anomaly } from '../agents/types.js';
import { analyzeLines } from '../analyze/analyzeLines.js';
import { injectAttacks } from '../demo/attacks.js';
import { sampleLog } from '../demo/runDemo.js';
import { WindowScorer } from '../model/windowScorer.js';
import { SyslogParser } from '../parse/syslog.js';
import { PostgresSource } from '../source/postgresSource.js';
import { resolveMapping } from '../source/presets.js';
import { AnomalyStore } from '../store/anomalyStore.js';
import { runCycle } from './cycle.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let server: PostgresServer;
let dir: string;
let lines: string[];
/** The rows' times (ms), as stored. */
let rowTimes: number[];
const READER = { user: 'reader', password: 'reader-secret' };
// The agents as pods run them: their code and the built-in rule packs.
const allAgents = (await ruledAgents(agentNames, { windowMs: 300_000 })).agents;
const authAgents = (await ruledAgents(['auth'], { windowMs: 300_000 })).agents;

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-cycle-'));
  await writeFile(path.join(dir, 'ca.crt'), server.ca);
  const admin = await adminClient(server);
  await createLogTable(admin);
  // The demo's lines (real background, injected attacks), as the collector would store them.
  const background = (await readFile(sampleLog, 'utf8')).split('\n').filter(Boolean);
  lines = injectAttacks(background, Date.parse('2023-07-18T02:00:00Z'), 30 * 60_000, 1).lines;
  const parser = new SyslogParser();
  const rows = lines
    .map((l) => parser.parse(l))
    .map((o) => (o.ok ? o.record : undefined))
    .filter((r) => r !== undefined);
  expect(rows).toHaveLength(lines.length);
  rowTimes = rows.map((r) => Date.parse(r.timestamp));
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await admin.query(
      `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
       SELECT 'gw-home', t, l, p, m FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[]) AS x(t, l, p, m)`,
      [
        chunk.map((r) => r.timestamp),
        chunk.map((r) => r.level),
        chunk.map((r) => r.program),
        chunk.map((r) => r.message),
      ],
    );
  }
  await admin.end();
});

afterAll(async () => {
  await server?.remove();
  await rm(dir, { recursive: true, force: true });
});

function source(
  batchSize: number,
  table?: string,
  filters: { programs?: string[] } = {},
): PostgresSource {
  return new PostgresSource({
    ...filters,
    connection: {
      host: server.host,
      port: server.port,
      database: 'postgres',
      ...READER,
      sslMode: 'verify-full',
      ca: server.ca,
    },
    mapping: resolveMapping('log_entries', table),
    batchSize,
    retries: 2,
    retryDelayMs: 50,
  });
}

/** What a finding is, independent of how it was stored: for comparing runs. */
const key = (a: Pick<Anomaly, 'agent' | 'type' | 'device' | 'windowStart'>): string =>
  `${a.agent}/${a.type}/${a.device}/${a.windowStart}`;

test('one cycle over the table finds what analyze finds in the same lines', async () => {
  const store = new AnomalyStore(path.join(dir, 'one.db'), {
    cooldownMs: 1,
    retentionMs: 1e12,
    maxRows: 1e6,
  });
  const scorer = new WindowScorer(() => ({}));
  const engine = new AnalysisEngine(allAgents, {
    windowMs: 300_000,
    onWindow: scorer.collect,
  });
  const src = source(200);
  try {
    const cycle = await runCycle({
      source: src,
      store,
      engine,
      scorer,
      sourceKey: 'log_entries',
      startAt: 'beginning',
      maxLines: 1e6,
    });
    expect(cycle.lines).toBe(lines.length);
    expect(cycle.caughtUp).toBe(true);
    const fromFile: Anomaly[] = [];
    await analyzeLines([lines.map((l, i) => [i + 1, l] as [number, string])], {
      agents: allAgents,
      windowMs: 300_000,
      defaultHost: 'gw-home',
      onAnomaly: (a) => fromFile.push(a),
    });
    expect(cycle.anomalies.map(key).sort()).toEqual(fromFile.map(key).sort());
    expect(store.cycleTotals('log_entries')).toEqual({ cycles: 1, lines: lines.length });
    // The next cycle has nothing new to read.
    expect(
      (
        await runCycle({
          source: src,
          store,
          engine,
          scorer,
          sourceKey: 'log_entries',
          startAt: 'beginning',
        })
      ).lines,
    ).toBe(0);
  } finally {
    store.close();
    await src.close();
  }
});

test('a first start at the end of a table of old rows records the rows it leaves unread', async () => {
  const store = new AnomalyStore(path.join(dir, 'end.db'), {
    cooldownMs: 1,
    retentionMs: 1e12,
    maxRows: 1e6,
  });
  const scorer = new WindowScorer(() => ({}));
  const cycle = (src: PostgresSource, sourceKey: string, backfill?: string) =>
    runCycle({
      source: src,
      store,
      engine: new AnalysisEngine(authAgents, {
        windowMs: 300_000,
        onWindow: scorer.collect,
      }),
      scorer,
      sourceKey,
      startAt: 'end',
      ...(backfill ? { backfill, backfillMs: 86_400_000 } : {}),
    });
  const all = source(200);
  const dropbear = source(200, undefined, { programs: ['dropbear'] });
  try {
    const first = await cycle(all, 'all');
    const iso = (ms: number): string => new Date(ms).toISOString();
    const start = {
      time: first.startedAt,
      from: 'end',
      rowsBefore: lines.length,
      oldestBefore: iso(Math.min(...rowTimes)),
      newestBefore: iso(Math.max(...rowTimes)),
    };
    // Nothing analysed: every row is older than the start.
    expect(first).toMatchObject({ lines: 0, start });
    expect(store.sourceStart('all')).toEqual(start);
    // The next cycles keep the first start; they have a watermark to go on from.
    const second = await cycle(all, 'all');
    expect(second.start).toBeUndefined();
    expect(store.sourceStart('all')).toEqual(start);

    // Counted as the agent reads: its programs only. And with a backfill of 24h, all of these
    // rows (of 2023) are older than the period, and left too.
    const ssh = await cycle(dropbear, 'ssh', '24h');
    const sshRows = lines.filter((l) => /dropbear\[/.test(l)).length;
    expect(sshRows).toBeGreaterThan(0);
    expect(ssh).toMatchObject({
      lines: 0,
      start: { from: 'backfill', backfill: '24h', rowsBefore: sshRows },
    });
  } finally {
    store.close();
    await all.close();
    await dropbear.close();
  }
});

/** Runs cycle-child.js; resolves its output lines as they come, and its exit. */
function child(storeFile: string): {
  process: ChildProcess;
  events: Record<string, unknown>[];
  exited: Promise<number | null>;
} {
  const proc = spawn('node', [path.join(root, 'dist/test/services/cycle-child.js')], {
    env: {
      ...process.env,
      EW_PG_HOST: server.host,
      EW_PG_PORT: String(server.port),
      EW_PG_DATABASE: 'postgres',
      EW_PG_USER: READER.user,
      EW_PG_PASSWORD: READER.password,
      EW_PG_CA_FILE: path.join(dir, 'ca.crt'),
      EW_STORE: storeFile,
      EW_BATCH_SIZE: '50',
      EW_MAX_LINES: '300',
      EW_BATCH_DELAY_MS: '20',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  proc.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const p of parts) if (p) events.push(JSON.parse(p) as Record<string, unknown>);
  });
  return { process: proc, events, exited: new Promise((r) => proc.on('exit', r)) };
}

test('kill -9 in the middle of a cycle: nothing lost, nothing counted twice', async () => {
  const storeFile = path.join(dir, 'killed.db');
  const first = child(storeFile);
  // Wait for two committed cycles and the third one's reads to be under way, then kill.
  for (let i = 0; i < 600; i++) {
    const cycles = first.events.filter((e) => e.event === 'cycle').length;
    const last = first.events.at(-1);
    if (
      cycles >= 2 &&
      last?.event === 'reading' &&
      first.events.filter((e) => e.event === 'reading').length > cycles * 6 + 2
    )
      break;
    await new Promise((r) => setTimeout(r, 10));
  }
  first.process.kill('SIGKILL');
  expect(await first.exited).toBeNull();
  const committedBefore = first.events.filter((e) => e.event === 'cycle').length;
  expect(committedBefore).toBeGreaterThanOrEqual(2);
  expect(first.events.at(-1)?.event).toBe('reading'); // it died mid-cycle

  const second = child(storeFile);
  expect(await second.exited).toBe(0);

  const db = new Database(storeFile, { readonly: true });
  const cycles = db.prepare('SELECT lines FROM cycles ORDER BY id').all() as { lines: number }[];
  const maxId = (
    db.prepare("SELECT value FROM watermarks WHERE source = 'log_entries'").get() as {
      value: string;
    }
  ).value;
  const stored = db
    .prepare(
      'SELECT agent_name AS agent, anomaly_type AS type, device_id AS device, window_start AS windowStart, severity FROM anomalies',
    )
    .all() as (Anomaly & { severity: number })[];
  db.close();
  // Every line analysed in exactly one committed cycle, and the watermark at the end.
  expect(cycles.reduce((sum, c) => sum + c.lines, 0)).toBe(lines.length);
  expect(maxId).toBe(String(lines.length));
  // No finding stored twice.
  expect(new Set(stored.map(key)).size).toBe(stored.length);

  // The same cycles without the kill find the same anomalies: what the engine had learned
  // (baselines, sources seen, templates) was saved with each cycle and restored on restart.
  const reference = path.join(dir, 'reference.db');
  const store = new AnomalyStore(reference, {
    cooldownMs: 15 * 60_000,
    retentionMs: 1e12,
    maxRows: 1e6,
  });
  const scorer = new WindowScorer(() => ({}));
  const engine = new AnalysisEngine(allAgents, {
    windowMs: 300_000,
    onWindow: scorer.collect,
  });
  const src = source(50);
  for (;;) {
    const r = await runCycle({
      source: src,
      store,
      engine,
      scorer,
      sourceKey: 'log_entries',
      startAt: 'beginning',
      maxLines: 300,
    });
    if (r.lines === 0) break;
  }
  const expected = store.list({ limit: 10_000 });
  store.close();
  await src.close();
  const withSeverity = (a: Parameters<typeof key>[0] & { severity: number }): string =>
    `${key(a)}/${a.severity}`;
  expect(stored.map(withSeverity).sort()).toEqual(expected.map(withSeverity).sort());
  // History-dependent findings are among them, so the comparison covers restored memory.
  const historic = expected.filter(
    (a) => a.type.endsWith('_spike') || a.type.startsWith('new_') || a.type === 'template_surge',
  );
  expect(historic.length).toBeGreaterThan(0);
  expect(expected.length).toBeGreaterThanOrEqual(7);
});

test('a cycle that fails when the database goes away is retried by the same process: nothing counted twice', async () => {
  const admin = await adminClient(server);
  await admin.query(`CREATE TABLE auth_lines (LIKE log_entries INCLUDING ALL)`);
  await admin.query(`GRANT SELECT ON auth_lines TO ${READER.user}`);
  const insert = (sql: string) =>
    admin.query(
      `INSERT INTO auth_lines (device_id, timestamp, log_level, process_name, message) ${sql}`,
    );
  // What a first, committed cycle reads: a login, so the engine has learned something.
  const committed = `VALUES ('gw-retry', '2026-11-23 09:50:00', 'info', 'dropbear',
    'Password auth succeeded for ''root'' from 192.0.2.1:2200')`;
  // Then six failed logins from one source (a brute force of six), and later lines.
  const failing = `SELECT 'gw-retry', timestamp '2026-11-23 10:00:00' + g * interval '1 second', 'warning',
       'dropbear', format('Bad password attempt for ''root'' from 192.0.2.9:%s', 40000 + g)
     FROM generate_series(1, 6) AS g
     UNION ALL
     SELECT 'gw-retry', timestamp '2026-11-23 10:20:00' + g * interval '1 second', 'info', 'dropbear',
       format('Exit before auth from <192.0.2.7:%s>', 50000 + g)
     FROM generate_series(1, 5) AS g
     UNION ALL
     SELECT 'gw-retry', '2026-11-23 10:21:00', 'info', 'dropbear',
       'Password auth succeeded for ''root'' from 192.0.2.50:2200'`;

  // The database stops right after the failing cycle's first read (the six failures).
  let armed = false;
  let down = false;
  class StopsAfterARead extends PostgresSource {
    reads = 0;
    override async read(watermark: string) {
      this.reads++;
      const batch = await super.read(watermark);
      if (armed) {
        armed = false;
        down = true;
        await server.stop();
      }
      return batch;
    }
  }
  const connection = {
    host: server.host,
    port: server.port,
    database: 'postgres',
    ...READER,
    sslMode: 'verify-full' as const,
    ca: server.ca,
  };
  const context = (s: PostgresSource, file: string) => {
    const scorer = new WindowScorer(() => ({}));
    const store = new AnomalyStore(path.join(dir, file), {
      cooldownMs: 1,
      retentionMs: 1e12,
      maxRows: 1e6,
    });
    const engine = new AnalysisEngine(authAgents, {
      windowMs: 300_000,
      onWindow: scorer.collect,
    });
    return {
      source: s,
      store,
      engine,
      scorer,
      sourceKey: 'auth_lines',
      startAt: 'beginning' as const,
    };
  };
  const src = new StopsAfterARead({
    connection,
    mapping: resolveMapping('log_entries', 'auth_lines'),
    batchSize: 6,
    retries: 2,
    retryDelayMs: 50,
  });
  const ctx = context(src, 'retried.db');
  try {
    await insert(committed);
    expect((await runCycle(ctx)).lines).toBe(1);
    await insert(failing);
    await admin.end();
    armed = true;
    const reads = src.reads;
    await expect(runCycle(ctx)).rejects.toMatchObject({ retryable: true });
    expect(src.reads - reads).toBe(2); // it failed mid-cycle, after the first batch was analysed
    expect(ctx.store.cycleTotals('auth_lines')).toEqual({ cycles: 1, lines: 1 });
    await server.start();
    down = false;
    // The same process, the same engine, retries: the lines it analysed before the failure
    // are read again, and count once.
    expect((await runCycle(ctx)).lines).toBe(12);
    expect(ctx.store.cycleTotals('auth_lines')).toEqual({ cycles: 2, lines: 13 });
    const stored = ctx.store.list({ limit: 100, order: 'asc' });
    expect(stored.map((a) => [a.type, a.description, a.features.failures])).toEqual([
      ['brute_force', '6 failed dropbear logins from 192.0.2.9 within 10m', 6],
      ['new_login_source', "login as 'root' from 192.0.2.50, a source not seen before", 0],
    ]);
    // What it learned counts each line once too: the state of the same cycles without the failure.
    const plain = source(1, 'auth_lines');
    const reference = context(plain, 'not-retried.db');
    try {
      expect((await runCycle({ ...reference, maxLines: 1 })).lines).toBe(1);
      expect((await runCycle(reference)).lines).toBe(12);
      expect(ctx.store.engineState('auth_lines')).toEqual(
        reference.store.engineState('auth_lines'),
      );
    } finally {
      reference.store.close();
      await plain.close();
    }
  } finally {
    if (down) await server.start();
    ctx.store.close();
    await src.close();
    await admin.end().catch(() => undefined);
  }
});
