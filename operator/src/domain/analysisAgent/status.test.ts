// The AnalysisAgent's status from observations: each condition's verdict and reason.
import {
  agentStatus,
  referencedSecrets,
  type AgentObservation,
  type AgentReport,
} from './status.js';
import type { StoredAgent } from './desired.js';

const agent = (spec: Partial<StoredAgent['spec']> = {}): StoredAgent => ({
  apiVersion: 'edgewarden.io/v1alpha1',
  kind: 'AnalysisAgent',
  metadata: { name: 'dns', namespace: 'routers', uid: 'u', generation: 2 },
  spec: { agent: 'dns', replicas: 2, source: { secretRef: { name: 'db' } }, ...spec },
});
const report = (pod: string, r: Partial<AgentReport> = {}): AgentReport => ({
  pod,
  ready: true,
  sourceReachable: true,
  linesAnalyzed: 100,
  anomalies: { total: 3, last24h: 1 },
  lastCycleTime: '2026-11-24T01:00:00Z',
  ...r,
});
const observe = (o: Partial<AgentObservation> = {}): AgentObservation => ({
  agent: agent(),
  statefulSet: { replicas: 2, readyReplicas: 2 },
  missingSecrets: [],
  pods: [],
  reports: [
    report('dns-agent-0'),
    report('dns-agent-1', { lastCycleTime: '2026-11-24T01:01:00Z' }),
  ],
  unreachable: [],
  ...o,
});
const cond = (o: AgentObservation, type: string) =>
  agentStatus(o).conditions.find((c) => c.type === type);

test('all well: ready, reachable, totals summed over the pods', () => {
  const s = agentStatus(observe());
  expect(s).toMatchObject({
    replicas: 2,
    readyReplicas: 2,
    linesAnalyzed: 200,
    anomalies: { total: 6, last24h: 2 },
    lastCycleTime: '2026-11-24T01:01:00Z',
  });
  expect(s.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
    ['Ready', 'True', 'AgentsReady'],
    ['SourceReachable', 'True', 'Reachable'],
    ['ModelLoaded', 'True', 'NoModelConfigured'],
    ['ModelDrift', 'Unknown', 'NoModelConfigured'],
    ['RulesAccepted', 'Unknown', 'NoAgentReports'],
    ['StoreRecovered', 'False', 'StoreIntact'],
    ['Degraded', 'False', 'AsExpected'],
  ]);
});

test('a store moved aside at a start: StoreRecovered names the pod, the file and the time, not what SQLite said', () => {
  const moved = (reason: 'Corrupt' | 'NewerSchema', at: string) => ({
    recoveredAt: at,
    reason,
    message: 'file is not a database',
    movedTo: `anomalies.db.${reason === 'Corrupt' ? 'corrupt' : 'newer'}-${at}`,
  });
  const one = cond(
    observe({
      reports: [
        report('dns-agent-0'),
        report('dns-agent-1', { store: moved('Corrupt', '2026-11-24T00:59:00Z') }),
      ],
    }),
    'StoreRecovered',
  );
  expect(one).toEqual({
    type: 'StoreRecovered',
    status: 'True',
    reason: 'StoreCorrupt',
    message:
      'dns-agent-1: its store was damaged; moved aside to anomalies.db.corrupt-2026-11-24T00:59:00Z at 2026-11-24T00:59:00Z, and a fresh store started',
  });
  const both = cond(
    observe({
      reports: [
        report('dns-agent-0', { store: moved('NewerSchema', '2026-11-24T00:58:00Z') }),
        report('dns-agent-1', { store: moved('Corrupt', '2026-11-24T00:59:00Z') }),
      ],
    }),
    'StoreRecovered',
  );
  expect(both).toMatchObject({ status: 'True', reason: 'StoreNewerSchema' });
  expect(both!.message).toMatch(
    /^dns-agent-0: its store was written by a newer edgewarden; .*; and 1 more pod$/,
  );
  expect(JSON.stringify([one, both])).not.toContain('file is not a database');
  expect(cond(observe({ reports: [] }), 'StoreRecovered')).toMatchObject({
    status: 'Unknown',
    reason: 'NoAgentReports',
  });
});

