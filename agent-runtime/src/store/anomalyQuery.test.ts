// list()'s page query and row reading, without a database.
import { pageQuery, storedAnomalyOf, type Row } from './anomalyQuery.js';

describe('pageQuery', () => {
  test('status, rule, device and type filter by exact match, each a parameter', () => {
    const { sql, params } = pageQuery({
      status: ['open', 'acknowledged'],
      rule: 'auth.ssh-brute-force',
      device: 'gw',
      type: 'brute_force',
    });
    expect(sql).toContain(
      'status IN (@status0, @status1) AND rule = @rule AND device_id = @device AND anomaly_type = @type',
    );
    expect(params).toMatchObject({
      status0: 'open',
      status1: 'acknowledged',
      rule: 'auth.ssh-brute-force',
      device: 'gw',
      type: 'brute_force',
    });
  });

  test('newest first by default, every bound a parameter', () => {
    const { sql, params } = pageQuery({});
    expect(sql).toBe(
      'SELECT * FROM anomalies WHERE timestamp >= @since AND severity >= @minSeverity ORDER BY timestamp DESC, id DESC LIMIT @limit',
    );
    expect(params).toEqual({ since: '', minSeverity: 1, limit: 1000 });
  });

  test('the cursor continues strictly after the last row, in the chosen order', () => {
    const after = { timestamp: '2026-01-05T12:00:00.000Z', id: 7 };
    const asc = pageQuery({ order: 'asc', after, until: '2026-01-06T00:00:00.000Z', limit: 5 });
    expect(asc.sql).toContain('timestamp < @until');
    expect(asc.sql).toContain(
      '(timestamp > @afterTime OR (timestamp = @afterTime AND id > @afterId))',
    );
    expect(asc.sql).toContain('ORDER BY timestamp ASC, id ASC');
    expect(asc.params).toMatchObject({ afterTime: after.timestamp, afterId: 7, limit: 5 });
    const desc = pageQuery({ after });
    expect(desc.sql).toContain(
      '(timestamp < @afterTime OR (timestamp = @afterTime AND id < @afterId))',
    );
  });
});

test('storedAnomalyOf: JSON columns parsed, rule and remediation only when stored', () => {
  const row: Row = {
    id: 3,
    timestamp: '2026-01-05T12:00:00.000Z',
    agent_name: 'auth',
    device_id: 'gw-1',
    anomaly_type: 'brute_force',
    severity: 4,
    confidence: 0.9,
    score: 0.8,
    description: 'd',
    features: '{"failures":12}',
    evidence: '[1,"x"]',
    window_start: '2026-01-05T11:55:00.000Z',
    window_end: '2026-01-05T12:00:00.000Z',
    occurrences: 2,
    last_seen: '2026-01-05T12:00:00.000Z',
    status: 'open',
    rule: null,
    remediation: null,
    resolution_notes: null,
    status_by: null,
    status_at: null,
    captures: null,
    alert_state: null,
  };
  const stored = storedAnomalyOf(row);
  expect(stored).toMatchObject({ agent: 'auth', features: { failures: 12 }, evidence: [1, 'x'] });
  expect('rule' in stored).toBe(false);
  expect(stored).toMatchObject({ note: null, statusBy: null, captures: null, alertState: null });
  expect(
    storedAnomalyOf({ ...row, captures: '{"source":"203.0.113.7"}', alert_state: 'firing' }),
  ).toMatchObject({ captures: { source: '203.0.113.7' }, alertState: 'firing' });
  expect(storedAnomalyOf({ ...row, rule: 'auth.brute', remediation: 'r' })).toMatchObject({
    rule: 'auth.brute',
    remediation: 'r',
  });
});
