// Issue 21: an AnomalyDetected Event per new anomaly at alertSeverity, at most 10 per agent per
// 10 minutes, then one AnomaliesThrottled with the count left out; cursors per pod in memory,
// starting from the operator's start minus one interval.
import type { AnomalySummary } from '../../../../agent-runtime/src/contract/anomalies.js';
import {
  EVENT_WINDOW_MS,
  advancedCursor,
  anomalyEvents,
  anomalyMessage,
  anomalyPageQuery,
  keepPods,
  newAnomalyEventState,
  severityRankOf,
  stateFor,
} from './anomalyEvents.js';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));
const anomaly = (id: number, extra: Partial<AnomalySummary> = {}): AnomalySummary => ({
  id,
  timestamp: `2026-01-01T11:00:${String(id % 60).padStart(2, '0')}.000Z`,
  device: '203.0.113.7',
  type: 'brute_force',
  severity: 4,
  description: '40 failed logins in 1m',
  rule: 'ssh-bruteforce',
  ...extra,
});
const found = (ids: number[]) => ids.map((id) => ({ pod: 'auth-0', anomaly: anomaly(id) }));

test('the message names severity, type, device, description, the pod:id and the rule', () => {
  expect(anomalyMessage('auth-0', anomaly(17))).toBe(
    'high brute_force on 203.0.113.7: 40 failed logins in 1m (anomaly auth-0:17, rule ssh-bruteforce)',
  );
  expect(anomalyMessage('auth-1', anomaly(3, { rule: null, severity: 5 }))).toBe(
    'critical brute_force on 203.0.113.7: 40 failed logins in 1m (anomaly auth-1:3)',
  );
  const long = anomalyMessage('auth-0', anomaly(1, { description: 'x'.repeat(5000) }));
  expect(long.length).toBeLessThan(600);
  expect(long).toContain('…');
  expect(long).toMatch(/\(anomaly auth-0:1, rule ssh-bruteforce\)$/);
});

test('the first read of a pod starts at `since`; later ones after its cursor', () => {
  let state = newAnomalyEventState('uid');
  expect(anomalyPageQuery(state, 'auth-0', 4, at(0))).toEqual({
    minSeverity: '4',
    order: 'asc',
    limit: '50',
    since: '2026-01-01T12:00:00.000Z',
  });
  state = advancedCursor(state, 'auth-0', [anomaly(1), anomaly(2)]);
  expect(anomalyPageQuery(state, 'auth-0', 4, at(0))).toEqual({
    minSeverity: '4',
    order: 'asc',
    limit: '50',
    after: '2026-01-01T11:00:02.000Z,2',
  });
  // The agent's next-page header wins; an empty page keeps the cursor.
  state = advancedCursor(state, 'auth-0', [anomaly(3)], 'T,9');
  expect(state.cursors['auth-0']).toBe('T,9');
  expect(advancedCursor(state, 'auth-0', []).cursors['auth-0']).toBe('T,9');
  expect(advancedCursor(state, 'auth-1', []).cursors['auth-1']).toBeUndefined();
  // Pods that are gone are forgotten; another agent of the name starts afresh.
  expect(keepPods(state, ['auth-1']).cursors).toEqual({});
  expect(stateFor(state, 'uid')).toBe(state);
  expect(stateFor(state, 'uid2')).toEqual(newAnomalyEventState('uid2'));
});

test('ten Events per window, then one AnomaliesThrottled with the count left out', () => {
  let state = newAnomalyEventState('uid');
  let r = anomalyEvents(state, found([1, 2, 3, 4, 5, 6, 7, 8]), at(0));
  expect(r.events.map((e) => e.reason)).toEqual(Array(8).fill('AnomalyDetected'));
  r = anomalyEvents(r.state, found([9, 10, 11, 12, 13]), at(4));
  expect(r.events.map((e) => e.message.match(/auth-0:(\d+)/)![1])).toEqual(['9', '10']);
  r = anomalyEvents(r.state, found([14]), at(9));
  expect(r.events).toEqual([]);
  // The window (opened at minute 0) closes: the summary, then the new anomaly opens another.
  r = anomalyEvents(r.state, found([15]), at(10));
  expect(r.events).toEqual([
    {
      reason: 'AnomaliesThrottled',
      message:
        '4 more anomalies from 2026-01-01T12:00:00.000Z to 2026-01-01T12:10:00.000Z recorded ' +
        'no Event (at most 10 per 10 minutes per agent); kubectl edgewarden anomalies lists them',
    },
    expect.objectContaining({ reason: 'AnomalyDetected' }),
  ]);
  expect(r.state).toMatchObject({ windowStart: at(10).getTime(), recorded: 1, leftOut: 0 });
  state = r.state;
  // A window that left nothing out closes silently; none opens without anomalies.
  r = anomalyEvents(state, [], new Date(at(10).getTime() + EVENT_WINDOW_MS));
  expect(r.events).toEqual([]);
  expect(r.state).toMatchObject({ windowStart: undefined, recorded: 0, leftOut: 0 });
});

test('alertSeverity names rank 1-5', () => {
  expect(['info', 'low', 'medium', 'high', 'critical'].map(severityRankOf)).toEqual([
    1, 2, 3, 4, 5,
  ]);
});