test('rules: loaded, a refused change named with its pod, and the top rules summed over pods', () => {
  const rules = (error?: string, top = [{ rule: 'auth.ssh-brute-force', anomalies: 2 }]) => ({
    rules: 40,
    packs: ['auth', 'openwrt-system'],
    ...(error ? { error } : {}),
    top,
  });
  const loaded = agentStatus(
    observe({
      reports: [
        report('dns-agent-0', { rules: rules() }),
        report('dns-agent-1', {
          rules: rules(undefined, [
            { rule: 'auth.ssh-brute-force', anomalies: 3 },
            { rule: 'auth.dropbear-exit-before-auth', anomalies: 1 },
          ]),
        }),
      ],
    }),
  );
  expect(loaded.conditions.find((c) => c.type === 'RulesAccepted')).toMatchObject({
    status: 'True',
    reason: 'Loaded',
    message: '40 rules from 2 packs',
  });
  expect(loaded.topRules).toEqual([
    { rule: 'auth.ssh-brute-force', anomalies: 5 },
    { rule: 'auth.dropbear-exit-before-auth', anomalies: 1 },
  ]);
  const refused = cond(
    observe({
      reports: [
        report('dns-agent-0', { rules: rules() }),
        report('dns-agent-1', {
          rules: rules(
            'rule mine.x (/etc/edgewarden/rules/mine/a.yaml): match[0].pattern: Invalid regular expression',
          ),
        }),
      ],
    }),
    'RulesAccepted',
  );
  expect(refused).toMatchObject({ status: 'False', reason: 'RulesRefused' });
  expect(refused!.message).toBe(
    'dns-agent-1: rule mine.x (/etc/edgewarden/rules/mine/a.yaml): match[0].pattern: Invalid regular expression; the rules in force before the change go on',
  );
});

test('a missing Secret says which, and where it is referenced', () => {
  const c = cond(
    observe({ missingSecrets: [{ name: 'db', field: 'spec.source.secretRef' }] }),
    'Ready',
  );
  expect(c).toMatchObject({ status: 'False', reason: 'SecretMissing' });
  expect(c!.message).toBe(
    'Secret "db" (spec.source.secretRef) does not exist in namespace routers',
  );
});

test('paused says so', () => {
  expect(
    cond(
      observe({ agent: agent({ paused: true }), statefulSet: { replicas: 0 }, reports: [] }),
      'Ready',
    ),
  ).toMatchObject({ status: 'False', reason: 'Paused' });
});

test('a pod that cannot start gives its reason', () => {
  const o = observe({
    statefulSet: { replicas: 2, readyReplicas: 1 },
    pods: [
      {
        name: 'dns-agent-1',
        ready: false,
        waitingReason: 'CreateContainerConfigError',
        waitingMessage: 'secret "smtp" not found',
      },
    ],
  });
  expect(cond(o, 'Ready')).toMatchObject({ status: 'False', reason: 'CreateContainerConfigError' });
  expect(cond(o, 'Ready')!.message).toContain('1 of 2 agent pods ready');
  expect(cond(o, 'Degraded')).toMatchObject({ status: 'True' });
});

test('the source as the agents see it; a bad table is a source error', () => {
  const o = observe({
    reports: [
      report('dns-agent-0', {
        sourceReachable: false,
        sourceError: 'relation "logz" does not exist',
      }),
    ],
  });
  expect(cond(o, 'SourceReachable')).toMatchObject({
    status: 'False',
    reason: 'SourceUnreachable',
    message: 'dns-agent-0: relation "logz" does not exist',
  });
  expect(cond(observe({ reports: [] }), 'SourceReachable')).toMatchObject({ status: 'Unknown' });
});

test('model loaded, refused, and drifting', () => {
  const withModel = agent({ model: { name: 'dns-model' } });
  const loaded = observe({
    agent: withModel,
    reports: [
      report('a', {
        model: { version: '2' },
        drift: { judged: true, detected: false, drifted: [], modelVersion: '2' },
      }),
    ],
  });
  expect(cond(loaded, 'ModelLoaded')).toMatchObject({ status: 'True', reason: 'Loaded' });
  expect(agentStatus(loaded).modelVersion).toBe('2');
  expect(cond(loaded, 'ModelDrift')).toMatchObject({ status: 'False', reason: 'NoDrift' });
  const refused = observe({
    agent: withModel,
    reports: [
      report('a', {
        model: {
          lastFailure: {
            reason: 'ChecksumMismatch',
            message: 'sha256 differs',
            time: '2026-11-24T10:00:00Z',
          },
        },
      }),
    ],
  });
  expect(cond(refused, 'ModelLoaded')).toMatchObject({
    status: 'False',
    reason: 'ChecksumMismatch',
    message: 'a: sha256 differs',
  });
  const drifting = observe({
    agent: withModel,
    reports: [
      report('a', {
        model: { version: '2' },
        drift: { judged: true, detected: true, drifted: ['queries'], modelVersion: '2' },
      }),
    ],
  });
  expect(cond(drifting, 'ModelDrift')).toMatchObject({ status: 'True', reason: 'FeaturesDrifted' });
});

