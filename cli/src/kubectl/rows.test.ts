// The table, wide table, JSON and YAML of fixed anomalies; describe; watch; top devices; agents.
import { agentTable, linesPerSecond } from './agentRows.js';
import { anomalyItem, anomalyTable, newOrChanged } from './anomalyRows.js';
import type { AgentObject } from './cluster.js';
import { describeAnomaly } from './describe.js';
import { documentText, listOf, tableText } from './output.js';
import { deviceFigures, deviceTable } from './topDevices.js';
import type { ListedAnomaly, WireAnomaly } from './wire.js';

const now = new Date('2026-12-07T12:00:00Z');

const anomaly = (a: Partial<WireAnomaly>): WireAnomaly => ({
  id: 17,
  timestamp: '2026-12-07T11:55:00.000Z',
  agent: 'auth',
  device: 'gw-1',
  type: 'brute_force',
  severity: 4,
  confidence: 0.9,
  score: 0.8,
  description:
    'Many failed logins from 203.0.113.7 to dropbear on gw-1 within five minutes of each other',
  features: { failures: 42 },
  evidence: [101, 102, 103],
  windowStart: '2026-12-07T11:50:00.000Z',
  windowEnd: '2026-12-07T11:55:00.000Z',
  occurrences: 3,
  lastSeen: '2026-12-07T11:58:00.000Z',
  status: 'open',
  note: null,
  statusBy: null,
  statusAt: null,
  captures: { source: '203.0.113.7' },
  rule: 'auth.bruteforce',
  remediation: 'Block the source at the firewall.',
  ...a,
});

const listed: ListedAnomaly[] = [
  { namespace: 'edge', analysisAgent: 'auth', pod: 'auth-0', anomaly: anomaly({}) },
  {
    namespace: 'lab',
    analysisAgent: 'dns',
    pod: 'dns-1',
    anomaly: anomaly({
      id: 3,
      agent: 'dns',
      device: 'ap-2',
      type: 'dhcp_starvation',
      severity: 3,
      timestamp: '2026-12-05T10:00:00.000Z',
      lastSeen: '2026-12-06T10:00:00.000Z',
      description: 'DHCP pool nearly exhausted',
      status: 'acknowledged',
      captures: null,
      rule: undefined,
      occurrences: 1,
    }),
  },
];

test('the table: newest first, kubectl columns, the description cut', () => {
  expect(tableText(anomalyTable(listed, { wide: false, namespaces: true, now }))).toBe(
    [
      'NAMESPACE  ID         AGENT  SEVERITY  TYPE             DEVICE  STATUS        AGE   DESCRIPTION',
      'edge       auth-0:17  auth   high      brute_force      gw-1    open          5m    Many failed logins from 203.0.113.7 to dropbear on gw-1 w...',
      'lab        dns-1:3    dns    medium    dhcp_starvation  ap-2    acknowledged  2d2h  DHCP pool nearly exhausted',
    ].join('\n'),
  );
});

test('the wide table adds rule, source, count and last seen; without -A no namespace', () => {
  expect(tableText(anomalyTable(listed.slice(0, 1), { wide: true, namespaces: false, now }))).toBe(
    [
      'ID         AGENT  SEVERITY  TYPE         DEVICE  STATUS  AGE  RULE             SOURCE       COUNT  LAST SEEN  DESCRIPTION',
      'auth-0:17  auth   high      brute_force  gw-1    open    5m   auth.bruteforce  203.0.113.7  3      2m         Many failed logins from 203.0.113.7 to dropbear on gw-1 w...',
    ].join('\n'),
  );
});

