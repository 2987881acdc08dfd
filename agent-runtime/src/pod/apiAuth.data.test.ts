// Issue 20, H2: the agent's HTTP API needs a token, against a real `edgewarden agent` process.
// /status and /anomalies: 401 without a token, 403 with a wrong one, 200 with the read or the
// control token, as a bearer token or in X-Edgewarden-Token (the header that passes the API
// server's proxy). The read token does not open PUT or DELETE /model. The probes stay open;
// /metrics is open unless the agent is told otherwise. An agent started with no token digest
// refuses every read (fails closed).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { agentEnv, controlTokenDigest } from '../contract/index.js';
import { AnomalyStore } from '../store/anomalyStore.js';
import { startPostgres, type PostgresServer } from '../../../test/services/postgres.js';
import { until } from '../../../test/fixtures/until.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const control = 'operator-derived-control-token';
const read = 'operator-derived-read-token';
let server: PostgresServer;
let dir: string;

interface RunningAgent {
  proc: ChildProcess;
  exited: Promise<number | null>;
  url(p: string): string;
}
const agents: RunningAgent[] = [];

const manifest = `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ssh-guard }
spec:
  agent: auth
  interval: 1h
  source:
    secretRef: { name: unused-here }
    sslMode: verify-full
    preset: log_entries
  model: { name: auth-model }
`;

/** An agent with `env` on top of a working configuration, a stored anomaly in its store. */
async function startAgent(name: string, env: Record<string, string>): Promise<RunningAgent> {
  const data = path.join(dir, `data-${name}`);
  await mkdir(data);
  const store = new AnomalyStore(path.join(data, 'anomalies.db'), {
    cooldownMs: 0,
    retentionMs: 1e12,
    maxRows: 1e9,
  });
  const end = new Date(Date.now() - 60_000).toISOString();
  store.record([
    {
      ...{ agent: 'auth' as const, device: 'gw-1', type: 'brute_force', severity: 4 as const },
      ...{ confidence: 0.9, score: 0.5, description: 'failures from 192.0.2.7' },
      ...{ features: { failures: 9 }, evidence: [1], windowStart: end, windowEnd: end },
    },
  ]);
  store.close();
  const proc = spawn('node', [path.join(root, 'bin/edgewarden.js'), 'agent'], {
    env: {
      ...process.env,
      EDGEWARDEN_CONFIG: path.join(dir, 'agent.yaml'),
      EDGEWARDEN_PG_URL: `postgresql://reader:reader-secret@localhost:${server.port}/postgres`,
      EDGEWARDEN_PG_CA_FILE: path.join(dir, 'ca.crt'),
      EDGEWARDEN_DATA_DIR: data,
      EDGEWARDEN_MODEL_DIR: path.join(dir, 'model'),
      EDGEWARDEN_HTTP_PORT: '0',
      POD_NAME: `${name}-0`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', r));
  const port = await until(`agent ${name} to listen`, () =>
    Promise.resolve(/serving on port (\d+)/.exec(output)?.[1]),
  );
  const agent = { proc, exited, url: (p: string) => `http://127.0.0.1:${port}${p}` };
  agents.push(agent);
  return agent;
}

let guarded: RunningAgent;
let unconfigured: RunningAgent;

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-auth-'));
  await writeFile(path.join(dir, 'ca.crt'), server.ca);
  await writeFile(path.join(dir, 'agent.yaml'), manifest);
  await mkdir(path.join(dir, 'model'));
  [guarded, unconfigured] = await Promise.all([
    startAgent('guarded', {
      [agentEnv.controlTokenSha256]: controlTokenDigest(control),
      [agentEnv.readTokenSha256]: controlTokenDigest(read),
    }),
    startAgent('unconfigured', {}),
  ]);
}, 120_000);

afterAll(async () => {
  for (const a of agents) {
    a.proc.kill('SIGTERM');
    await a.exited;
  }
  await server?.remove();
  await rm(dir, { recursive: true, force: true });
});

const get = (agent: RunningAgent, p: string, headers: Record<string, string> = {}) =>
  fetch(agent.url(p), { headers });

test.each(['/status', '/anomalies'])(
  '%s: 401 without a token, 403 with a wrong one, 200 with the read or the control token',
  async (route) => {
    const none = await get(guarded, route);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.json()).toMatchObject({ reason: 'Unauthorized' });
    expect((await get(guarded, route, { 'x-edgewarden-token': 'wrong' })).status).toBe(403);
    // Not a bearer token: no token at all.
    const basic = `Basic ${Buffer.from(`x:${read}`).toString('base64')}`;
    expect((await get(guarded, route, { authorization: basic })).status).toBe(401);
    expect((await get(guarded, route, { authorization: 'Bearer wrong' })).status).toBe(403);
    for (const token of [read, control]) {
      const bearer = await get(guarded, route, { authorization: `Bearer ${token}` });
      expect(bearer.status).toBe(200);
      const header = await get(guarded, route, { 'X-Edgewarden-Token': token });
      expect(header.status).toBe(200);
    }
    const rows = await (await get(guarded, route, { 'x-edgewarden-token': read })).json();
    if (route === '/anomalies') expect(rows).toHaveLength(1);
    else expect(rows).toMatchObject({ pod: 'guarded-0' });
  },
  30_000,
);

