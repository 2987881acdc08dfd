// Issue 21: the operator's read of new anomalies for its Events, against a real `edgewarden
// agent` process: pages of GET /anomalies at or above the alert severity, oldest first, from
// `since` and then after each cursor, neither skipping nor repeating an anomaly; nothing new
// after the last; the control token required. The Events decided from what was read: ten
// AnomalyDetected, and the rest counted in one AnomaliesThrottled when the window closes.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { agentEnv } from '../../agent-runtime/src/contract/index.js';
import type { AnomalySummary } from '../../agent-runtime/src/contract/anomalies.js';
import { AnomalyStore } from '../../agent-runtime/src/store/anomalyStore.js';
import {
  CONTROL_TOKEN,
  modelAgentSetup,
  startModelAgent,
  type ModelAgentProcess,
  type ModelAgentSetup,
} from '../fixtures/modelAgentProcess.js';
import type { AgentPod } from '../../operator/src/domain/agentPod.js';
import { fetchAnomalyPage } from '../../operator/src/domain/agentAnomalies.js';
import {
  EVENT_WINDOW_MS,
  advancedCursor,
  anomalyEvents,
  anomalyPageQuery,
  newAnomalyEventState,
} from '../../operator/src/domain/analysisAgent/anomalyEvents.js';

let setup: ModelAgentSetup;
let agent: ModelAgentProcess;
let pod: AgentPod;
const started = new Date();

beforeAll(async () => {
  setup = await modelAgentSetup('edgewarden-anomaly-events-');
  await mkdir(path.join(setup.dir, 'data'));
  const store = new AnomalyStore(path.join(setup.dir, 'data', 'anomalies.db'), {
    cooldownMs: 0,
    retentionMs: 1e12,
    maxRows: 1e9,
  });
  const at = (msAgo: number) => new Date(started.getTime() - msAgo).toISOString();
  const anomaly = (device: string, severity: 2 | 4, end: string) => ({
    ...{ agent: 'auth' as const, severity, confidence: 0.9, score: 0.5, features: {} },
    ...{ evidence: [1], windowStart: end, windowEnd: end, device, type: 'brute_force' },
    ...{ description: `failures on ${device}`, rule: 'auth.ssh-brute-force' },
  });
  // History from before the operator started, 60 new high ones, and low ones beside them.
  store.record([1, 2, 3].map((i) => anomaly(`old-${i}`, 4, at(3_600_000))));
  store.record(Array.from({ length: 60 }, (_, i) => anomaly(`gw-${i}`, 4, at(30_000 - i * 100))));
  store.record([1, 2].map((i) => anomaly(`low-${i}`, 2, at(20_000))));
  store.close();
  agent = await startModelAgent(setup, { [agentEnv.apiAuth]: 'token' });
  const port = Number(new URL(agent.url('/')).port);
  pod = {
    metadata: { name: 'ssh-guard-0', namespace: 'net' },
    spec: { containers: [{ ports: [{ name: 'http', containerPort: port }] }] },
    status: { podIP: '127.0.0.1' },
  } as unknown as AgentPod;
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await setup?.remove();
});

test('pages of new anomalies at the alert severity, from one interval before the start', async () => {
  const since = new Date(started.getTime() - 60_000);
  let state = newAnomalyEventState('uid');
  const read: AnomalySummary[] = [];
  let pages = 0;
  for (;;) {
    const query = anomalyPageQuery(state, 'ssh-guard-0', 4, since);
    const page = await fetchAnomalyPage(pod, 8080, CONTROL_TOKEN, query);
    pages += 1;
    read.push(...page.anomalies);
    state = advancedCursor(state, 'ssh-guard-0', page.anomalies, page.next);
    if (!page.next) break;
  }
  expect(pages).toBe(2); // 50, then 10
  expect(read.map((a) => a.device)).toEqual(Array.from({ length: 60 }, (_, i) => `gw-${i}`));
  expect(new Set(read.map((a) => a.id)).size).toBe(60);
  // Read to the end: the next pass finds nothing new.
  const again = await fetchAnomalyPage(
    pod,
    8080,
    CONTROL_TOKEN,
    anomalyPageQuery(state, 'ssh-guard-0', 4, since),
  );
  expect(again).toEqual({ anomalies: [] });

  const first = anomalyEvents(
    newAnomalyEventState('uid'),
    read.map((anomaly) => ({ pod: 'ssh-guard-0', anomaly })),
    started,
  );
  expect(first.events).toHaveLength(10);
  expect(first.events[0]).toEqual({
    reason: 'AnomalyDetected',
    message: `high brute_force on gw-0: failures on gw-0 (anomaly ssh-guard-0:${read[0]!.id}, rule auth.ssh-brute-force)`,
  });
  const later = new Date(started.getTime() + EVENT_WINDOW_MS);
  const closed = anomalyEvents(first.state, [], later);
  expect(closed.events).toEqual([
    {
      reason: 'AnomaliesThrottled',
      message: expect.stringMatching(/^50 more anomalies from /) as string,
    },
  ]);
}, 60_000);

test('the control token is required', async () => {
  const query = anomalyPageQuery(newAnomalyEventState('uid'), 'ssh-guard-0', 4, started);
  await expect(fetchAnomalyPage(pod, 8080, 'not-the-token', query)).rejects.toThrow(
    /GET \/anomalies\?.* to pod ssh-guard-0 at 127\.0\.0\.1:\d+: the agent answered HTTP 403/,
  );
});
