// The agent's Alertmanager step against a real Alertmanager (Debian's prometheus-alertmanager,
// started by the test) and a real anomaly store on a temporary SQLite file: an anomaly fires,
// renews, resolves; a silence suppresses it; an agent restart neither loses nor doubles an alert;
// an Alertmanager that is down gets everything once it is back. Each test names its own
// AnalysisAgent, so the alerts of one never meet the filters of another.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startAlertmanager, type AlertmanagerServer } from '../../../test/services/alertmanager.js';
import type { Anomaly } from '../agents/types.js';
import { AnomalyStore } from '../store/anomalyStore.js';
import { AlertmanagerClient } from './alertmanagerClient.js';
import { AlertmanagerSync } from './alertmanagerSync.js';
import { anomalyEndingAt } from '../../../test/fixtures/anomaly.js';

const MIN = 60_000;
const INTERVAL = MIN;
const storeOptions = { cooldownMs: 15 * MIN, retentionMs: 24 * 60 * MIN, maxRows: 1000 };

interface Alert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string; silencedBy: string[] };
}

let am: AlertmanagerServer;
let dir: string;
let store: AnomalyStore;

beforeAll(async () => {
  am = await startAlertmanager();
});
afterAll(async () => {
  await am.close();
});
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-alerts-'));
  store = new AnomalyStore(path.join(dir, 'anomalies.db'), storeOptions);
});
afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

/** An anomaly that ended a minute ago (so it was seen within resolveAfter). */
function anomaly(overrides: Partial<Anomaly> = {}): Anomaly {
  return anomalyEndingAt(Date.now() - MIN, {
    description: '40 failed SSH logins from 203.0.113.7',
    features: { failures: 40 },
    evidence: Array.from({ length: 12 }, (_, i) => 500 + i),
    rule: 'auth.sshd-brute-force',
    remediation: 'Block 203.0.113.7 at the firewall.',
    ...overrides,
  });
}

/** The sync of AnalysisAgent `agent` in namespace home, pod `<agent>-0`, alerting from severity 4. */
function syncOf(agent: string, url = am.url, on = store): AlertmanagerSync {
  return new AlertmanagerSync(on, new AlertmanagerClient({ url, timeoutMs: 2000 }), {
    namespace: 'home',
    agentName: agent,
    pod: `${agent}-0`,
    intervalMs: INTERVAL,
    resolveAfterMs: 60 * MIN,
    minSeverity: 4,
  });
}

