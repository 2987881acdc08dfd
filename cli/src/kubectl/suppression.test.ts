import { proposeSuppression, suppressionPatch, type Suppression } from './suppression.js';

const now = new Date('2026-12-07T12:00:00.123Z');
const DAY = 86_400_000;

test('scoped as narrowly as the evidence allows: rule, device, source and user', () => {
  expect(
    proposeSuppression(
      { rule: 'auth.stuffing', device: 'gw-1', captures: { source: '203.0.113.7', user: 'root' } },
      { now, expiresMs: 30 * DAY, note: 'our scanner', user: 'alice' },
    ),
  ).toEqual({
    ok: true,
    suppression: {
      rule: 'auth.stuffing',
      device: 'gw-1',
      source: '203.0.113.7',
      user: 'root',
      expires: '2027-01-06T12:00:00Z',
      reason: 'our scanner',
      createdBy: 'alice',
    },
  });
  // No captures: rule and device only; no note: no reason.
  expect(
    proposeSuppression(
      { rule: 'wifi.deauth', device: 'ap-1', captures: null },
      { now, expiresMs: DAY, user: 'bob' },
    ),
  ).toEqual({
    ok: true,
    suppression: {
      rule: 'wifi.deauth',
      device: 'ap-1',
      expires: '2026-12-08T12:00:00Z',
      createdBy: 'bob',
    },
  });
});

test('no rule, no suppression, and why', () => {
  const p = proposeSuppression(
    { device: 'gw-1', captures: {} },
    { now, expiresMs: DAY, user: 'x' },
  );
  expect(p.ok).toBe(false);
  if (!p.ok) expect(p.reason).toContain('names no rule');
});

const s: Suppression = {
  rule: 'r',
  device: 'd',
  source: '10.0.0.1',
  expires: '2027-01-01T00:00:00Z',
};

test('the patch tests the resourceVersion and appends, creating what is missing', () => {
  const test = { op: 'test', path: '/metadata/resourceVersion', value: '7' };
  expect(suppressionPatch({ metadata: { resourceVersion: '7' }, spec: {} }, s, now)).toEqual({
    kind: 'patch',
    patch: [test, { op: 'add', path: '/spec/rules', value: { suppressions: [s] } }],
  });
  expect(
    suppressionPatch({ metadata: { resourceVersion: '7' }, spec: { rules: {} } }, s, now),
  ).toEqual({
    kind: 'patch',
    patch: [test, { op: 'add', path: '/spec/rules/suppressions', value: [s] }],
  });
  const other = { ...s, source: '10.0.0.2' };
  expect(
    suppressionPatch(
      { metadata: { resourceVersion: '7' }, spec: { rules: { suppressions: [other] } } },
      s,
      now,
    ),
  ).toEqual({
    kind: 'patch',
    patch: [test, { op: 'add', path: '/spec/rules/suppressions/-', value: s }],
  });
});

test('the same scope, not expired, is not doubled; an expired one is; 100 is the limit', () => {
  const same = { ...s, expires: '2026-12-20T00:00:00Z', reason: 'earlier' };
  expect(
    suppressionPatch({ metadata: {}, spec: { rules: { suppressions: [same] } } }, s, now),
  ).toEqual({
    kind: 'present',
    existing: same,
  });
  const expired = { ...s, expires: '2026-12-01T00:00:00Z' };
  expect(
    suppressionPatch({ metadata: {}, spec: { rules: { suppressions: [expired] } } }, s, now).kind,
  ).toBe('patch');
  const full = Array.from({ length: 100 }, (_, i) => ({ ...s, device: `d${i}` }));
  expect(
    suppressionPatch({ metadata: {}, spec: { rules: { suppressions: full } } }, s, now),
  ).toEqual({ kind: 'full' });
});

test('a source capture the schema would refuse (a host name, a scoped IPv6 address) is left out', () => {
  const o = { now, expiresMs: DAY, user: 'carol' };
  const scoped = (source: string): unknown =>
    proposeSuppression({ rule: 'auth.x', device: 'gw-1', captures: { source } }, o);
  for (const source of ['scanner.example.org', 'fe80::1%br-lan']) {
    const proposal = scoped(source) as { ok: boolean; suppression: Record<string, unknown> };
    expect(proposal.ok).toBe(true);
    expect(proposal.suppression).not.toHaveProperty('source');
  }
  expect(scoped('[2001:db8::7]')).toMatchObject({ suppression: { source: '2001:db8::7' } });
});
