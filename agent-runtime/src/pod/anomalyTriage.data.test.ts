// Issue 21: an anomaly's lifecycle through a real `edgewarden agent` process's API. The triage
// token acknowledges an anomaly (note, who and when recorded) and GET /anomalies/:id shows it;
// the read token is refused the change (403), no token is 401, a transition the lifecycle does
// not allow is 409; the status survives a restart of the process on the same data folder, and
// GET /anomalies?status= filters by it.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { agentEnv, controlTokenDigest } from '../contract/index.js';
import { AnomalyStore, type StoredAnomaly } from '../store/anomalyStore.js';
import {
  CONTROL_TOKEN,
  modelAgentSetup,
  startModelAgent,
  type ModelAgentProcess,
  type ModelAgentSetup,
} from '../../../test/fixtures/modelAgentProcess.js';
import { adminClient, createLogTable } from '../../../test/services/postgres.js';

const READ = 'operator-derived-read-token';
const TRIAGE = 'operator-derived-triage-token';
const tokens = {
  // The reads need a token here (the fixture runs the agent as by hand, API_AUTH=none).
  [agentEnv.apiAuth]: 'token',
  [agentEnv.readTokenSha256]: controlTokenDigest(READ),
  [agentEnv.triageTokenSha256]: controlTokenDigest(TRIAGE),
};
let setup: ModelAgentSetup;
let agent: ModelAgentProcess;

beforeAll(async () => {
  setup = await modelAgentSetup('edgewarden-triage-');
  // The collector's table, empty, and its reader: cycles commit (and publish the gauge).
  const admin = await adminClient(setup.server);
  await createLogTable(admin);
  await admin.end();
  // Two anomalies already in the store the agent will open.
  await mkdir(path.join(setup.dir, 'data'));
  const store = new AnomalyStore(path.join(setup.dir, 'data', 'anomalies.db'), {
    cooldownMs: 0,
    retentionMs: 1e12,
    maxRows: 1e9,
  });
  const end = new Date(Date.now() - 60_000).toISOString();
  const base = {
    ...{ agent: 'auth' as const, severity: 4 as const, confidence: 0.9, score: 0.5 },
    ...{ features: { failures: 9 }, evidence: [1], windowStart: end, windowEnd: end },
  };
  store.record([
    {
      ...base,
      ...{ device: 'gw-1', type: 'brute_force', rule: 'auth.ssh-brute-force' },
      ...{ description: 'failures from 192.0.2.7', captures: { source: '192.0.2.7' } },
    },
    { ...base, device: 'gw-2', type: 'brute_force', description: 'failures from 192.0.2.8' },
  ]);
  store.close();
  agent = await startModelAgent(setup, tokens);
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await setup?.remove();
});

const get = (p: string, token?: string): Promise<Response> =>
  fetch(agent.url(p), { headers: token ? { 'x-edgewarden-token': token } : {} });

const post = (p: string, body: unknown, token?: string): Promise<Response> =>
  fetch(agent.url(p), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });

test('list, acknowledge with the triage token, refusals by scope and transition, survives a restart', async () => {
  const listed = (await (await get('/anomalies', READ)).json()) as StoredAnomaly[];
  expect(listed.map((a) => [a.device, a.status])).toEqual([
    ['gw-2', 'open'],
    ['gw-1', 'open'],
  ]);
  const gw1 = listed.find((a) => a.device === 'gw-1')!;
  expect(gw1).toMatchObject({ captures: { source: '192.0.2.7' }, note: null, statusAt: null });
  const statusPath = `/anomalies/${gw1.id}/status`;

  // Refused by scope before any work: no token 401, the read token 403.
  expect((await post(statusPath, { status: 'acknowledged' })).status).toBe(401);
  const byReader = await post(statusPath, { status: 'acknowledged' }, READ);
  expect(byReader.status).toBe(403);
  expect(await byReader.json()).toMatchObject({ reason: 'Forbidden' });
  expect((await get(`/anomalies/${gw1.id}`, READ)).status).toBe(200);

  const before = Date.now();
  const acked = await post(
    statusPath,
    { status: 'acknowledged', note: 'looking', by: 'ana' },
    TRIAGE,
  );
  expect(acked.status).toBe(200);
  const body = (await acked.json()) as StoredAnomaly;
  expect(body).toMatchObject({
    id: gw1.id,
    status: 'acknowledged',
    note: 'looking',
    statusBy: 'ana',
  });
  expect(Date.parse(body.statusAt!)).toBeGreaterThanOrEqual(before - 1000);
  // The triage token reads too; the control token triages too.
  expect(await (await get(`/anomalies/${gw1.id}`, TRIAGE)).json()).toEqual(body);
  expect((await post(statusPath, { status: 'acknowledged' }, CONTROL_TOKEN)).status).toBe(200);

  // Invalid transitions, bodies and ids.
  const resolved = await post(
    `/anomalies/${listed[0]!.id}/status`,
    { status: 'false_positive' },
    TRIAGE,
  );
  expect(resolved.status).toBe(200);
  const invalid = await post(
    `/anomalies/${listed[0]!.id}/status`,
    { status: 'acknowledged' },
    TRIAGE,
  );
  expect(invalid.status).toBe(409);
  expect(await invalid.json()).toMatchObject({ reason: 'InvalidTransition' });
  const suppressed = await post(statusPath, { status: 'suppressed' }, TRIAGE);
  expect(suppressed.status).toBe(400);
  expect(await suppressed.json()).toMatchObject({ reason: 'InvalidBody', message: /^status:/ });
  const tooLong = await post(statusPath, { status: 'open', note: 'x'.repeat(5000) }, TRIAGE);
  expect(tooLong.status).toBe(413);
  expect((await post('/anomalies/999999/status', { status: 'open' }, TRIAGE)).status).toBe(404);
  expect((await get('/anomalies/999999', READ)).status).toBe(404);
  expect((await get('/anomalies/999999')).status).toBe(401);

  // The status survives a restart on the same data folder; the filter finds it.
  await agent.stop();
  agent = await startModelAgent(setup, tokens);
  expect(await (await get(`/anomalies/${gw1.id}`, READ)).json()).toMatchObject({
    status: 'acknowledged',
    note: 'looking',
    statusBy: 'ana',
    statusAt: body.statusAt,
  });
  const filtered = (await (
    await get('/anomalies?status=acknowledged', READ)
  ).json()) as StoredAnomaly[];
  expect(filtered.map((a) => a.id)).toEqual([gw1.id]);
  const both = await get('/anomalies?status=acknowledged,false_positive&device=gw-2', READ);
  expect(((await both.json()) as StoredAnomaly[]).map((a) => a.status)).toEqual(['false_positive']);
  const badFilter = await get('/anomalies?status=closed', READ);
  expect(badFilter.status).toBe(400);
  // After a committed cycle the gauge counts the rule's anomalies by status.
  const series =
    /^edgewarden_rule_anomalies\{[^}]*rule="auth.ssh-brute-force",status="acknowledged"\} 1$/m;
  const deadline = Date.now() + 40_000;
  let metrics = '';
  while (!series.test(metrics) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    metrics = await (await get('/metrics', READ)).text();
  }
  expect(metrics).toMatch(series);
  // Rule-less anomalies have no series; nothing else is counted.
  expect(metrics.match(/^edgewarden_rule_anomalies\{/gm)).toHaveLength(1);
}, 120_000);
