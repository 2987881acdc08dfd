// The overview's open-anomalies panel against a real Alertmanager (Debian's
// prometheus-alertmanager, started by the test): an agent's real Alertmanager step sends its
// stored anomalies, another source sends an alert of its own, and the panel's matchers
// (scripts/dashboards/alertmanager.ts), as Alertmanager's API filter, select exactly the agent's.
// The end-to-end dashboards suite runs the same matchers against the alerts of real agent pods.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Anomaly } from '../../agent-runtime/src/agents/types.js';
import { AlertmanagerClient } from '../../agent-runtime/src/notify/alertmanagerClient.js';
import { AlertmanagerSync } from '../../agent-runtime/src/notify/alertmanagerSync.js';
import { AnomalyStore } from '../../agent-runtime/src/store/anomalyStore.js';
import {
  alertmanagerFilters,
  openAnomaliesMatchers,
} from '../../scripts/dashboards/alertmanager.js';
import { startAlertmanager, type AlertmanagerServer } from '../services/alertmanager.js';

const MIN = 60_000;

interface Alert {
  labels: Record<string, string>;
}

let am: AlertmanagerServer;
let dir: string;
let store: AnomalyStore;

beforeAll(async () => {
  am = await startAlertmanager();
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-panel-'));
  store = new AnomalyStore(path.join(dir, 'anomalies.db'), {
    cooldownMs: 15 * MIN,
    retentionMs: 24 * 60 * MIN,
    maxRows: 1000,
  });
});
afterAll(async () => {
  store?.close();
  await am?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function anomaly(device: string, type: string): Anomaly {
  const end = Date.now() - MIN;
  return {
    agent: 'auth',
    device,
    type,
    severity: 4,
    confidence: 0.9,
    score: 0.7,
    windowStart: new Date(end - 5 * MIN).toISOString(),
    windowEnd: new Date(end).toISOString(),
    description: `${type} on ${device}`,
    features: {},
    evidence: [1],
  };
}

async function alerts(filters: string[]): Promise<Alert[]> {
  const query = new URLSearchParams({ active: 'true' });
  for (const f of filters) query.append('filter', f);
  const response = await fetch(`${am.url}/api/v2/alerts?${query.toString()}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Alert[];
}

test("the panel's matchers select the agents' anomaly alerts, and nothing else", async () => {
  store.record([anomaly('gw-shop', 'brute_force'), anomaly('gw-home', 'credential_stuffing')]);
  const sync = new AlertmanagerSync(
    store,
    new AlertmanagerClient({ url: am.url, timeoutMs: 2000 }),
    {
      namespace: 'home',
      agentName: 'auth',
      pod: 'auth-agent-0',
      intervalMs: MIN,
      resolveAfterMs: 60 * MIN,
      minSeverity: 4,
    },
  );
  expect((await sync.sync()).firing).toBe(2);
  // An alert of another source, in the same Alertmanager (Prometheus's Watchdog, say).
  const other = await fetch(`${am.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ labels: { alertname: 'Watchdog', namespace: 'home', agent: 'auth' } }]),
  });
  expect(other.status).toBe(200);

  expect((await alerts([])).map((a) => a.labels.alertname).sort()).toEqual([
    'EdgewardenAnomaly',
    'EdgewardenAnomaly',
    'Watchdog',
  ]);
  const shown = await alerts(alertmanagerFilters(openAnomaliesMatchers));
  expect(shown.map((a) => [a.labels.alertname, a.labels.device, a.labels.type]).sort()).toEqual([
    ['EdgewardenAnomaly', 'gw-home', 'credential_stuffing'],
    ['EdgewardenAnomaly', 'gw-shop', 'brute_force'],
  ]);
});
