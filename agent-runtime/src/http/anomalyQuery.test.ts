import { ANOMALY_PAGE_LIMIT, anomalyCursor, parseAnomalyQuery } from './anomalyQuery.js';

test('without the new parameters the query is what it was: newest first', () => {
  expect(parseAnomalyQuery({})).toEqual({
    ok: true,
    since: undefined,
    minSeverity: 1,
    limit: 100,
    order: 'desc',
  });
  expect(
    parseAnomalyQuery({ since: '2026-11-23T10:00:00+01:00', minSeverity: 'high', limit: '5' }),
  ).toEqual({
    ok: true,
    since: '2026-11-23T09:00:00.000Z',
    minSeverity: 4,
    limit: 5,
    order: 'desc',
  });
});

test('until, order and after', () => {
  expect(
    parseAnomalyQuery({
      until: '2026-11-24T00:00:00Z',
      order: 'asc',
      after: '2026-11-23T10:00:00.000Z,42',
    }),
  ).toMatchObject({
    ok: true,
    until: '2026-11-24T00:00:00.000Z',
    order: 'asc',
    after: { timestamp: '2026-11-23T10:00:00.000Z', id: 42 },
  });
  expect(anomalyCursor({ timestamp: '2026-11-23T10:00:00.000Z', id: 42 })).toBe(
    '2026-11-23T10:00:00.000Z,42',
  );
});

test.each([
  [{ until: 'yesterday' }, /until/],
  [{ order: 'sideways' }, /order/],
  [{ after: '42' }, /after/],
  [{ after: '2026-11-23T10:00:00Z,x' }, /after/],
  [{ after: 'nope,42' }, /after/],
  [{ limit: '0' }, /limit/],
  [{ status: 'open,closed' }, /^status: a comma list of open, acknowledged/],
  [{ status: '' }, /^status/],
  [{ rule: 'x'.repeat(257) }, /^rule: one value of at most 256/],
  [{ device: ['a', 'b'] }, /^device/],
])('%j is refused, naming the parameter', (query, message) => {
  const q = parseAnomalyQuery(query);
  expect(q.ok).toBe(false);
  expect(!q.ok && q.error).toMatch(message);
});

test('a limit over ANOMALY_PAGE_LIMIT is clamped to it, not refused', () => {
  expect(parseAnomalyQuery({ limit: '10000' })).toMatchObject({
    ok: true,
    limit: ANOMALY_PAGE_LIMIT,
  });
  expect(parseAnomalyQuery({ limit: String(ANOMALY_PAGE_LIMIT) })).toMatchObject({
    limit: ANOMALY_PAGE_LIMIT,
  });
  expect(parseAnomalyQuery({ limit: '1.5' }).ok).toBe(false);
});

test('status, rule, device and type filters are passed on only when given', () => {
  expect(
    parseAnomalyQuery({
      status: 'open,acknowledged',
      rule: 'auth.ssh-brute-force',
      device: 'gw',
      type: 'brute_force',
    }),
  ).toMatchObject({
    ok: true,
    status: ['open', 'acknowledged'],
    rule: 'auth.ssh-brute-force',
    device: 'gw',
    type: 'brute_force',
  });
  expect(parseAnomalyQuery({ device: 'x'.repeat(256) })).toMatchObject({ ok: true });
  expect('status' in parseAnomalyQuery({})).toBe(false);
});