/** The agent's alerts Alertmanager holds (not resolved); `active`: only those not silenced. */
async function alertsOf(agent: string, only: { active?: boolean } = {}): Promise<Alert[]> {
  const query = new URLSearchParams({ filter: `agent="${agent}"` });
  if (only.active) {
    query.set('silenced', 'false');
    query.set('inhibited', 'false');
  }
  const response = await fetch(`${am.url}/api/v2/alerts?${query.toString()}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Alert[];
}

function storeOne(a: Anomaly): number {
  store.record([a]);
  return store.list({ order: 'desc', limit: 1 })[0]!.id;
}

test('an anomaly at alertSeverity fires with its labels and annotations, and each sync renews it', async () => {
  const id = storeOne(anomaly());
  const low = storeOne(anomaly({ severity: 3, type: 'login_failures', device: 'ap-1' }));
  const sync = syncOf('fires');
  const first = await sync.sync();
  expect(first).toEqual({ firing: 1, started: 1, resolved: 0, silenced: 0 });
  const [alert, ...others] = await alertsOf('fires');
  expect(others).toEqual([]);
  expect(alert!.labels).toEqual({
    alertname: 'EdgewardenAnomaly',
    namespace: 'home',
    agent: 'fires',
    agent_kind: 'auth',
    rule: 'auth.sshd-brute-force',
    type: 'brute_force',
    device: 'gw',
    severity: 'high',
    anomaly_id: `fires-0:${id}`,
  });
  expect(alert!.annotations).toEqual({
    summary: 'high: auth.sshd-brute-force on gw',
    description: '40 failed SSH logins from 203.0.113.7',
    evidence: '500, 501, 502, 503, 504, 505, 506, 507, 508, 509',
    remediation: 'Block 203.0.113.7 at the firewall.',
    runbook_url: 'https://github.com/edgewarden/edgewarden/blob/main/docs/rules.md#coverage',
    occurrences: '1',
  });
  expect(alert!.status.state).toBe('active');
  expect(Date.parse(alert!.startsAt)).toBe(Date.parse(store.get(id)!.timestamp));
  expect(store.get(id)!.alertState).toBe('firing');
  // Below alertSeverity: never sent, never marked.
  expect(store.get(low)!.alertState).toBeNull();

  // The next cycle, a minute later: the same alert (fingerprint), ending a minute later.
  const second = await sync.sync(new Date(Date.now() + INTERVAL));
  expect(second).toEqual({ firing: 1, started: 0, resolved: 0, silenced: 0 });
  const renewed = await alertsOf('fires');
  expect(renewed.map((a) => a.fingerprint)).toEqual([alert!.fingerprint]);
  expect(Date.parse(renewed[0]!.endsAt)).toBeGreaterThan(Date.parse(alert!.endsAt));
});

test('an anomaly resolved in the store is resolved in Alertmanager, and sent so once', async () => {
  const id = storeOne(anomaly());
  const sync = syncOf('resolves');
  await sync.sync();
  expect(await alertsOf('resolves', { active: true })).toHaveLength(1);
  expect(store.setStatus(id, { status: 'resolved', by: 'ops' }).ok).toBe(true);
  expect(await sync.sync()).toEqual({ firing: 0, started: 0, resolved: 1, silenced: 0 });
  expect(await alertsOf('resolves', { active: true })).toEqual([]);
  expect(await alertsOf('resolves')).toEqual([]);
  expect(store.get(id)!.alertState).toBe('resolved');
  // Nothing left to say about it.
  expect(await sync.sync()).toEqual({ firing: 0, started: 0, resolved: 0, silenced: 0 });
});

test('a silence on agent and rule marks the anomaly suppressed, and it is then resolved', async () => {
  const id = storeOne(anomaly());
  const other = storeOne(anomaly({ rule: 'auth.dropbear-brute-force', type: 'dropbear' }));
  const sync = syncOf('silenced');
  await sync.sync();
  const response = await fetch(`${am.url}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: [
        { name: 'agent', value: 'silenced', isRegex: false, isEqual: true },
        { name: 'rule', value: 'auth.sshd-brute-force', isRegex: false, isEqual: true },
      ],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 60 * MIN).toISOString(),
      createdBy: 'ops',
      comment: 'the lab router, known',
    }),
  });
  expect(response.status).toBe(200);
  const { silenceID } = (await response.json()) as { silenceID: string };

  expect(await sync.sync()).toEqual({ firing: 2, started: 0, resolved: 0, silenced: 1 });
  expect(store.get(id)).toMatchObject({
    status: 'suppressed',
    statusBy: 'alertmanager',
    note: `silenced in Alertmanager by ${silenceID}`,
  });
  expect(store.get(other)!.status).toBe('open');

  expect(await sync.sync()).toEqual({ firing: 1, started: 0, resolved: 1, silenced: 0 });
  expect((await alertsOf('silenced')).map((a) => a.labels.anomaly_id)).toEqual([
    `silenced-0:${other}`,
  ]);
  expect(store.get(id)!.alertState).toBe('resolved');
});

test('an agent restart neither re-creates resolved alerts nor loses firing ones', async () => {
  const firing = storeOne(anomaly());
  const resolved = storeOne(anomaly({ device: 'ap-2' }));
  await syncOf('restarts').sync();
  store.setStatus(resolved, { status: 'resolved' });
  await syncOf('restarts').sync();
  const before = await alertsOf('restarts');
  expect(before.map((a) => a.labels.anomaly_id)).toEqual([`restarts-0:${firing}`]);

  // The pod restarts: the store is opened again from its file, the sync is new.
  store.close();
  store = new AnomalyStore(path.join(dir, 'anomalies.db'), storeOptions);
  const report = await syncOf('restarts').sync(new Date(Date.now() + INTERVAL));
  expect(report).toEqual({ firing: 1, started: 0, resolved: 0, silenced: 0 });
  const after = await alertsOf('restarts');
  expect(after.map((a) => a.fingerprint)).toEqual(before.map((a) => a.fingerprint));
  expect(Date.parse(after[0]!.endsAt)).toBeGreaterThan(Date.parse(before[0]!.endsAt));
});

test('while Alertmanager is down a sync fails and marks nothing; once back, it gets everything', async () => {
  const ids = [storeOne(anomaly()), storeOne(anomaly({ device: 'ap-3' }))];
  // Credentials in the URL travel as Basic auth and never show in a failure.
  const url = am.url.replace('http://', 'http://edgewarden:s3cret@');
  const sync = syncOf('outage', url);
  await am.stop();
  try {
    const report = await sync.sync();
    expect(report).toMatchObject({ firing: 0, started: 0, resolved: 0, silenced: 0 });
    expect(report.failure).toMatchObject({ step: 'post', alerts: 2 });
    expect(report.failure!.error).toMatch(/^POST \/api\/v2\/alerts: /);
    expect(report.failure!.error).not.toMatch(/s3cret|edgewarden:|http:\/\//);
    for (const id of ids) expect(store.get(id)!.alertState).toBeNull();
  } finally {
    await am.start();
  }
  expect(await sync.sync()).toEqual({ firing: 2, started: 2, resolved: 0, silenced: 0 });
  expect((await alertsOf('outage')).map((a) => a.labels.anomaly_id).sort()).toEqual(
    ids.map((id) => `outage-0:${id}`).sort(),
  );
});