test('every referenced Secret is listed with its field', () => {
  expect(
    referencedSecrets(
      agent({
        source: { secretRef: { name: 'db' }, caSecretRef: { name: 'ca' } },
        notifications: { webhook: { urlSecretRef: { name: 'hook' } } },
      }),
    ),
  ).toEqual([
    { name: 'db', field: 'spec.source.secretRef' },
    { name: 'ca', field: 'spec.source.caSecretRef' },
    { name: 'hook', field: 'spec.notifications.webhook.urlSecretRef' },
  ]);
});

describe('rows left unread at the start', () => {
  // Historical logs loaded into the table before the agent started: it starts at the end.
  const historical = {
    time: '2026-12-01T10:00:00.000Z',
    from: 'end' as const,
    rowsBefore: 1385,
    oldestBefore: '2023-07-18T02:00:00.000Z',
    newestBefore: '2023-07-22T08:55:00.000Z',
  };

  test('nothing new since a start at the end of old rows: NoNewRows, naming backfill and its reach', () => {
    const o = observe({
      reports: [report('dns-agent-0', { linesAnalyzed: 0, start: historical })],
    });
    expect(cond(o, 'SourceReachable')).toEqual({
      type: 'SourceReachable',
      status: 'True',
      reason: 'NoNewRows',
      message:
        '1 agent pod read the source, but no new line has arrived since the agent started at the end of the table at 2026-12-01T10:00:00Z: 1,385 older rows (2023-07-18T02:00:00Z to 2023-07-22T08:55:00Z) there are not analysed; they are all older than spec.source.backfill can reach (720h); `edgewarden analyze` reads such logs from a file',
    });
  });

  test('rows within backfill’s reach: the period that reaches the oldest, summed over the pods', () => {
    const recent = (pod: string, rowsBefore: number, oldestBefore: string) =>
      report(pod, {
        linesAnalyzed: 0,
        start: {
          time: '2026-12-01T10:00:00.000Z',
          from: 'end',
          rowsBefore,
          oldestBefore,
          newestBefore: '2026-12-01T09:59:00.000Z',
        },
      });
    const o = observe({
      reports: [
        recent('dns-agent-0', 700, '2026-11-28T10:30:00.000Z'),
        recent('dns-agent-1', 685, '2026-11-28T09:30:00.000Z'),
      ],
    });
    expect(cond(o, 'SourceReachable')).toMatchObject({
      reason: 'NoNewRows',
      message:
        '2 agent pods read the source, but no new line has arrived since the agent started at the end of the table at 2026-12-01T10:00:00Z: 1,385 older rows (2026-11-28T09:30:00Z to 2026-12-01T09:59:00Z) there are not analysed; to analyse them, set spec.source.backfill (at most 720h; 74h reaches the oldest): a pod reads that period first when it starts with an empty store',
    });
  });

  test('more rows than counted, after a backfill: a longer one, and the bound', () => {
    const o = observe({
      reports: [
        report('dns-agent-0', {
          linesAnalyzed: 0,
          start: {
            time: '2026-12-01T10:00:00.000Z',
            from: 'backfill',
            backfill: '24h',
            rowsBefore: 100_000,
            rowsBeforeCapped: true,
            newestBefore: '2026-11-30T09:00:00.000Z',
          },
        }),
      ],
    });
    expect(cond(o, 'SourceReachable')!.message).toBe(
      '1 agent pod read the source, but no new line has arrived since the agent started 24h before 2026-12-01T10:00:00Z (spec.source.backfill): more than 100,000 older rows (the newest 2026-11-30T09:00:00Z) there are not analysed; to analyse them, set a longer spec.source.backfill (at most 720h): a pod reads that period first when it starts with an empty store',
    );
  });

  test('once lines are analysed: Reachable, still saying what was left', () => {
    const o = observe({
      reports: [report('dns-agent-0', { linesAnalyzed: 12, start: historical })],
    });
    expect(cond(o, 'SourceReachable')).toMatchObject({
      reason: 'Reachable',
      message:
        '1 agent pod read the source; the agent started at the end of the table at 2026-12-01T10:00:00Z: 1,385 older rows (2023-07-18T02:00:00Z to 2023-07-22T08:55:00Z) there were not analysed',
    });
  });

  test('an empty table at the start, or an agent that does not report its start: plain Reachable', () => {
    for (const start of [
      undefined,
      { time: '2026-12-01T10:00:00.000Z', from: 'end' as const, rowsBefore: 0 },
      { time: '2026-12-01T10:00:00.000Z', from: 'end' as const }, // not counted
    ])
      expect(
        cond(
          observe({ reports: [report('dns-agent-0', { linesAnalyzed: 0, start })] }),
          'SourceReachable',
        ),
      ).toMatchObject({ reason: 'Reachable', message: '1 agent pod read the source' });
  });
});
