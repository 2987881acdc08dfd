// Issue 20, H3: the agent's HTTP inputs are bounded, against a real `edgewarden agent` process.
// An unauthenticated PUT /model is refused before its body is read (the agent's RSS does not
// grow), a body over the cap is refused 413, and GET /anomalies serves at most a page of
// ANOMALY_PAGE_LIMIT with a cursor to the next one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

import { controlTokenDigest } from '../contract/index.js';
import { ANOMALY_NEXT_HEADER, ANOMALY_PAGE_LIMIT } from '../http/anomalyQuery.js';
import { MAX_OFFER_BODY_BYTES } from '../http/boundedBody.js';
import { AnomalyStore } from '../store/anomalyStore.js';
import {
  startPostgres,
  type PostgresServer,
  adminClient,
  createLogTable,
} from '../../../test/services/postgres.js';
import { until } from '../../../test/fixtures/until.js';
import { authAgentYaml } from '../../../test/fixtures/agentManifest.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const token = 'operator-derived-token';
const STORED = 1_200;
let server: PostgresServer;
let admin: pg.Client;
let dir: string;
let agent: { proc: ChildProcess; output: () => string; exited: Promise<number | null> };
let url: (p: string) => string;

const manifest = authAgentYaml(`  model: { name: auth-model }
`);

/** STORED anomalies of the last hours in the agent's store, before it starts. */
function seedStore(file: string): void {
  const store = new AnomalyStore(file, { cooldownMs: 0, retentionMs: 1e12, maxRows: 1e9 });
  const now = Date.now();
  store.record(
    Array.from({ length: STORED }, (_, i) => {
      const end = new Date(now - 3_600_000 + Math.floor(i / 2) * 1000).toISOString();
      return {
        agent: 'auth' as const,
        device: `gw-${i}`,
        type: 'brute_force',
        severity: 4 as const,
        confidence: 0.9,
        score: 0.5,
        description: `failures from 192.168.1.${i % 250}`,
        features: { failures: i },
        evidence: [i],
        windowStart: end,
        windowEnd: end,
      };
    }),
  );
  store.close();
}

/** The agent's resident set, in bytes. */
async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

beforeAll(async () => {
  server = await startPostgres();
  admin = await adminClient(server);
  await createLogTable(admin);
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-bounded-'));
  await writeFile(path.join(dir, 'ca.crt'), server.ca);
  await writeFile(path.join(dir, 'agent.yaml'), manifest);
  await mkdir(path.join(dir, 'model'));
  await mkdir(path.join(dir, 'data'));
  seedStore(path.join(dir, 'data', 'anomalies.db'));
  const proc = spawn('node', [path.join(root, 'bin/edgewarden.js'), 'agent'], {
    env: {
      ...process.env,
      EDGEWARDEN_CONFIG: path.join(dir, 'agent.yaml'),
      EDGEWARDEN_PG_URL: `postgresql://reader:reader-secret@localhost:${server.port}/postgres`,
      EDGEWARDEN_PG_CA_FILE: path.join(dir, 'ca.crt'),
      EDGEWARDEN_DATA_DIR: path.join(dir, 'data'),
      EDGEWARDEN_MODEL_DIR: path.join(dir, 'model'),
      EDGEWARDEN_HTTP_PORT: '0',
      EDGEWARDEN_CONTROL_TOKEN_SHA256: controlTokenDigest(token),
      POD_NAME: 'ssh-guard-0',
      // Run as by hand: /status, /anomalies open (issue 20, H2; apiAuth.data.test checks the tokens).
      EDGEWARDEN_API_AUTH: 'none',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  agent = { proc, output: () => output, exited: new Promise((r) => proc.on('exit', r)) };
  const port = await until('the agent to listen', () =>
    Promise.resolve(/serving on port (\d+)/.exec(output)?.[1]),
  );
  url = (p: string): string => `http://127.0.0.1:${port}${p}`;
}, 120_000);

afterAll(async () => {
  agent?.proc.kill('SIGTERM');
  await agent?.exited;
  await admin?.end().catch(() => undefined);
  await server?.remove();
  await rm(dir, { recursive: true, force: true });
});

/** A PUT /model whose inline model is `size` bytes of base64. */
const putModel = (size: number, authorization?: string): Promise<Response> =>
  fetch(url('/model'), {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify({
      version: 'big-1',
      agent: 'auth',
      features: ['failures'],
      source: { inline: 'A'.repeat(size) },
    }),
  });

test('an unauthenticated 40 MB PUT /model is refused 401 without its body being read', async () => {
  const pid = agent.proc.pid!;
  await fetch(url('/status')); // warm: the first request's own allocations are not the body's
  const before = await rss(pid);
  for (const authorization of [undefined, 'Bearer wrong']) {
    const answer = await putModel(40 * 1024 * 1024, authorization);
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ reason: 'Unauthorized' });
  }
  const grown = (await rss(pid)) - before;
  expect(grown).toBeLessThan(20 * 1024 * 1024);
  expect((await fetch(url('/healthz'))).status).toBe(200);
}, 60_000);

test('with the token, a body over the cap is refused 413', async () => {
  const answer = await putModel(MAX_OFFER_BODY_BYTES + 1024, `Bearer ${token}`);
  expect(answer.status).toBe(413);
  expect(await answer.json()).toMatchObject({ reason: 'PayloadTooLarge' });
  // Under the cap the body is read and checked as before: not JSON is a 400.
  const notJson = await fetch(url('/model'), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: '{"version":',
  });
  expect(notJson.status).toBe(400);
}, 60_000);

test('GET /anomalies?limit=10000 serves at most a page, with the cursor of the next', async () => {
  const seen = new Set<number>();
  let next: string | null = '';
  let pages = 0;
  while (next !== null) {
    const query = `/anomalies?limit=10000&order=asc${next ? `&after=${encodeURIComponent(next)}` : ''}`;
    const answer = await fetch(url(query));
    expect(answer.status).toBe(200);
    const rows = (await answer.json()) as { id: number; timestamp: string }[];
    expect(rows.length).toBeLessThanOrEqual(ANOMALY_PAGE_LIMIT);
    for (const a of rows) seen.add(a.id);
    next = answer.headers.get(ANOMALY_NEXT_HEADER);
    if (next !== null) expect(next).toBe(`${rows.at(-1)!.timestamp},${rows.at(-1)!.id}`);
    pages++;
  }
  expect(pages).toBeGreaterThanOrEqual(Math.ceil(STORED / ANOMALY_PAGE_LIMIT));
  expect(seen.size).toBe(STORED);
}, 60_000);
