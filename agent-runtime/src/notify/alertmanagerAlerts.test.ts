import {
  alertAnnotations,
  alertLabels,
  planAlerts,
  silencedAnomalies,
  type AlertableAnomaly,
  type AlertPlanSettings,
} from './alertmanagerAlerts.js';

const settings: AlertPlanSettings = {
  namespace: 'home',
  agentName: 'auth-agent',
  pod: 'auth-agent-0',
  intervalMs: 60_000,
  resolveAfterMs: 3_600_000,
};

const now = new Date('2025-06-01T12:00:00.000Z');

const row = (extra: Partial<AlertableAnomaly> = {}): AlertableAnomaly => ({
  id: 17,
  timestamp: '2025-06-01T11:50:00.000Z',
  lastSeen: '2025-06-01T11:55:00.000Z',
  agent: 'auth',
  device: 'router-1',
  type: 'brute_force',
  severity: 4,
  description: '40 failed SSH logins from 203.0.113.7',
  evidence: Array.from({ length: 14 }, (_, i) => 100 + i),
  occurrences: 3,
  status: 'open',
  rule: 'auth.sshd-brute-force',
  remediation: 'Block 203.0.113.7 at the firewall.',
  alertState: null,
  ...extra,
});

test("an anomaly's labels identify it; its annotations explain it", () => {
  expect(alertLabels(row(), settings)).toEqual({
    alertname: 'EdgewardenAnomaly',
    namespace: 'home',
    agent: 'auth-agent',
    agent_kind: 'auth',
    rule: 'auth.sshd-brute-force',
    type: 'brute_force',
    device: 'router-1',
    severity: 'high',
    anomaly_id: 'auth-agent-0:17',
  });
  expect(alertAnnotations(row(), settings)).toEqual({
    summary: 'high: auth.sshd-brute-force on router-1',
    description: '40 failed SSH logins from 203.0.113.7',
    evidence: '100, 101, 102, 103, 104, 105, 106, 107, 108, 109',
    remediation: 'Block 203.0.113.7 at the firewall.',
    runbook_url: 'https://github.com/edgewarden/edgewarden/blob/main/docs/rules.md#coverage',
    occurrences: '3',
  });
});

test('no rule, no remediation, no namespace: those are left out, not empty', () => {
  const a = row({ rule: undefined, remediation: undefined, severity: 5 });
  const s = { ...settings, namespace: '', runbookBaseUrl: 'https://wiki.example.net/runbooks' };
  const labels = alertLabels(a, s);
  expect(labels).not.toHaveProperty('rule');
  expect(labels).not.toHaveProperty('namespace');
  expect(labels.severity).toBe('critical');
  const annotations = alertAnnotations(a, s);
  expect(annotations).not.toHaveProperty('remediation');
  expect(annotations.runbook_url).toBe('https://wiki.example.net/runbooks#brute_force');
  expect(alertAnnotations(row(), s).runbook_url).toBe(
    'https://wiki.example.net/runbooks#auth.sshd-brute-force',
  );
});

test('open and acknowledged anomalies seen lately fire until three intervals from now', () => {
  const plan = planAlerts(
    [row({ id: 1 }), row({ id: 2, status: 'acknowledged', alertState: 'firing' })],
    now,
    settings,
  );
  expect(plan.firing.map((p) => p.id)).toEqual([1, 2]);
  expect(plan.resolved).toEqual([]);
  expect(plan.firingEndsAt).toBe('2025-06-01T12:03:00.000Z');
  expect(plan.firing[0]!.alert).toMatchObject({
    startsAt: '2025-06-01T11:50:00.000Z',
    endsAt: '2025-06-01T12:03:00.000Z',
  });
});

test('resolved, false positive and suppressed anomalies resolve, ending now', () => {
  const plan = planAlerts(
    ['resolved', 'false_positive', 'suppressed'].map((status, i) =>
      row({ id: i + 1, status, alertState: 'firing' }),
    ),
    now,
    settings,
  );
  expect(plan.firing).toEqual([]);
  expect(plan.resolved.map((p) => p.id)).toEqual([1, 2, 3]);
  expect(plan.resolved.every((p) => p.alert.endsAt === now.toISOString())).toBe(true);
  expect(plan.resolvedEndsAt).toBe(now.toISOString());
});

test('an open anomaly not seen for resolveAfter resolves; one seen just inside it fires', () => {
  const stale = row({ id: 1, lastSeen: '2025-06-01T11:00:00.000Z', alertState: 'firing' });
  const fresh = row({ id: 2, lastSeen: '2025-06-01T11:00:00.001Z', alertState: 'firing' });
  const plan = planAlerts([stale, fresh], now, settings);
  expect(plan.resolved.map((p) => p.id)).toEqual([1]);
  expect(plan.firing.map((p) => p.id)).toEqual([2]);
  // Its status in the store is not Alertmanager's business: a shorter resolveAfter changes only this.
  expect(planAlerts([fresh], now, { ...settings, resolveAfterMs: 60_000 }).resolved).toHaveLength(
    1,
  );
});

test('an alert already resolved is not sent again; a reopened one fires again', () => {
  const plan = planAlerts(
    [
      row({ id: 1, status: 'resolved', alertState: 'resolved' }),
      row({ id: 2, lastSeen: '2025-05-01T00:00:00.000Z', alertState: 'resolved' }),
      row({ id: 3, status: 'open', alertState: 'resolved' }),
    ],
    now,
    settings,
  );
  expect(plan.resolved).toEqual([]);
  expect(plan.firing.map((p) => p.id)).toEqual([3]);
});

test('an alert never ends before it starts (a clock ahead of the agent)', () => {
  const ahead = '2025-06-01T12:10:00.000Z';
  const plan = planAlerts(
    [
      row({ id: 1, timestamp: ahead, lastSeen: ahead }),
      row({ id: 2, timestamp: ahead, lastSeen: ahead, status: 'resolved', alertState: 'firing' }),
    ],
    now,
    settings,
  );
  expect(plan.firing[0]!.alert.endsAt).toBe('2025-06-01T12:10:00.000Z');
  expect(plan.resolved[0]!.alert.endsAt).toBe(ahead);
});

test('a silence counts for the alerts this pod posted, with exactly their labels', () => {
  const firing = planAlerts([row({ id: 1 }), row({ id: 2, device: 'ap-2' })], now, settings).firing;
  const labels = (id: number) => firing.find((p) => p.id === id)!.alert.labels;
  const silenced = silencedAnomalies(
    [
      // Labels in another order: the same alert.
      {
        labels: Object.fromEntries(Object.entries(labels(1)).reverse()),
        status: { state: 'suppressed', silencedBy: ['s-1', 's-2'] },
      },
      // Another replica's anomaly 2.
      {
        labels: { ...labels(2), anomaly_id: 'auth-agent-1:2' },
        status: { state: 'suppressed', silencedBy: ['s-1'] },
      },
      // Inhibited, not silenced.
      { labels: labels(2), status: { state: 'suppressed', silencedBy: [] } },
    ],
    firing,
  );
  expect(silenced).toEqual([{ id: 1, silenceIds: ['s-1', 's-2'] }]);
});