test('-o json and yaml: a List of the anomalies, with namespace, AnalysisAgent, pod and name', () => {
  const doc = listOf(listed.slice(0, 1).map(anomalyItem));
  const json = JSON.parse(documentText(doc, 'json')) as {
    kind: string;
    items: Record<string, unknown>[];
  };
  expect(json).toMatchObject({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' } });
  expect(json.items[0]).toMatchObject({
    name: 'auth-0:17',
    namespace: 'edge',
    analysisAgent: 'auth',
    pod: 'auth-0',
    id: 17,
    agent: 'auth',
    rule: 'auth.bruteforce',
  });
  expect(documentText(doc, 'json')).toContain('\n    "apiVersion": "v1"');
  const yaml = documentText(doc, 'yaml');
  expect(yaml.split('\n').slice(0, 6)).toEqual([
    'apiVersion: v1',
    'kind: List',
    'items:',
    '  - name: auth-0:17',
    '    namespace: edge',
    '    analysisAgent: auth',
  ]);
});

test('describe: fields, captures, evidence, remediation and the latest status change', () => {
  const text = describeAnomaly(
    {
      ...listed[0]!,
      anomaly: anomaly({
        status: 'acknowledged',
        note: 'looking',
        statusBy: 'alice',
        statusAt: '2026-12-07T11:59:00.000Z',
      }),
    },
    now,
  );
  const lines = text.split('\n');
  expect(lines[0]).toBe('Name:          auth-0:17');
  expect(lines).toContain('Severity:      high (4)');
  expect(lines).toContain('First Seen:    2026-12-07T11:55:00.000Z (5m ago)');
  expect(text).toContain('Captures:\n  source: 203.0.113.7');
  expect(text).toContain('Evidence:\n  Source rows: 101, 102, 103 (3 lines)');
  expect(text).toContain('Remediation:\n  Block the source at the firewall.');
  expect(text).toContain(
    'Status History:\n  STATUS        NOTE     BY     AT\n  acknowledged  looking  alice  2026-12-07T11:59:00.000Z',
  );
});

test('watch: each anomaly once, again when its status or count changes', () => {
  const seen = new Map<string, string>();
  expect(newOrChanged(listed, seen).map((l) => l.anomaly.id)).toEqual([3, 17]);
  expect(newOrChanged(listed, seen)).toEqual([]);
  const bumped = [
    { ...listed[0]!, anomaly: { ...listed[0]!.anomaly, occurrences: 4 } },
    listed[1]!,
  ];
  expect(newOrChanged(bumped, seen).map((l) => l.anomaly.id)).toEqual([17]);
});

test('top devices: per namespace and device, open, highest, the top rule', () => {
  const more: ListedAnomaly[] = [
    ...listed,
    { ...listed[0]!, anomaly: anomaly({ id: 18, severity: 5, rule: 'auth.bruteforce' }) },
    {
      ...listed[0]!,
      anomaly: anomaly({ id: 19, severity: 2, status: 'resolved', rule: 'auth.stuffing' }),
    },
  ];
  expect(tableText(deviceTable(deviceFigures(more), true))).toBe(
    [
      'NAMESPACE  DEVICE  ANOMALIES  OPEN  HIGHEST   TOP RULE',
      'edge       gw-1    3          2     critical  auth.bruteforce',
      'lab        ap-2    1          0     medium    -',
    ].join('\n'),
  );
});

test('agents: ready from the Ready condition, rates, open anomalies, model, age', () => {
  const agent = (name: string, ready: string | undefined, model?: string): AgentObject =>
    ({
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'AnalysisAgent',
      metadata: { name, namespace: 'edge', creationTimestamp: '2026-12-04T12:00:00Z' },
      spec: { agent: 'auth', source: { secretRef: { name: 'db' } } },
      status: {
        modelVersion: model,
        conditions: ready
          ? [{ type: 'Ready', status: ready, reason: 'x', message: '', lastTransitionTime: '' }]
          : [],
      },
    }) as unknown as AgentObject;
  expect(
    tableText(
      agentTable(
        [
          {
            agent: agent('auth', 'True', '1.2.0'),
            figures: { linesPerSecond: 12.345, open: 500, openCapped: true },
          },
          { agent: agent('alpha', undefined), figures: {} },
        ],
        { namespaces: false, now },
      ),
    ),
  ).toBe(
    [
      'NAME   AGENT  READY  LINES/S  OPEN  MODEL  AGE',
      'alpha  auth   no     -        -     -      3d',
      'auth   auth   yes    12.3     500+  1.2.0  3d',
    ].join('\n'),
  );
  expect(linesPerSecond(600, '2026-12-07T11:50:00Z', now)).toBe(1);
  expect(linesPerSecond(600, undefined, now)).toBeUndefined();
});
