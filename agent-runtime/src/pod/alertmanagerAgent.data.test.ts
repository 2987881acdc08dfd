// A real `edgewarden agent` process sending to Debian's real Alertmanager (issue 21): the brute
// force it finds fires there with its labels; killed with no goodbye (SIGKILL) and started again
// on the same store, the agent renews that same alert (one alert, the same fingerprint and
// startsAt) and sends no second one; resolved through its API with the triage token, the alert
// ends at the next cycle. alertmanager.data.test checks the sync step itself, case by case.
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';

import { controlTokenDigest } from '../contract/index.js';
import {
  modelAgentSetup,
  startModelAgent,
  type ModelAgentProcess,
  type ModelAgentSetup,
} from '../../../test/fixtures/modelAgentProcess.js';
import { until } from '../../../test/fixtures/until.js';
import { startAlertmanager, type AlertmanagerServer } from '../../../test/services/alertmanager.js';
import { adminClient, createLogTable } from '../../../test/services/postgres.js';
import { authAgentYaml } from '../../../test/fixtures/agentManifest.js';

const TRIAGE_TOKEN = 'operator-derived-triage-token';

/** An AnalysisAgent of namespace home whose anomalies of severity low and up alert. */
const MANIFEST = authAgentYaml(
  `  thresholds: { storeSeverity: low, alertSeverity: low }
`,
  '{ name: ssh-guard, namespace: home }',
);

interface Alert {
  fingerprint: string;
  startsAt: string;
  endsAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

let setup: ModelAgentSetup;
let admin: pg.Client;
let am: AlertmanagerServer;

beforeAll(async () => {
  setup = await modelAgentSetup('edgewarden-am-agent-');
  const config = path.join(setup.dir, 'agent.yaml');
  await writeFile(`${config}.new`, MANIFEST);
  await rename(`${config}.new`, config);
  admin = await adminClient(setup.server);
  await createLogTable(admin);
  am = await startAlertmanager();
});

afterAll(async () => {
  await admin?.end().catch(() => undefined);
  await am?.close();
  await setup?.remove();
});

/** The EdgewardenAnomaly alerts Alertmanager holds (active ones unless `all`). */
async function alerts(active = true): Promise<Alert[]> {
  const query = new URLSearchParams({ active: String(active), silenced: 'true' });
  query.append('filter', 'alertname="EdgewardenAnomaly"');
  const response = await fetch(`${am.url}/api/v2/alerts?${query.toString()}`);
  return (await response.json()) as Alert[];
}

async function failures(n: number, from: string): Promise<void> {
  // dropbear svr-authpasswd.c: "Bad password attempt for '%s' from %s".
  for (let i = 0; i < n; i++)
    await admin.query(
      `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message) VALUES ('gw-home', now(), 'warning', 'dropbear', $1)`,
      [`Bad password attempt for 'root' from ${from}:${40000 + i}`],
    );
}

const start = (): Promise<ModelAgentProcess> =>
  startModelAgent(setup, {
    EDGEWARDEN_ALERTMANAGER_URL: am.url,
    EDGEWARDEN_TRIAGE_TOKEN_SHA256: controlTokenDigest(TRIAGE_TOKEN),
  });

test('an agent fires its anomaly in Alertmanager, renews the same alert after a kill and a restart, and ends it when it is resolved', async () => {
  let agent = await start();
  try {
    await failures(5, '203.0.113.7');
    const [fired] = await until('the brute force to fire in Alertmanager', async () => {
      const list = await alerts();
      return list.length > 0 ? list : undefined;
    });
    expect(fired!.labels).toMatchObject({
      alertname: 'EdgewardenAnomaly',
      namespace: 'home',
      agent: 'ssh-guard',
      agent_kind: 'auth',
      rule: 'auth.dropbear-brute-force',
      device: 'gw-home',
    });
    expect(fired!.labels.anomaly_id).toMatch(/^ssh-guard-0:\d+$/);
    expect(fired!.annotations.description).toContain('203.0.113.7');
    const id = Number(fired!.labels.anomaly_id!.split(':')[1]);

    // Killed with no goodbye, started again on the same store.
    agent.proc.kill('SIGKILL');
    await agent.stop();
    agent = await start();
    const renewed = await until('the restarted agent to renew the alert', async () => {
      const list = await alerts();
      return list.length === 1 && list[0]!.endsAt > fired!.endsAt ? list : undefined;
    });
    expect(renewed.map((a) => [a.fingerprint, a.startsAt])).toEqual([
      [fired!.fingerprint, fired!.startsAt],
    ]);
    expect((await alerts(false)).length + (await alerts()).length).toBe(1); // no second alert

    // Resolved through the API, with the triage token: the next cycle ends the alert.
    const answer = await fetch(agent.url(`/anomalies/${id}/status`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-edgewarden-token': TRIAGE_TOKEN },
      body: JSON.stringify({ status: 'resolved', note: 'blocked at the router', by: 'alice' }),
    });
    expect(answer.status).toBe(200);
    await until('the alert to end', async () => ((await alerts()).length === 0 ? true : undefined));
  } finally {
    await agent.stop();
  }
}, 150_000);