test('the read token does not open PUT or DELETE /model; the control token does', async () => {
  const byHeader = (name: string, value: string): Record<string, string> => ({ [name]: value });
  for (const headers of [
    byHeader('authorization', `Bearer ${read}`),
    byHeader('x-edgewarden-token', read),
  ]) {
    const put = await fetch(guarded.url('/model'), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ version: 'v1' }),
    });
    expect(put.status).toBe(403);
    expect(await put.json()).toMatchObject({ reason: 'Forbidden' });
    const del = await fetch(guarded.url('/model'), { method: 'DELETE', headers });
    expect(del.status).toBe(403);
  }
  // The control token gets past the token check, in either header: the body is what is wrong.
  for (const headers of [
    byHeader('authorization', `Bearer ${control}`),
    byHeader('x-edgewarden-token', control),
  ]) {
    const put = await fetch(guarded.url('/model'), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ version: 'v1' }),
    });
    expect(put.status).toBe(400);
  }
}, 30_000);

test('the probes and /metrics stay open', async () => {
  for (const agent of [guarded, unconfigured]) {
    expect((await get(agent, '/healthz')).status).toBe(200);
    expect([200, 503]).toContain((await get(agent, '/readyz')).status);
    const metrics = await get(agent, '/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('edgewarden_');
  }
}, 30_000);

test('an agent started without a token digest refuses every read (fails closed)', async () => {
  for (const route of ['/status', '/anomalies']) {
    const none = await get(unconfigured, route);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toContain(
      agentEnv.controlTokenSha256,
    );
    for (const token of [read, control, ''])
      expect((await get(unconfigured, route, { 'x-edgewarden-token': token })).status).toBe(
        token ? 403 : 401,
      );
  }
}, 30_000);

test('EDGEWARDEN_METRICS_AUTH=token: /metrics needs the read or the control token too', async () => {
  const agent = await startAgent('metrics', {
    [agentEnv.readTokenSha256]: controlTokenDigest(read),
    [agentEnv.metricsAuth]: 'token',
  });
  expect((await get(agent, '/metrics')).status).toBe(401);
  expect((await get(agent, '/metrics', { authorization: 'Bearer wrong' })).status).toBe(403);
  expect((await get(agent, '/metrics', { authorization: `Bearer ${read}` })).status).toBe(200);
  expect((await get(agent, '/healthz')).status).toBe(200);
}, 60_000);

test('EDGEWARDEN_API_AUTH=none opens the reads of an agent run by hand, not PUT /model', async () => {
  const agent = await startAgent('by-hand', { [agentEnv.apiAuth]: 'none' });
  expect((await get(agent, '/status')).status).toBe(200);
  expect((await get(agent, '/anomalies')).status).toBe(200);
  const put = await fetch(agent.url('/model'), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: 'v1' }),
  });
  expect(put.status).toBe(403); // DeliveryDisabled: no control token digest, as before
}, 60_000);
