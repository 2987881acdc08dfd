import type { Anomaly } from '../agents/types.js';
import { builtInRules } from './packFiles.js';
import { buildRuleSet } from './ruleSet.js';
import { RuleError } from './ruleTypes.js';
import { Suppressions, type SuppressionSpec } from './suppressions.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const LATER = '2026-12-31T00:00:00Z';

function anomaly(change: Partial<Anomaly> = {}): Anomaly {
  return {
    agent: 'auth',
    device: 'gw-home',
    type: 'brute_force',
    severity: 4,
    confidence: 0.9,
    score: 0.8,
    windowStart: '2026-12-07T11:55:00Z',
    windowEnd: '2026-12-07T12:00:00Z',
    description: 'logins failed',
    features: {},
    evidence: [1],
    rule: 'auth.dropbear-brute-force',
    captures: { source: '203.0.113.7' },
    ...change,
  };
}

const one = (spec: Partial<SuppressionSpec>): Suppressions =>
  new Suppressions([{ rule: 'auth.dropbear-brute-force', expires: LATER, ...spec }]);

test('the rule must be the same', () => {
  const s = one({ device: 'gw-home' });
  expect(s.suppressedBy(anomaly(), NOW)?.index).toBe(0);
  expect(s.suppressedBy(anomaly({ rule: 'auth.luci-brute-force' }), NOW)).toBeUndefined();
  // A model's or an agent's own finding has no rule: never suppressed.
  expect(s.suppressedBy(anomaly({ rule: undefined }), NOW)).toBeUndefined();
});

test('device scopes to one device', () => {
  const s = one({ device: 'gw-home' });
  expect(s.suppressedBy(anomaly(), NOW)).toBeDefined();
  expect(s.suppressedBy(anomaly({ device: 'gw-office' }), NOW)).toBeUndefined();
});

test('source scopes to an address, or a CIDR network, of the source capture', () => {
  const address = one({ source: '203.0.113.7' });
  expect(address.suppressedBy(anomaly(), NOW)).toBeDefined();
  expect(
    address.suppressedBy(anomaly({ captures: { source: '203.0.113.8' } }), NOW),
  ).toBeUndefined();
  const network = one({ source: '203.0.113.0/24' });
  expect(
    network.suppressedBy(anomaly({ captures: { source: '203.0.113.200' } }), NOW),
  ).toBeDefined();
  expect(
    network.suppressedBy(anomaly({ captures: { source: '203.0.114.1' } }), NOW),
  ).toBeUndefined();
  // A finding without a source capture (or not an address) is not inside any network.
  expect(network.suppressedBy(anomaly({ captures: undefined }), NOW)).toBeUndefined();
  expect(network.suppressedBy(anomaly({ captures: { source: 'scanner' } }), NOW)).toBeUndefined();
});

test('IPv6 sources, in brackets or not', () => {
  const s = one({ source: '2001:db8:1::/48' });
  expect(s.suppressedBy(anomaly({ captures: { source: '2001:db8:1::42' } }), NOW)).toBeDefined();
  expect(s.suppressedBy(anomaly({ captures: { source: '[2001:db8:1:2::1]' } }), NOW)).toBeDefined();
  expect(s.suppressedBy(anomaly({ captures: { source: '2001:db8:2::1' } }), NOW)).toBeUndefined();
  expect(s.suppressedBy(anomaly({ captures: { source: '203.0.113.7' } }), NOW)).toBeUndefined();
});

test('user scopes to the user capture', () => {
  const s = one({ user: 'backup' });
  expect(s.suppressedBy(anomaly({ captures: { user: 'backup' } }), NOW)).toBeDefined();
  expect(s.suppressedBy(anomaly({ captures: { user: 'root' } }), NOW)).toBeUndefined();
  expect(s.suppressedBy(anomaly({ captures: {} }), NOW)).toBeUndefined();
});

test('every field set must match', () => {
  const s = one({ device: 'gw-home', source: '203.0.113.0/24', user: 'root' });
  const all = { source: '203.0.113.7', user: 'root' };
  expect(s.suppressedBy(anomaly({ captures: all }), NOW)).toBeDefined();
  expect(s.suppressedBy(anomaly({ captures: { ...all, user: 'admin' } }), NOW)).toBeUndefined();
  expect(s.suppressedBy(anomaly({ captures: all, device: 'ap-attic' }), NOW)).toBeUndefined();
});

test('a suppression ends at its expiry: before it applies, from it on not', () => {
  const s = one({ device: 'gw-home', expires: '2026-12-07T12:00:00Z' });
  expect(s.suppressedBy(anomaly(), new Date(NOW.getTime() - 1))).toBeDefined();
  expect(s.suppressedBy(anomaly(), NOW)).toBeUndefined();
  expect(s.count(new Date(NOW.getTime() - 1))).toEqual({ active: 1, expired: 0 });
  expect(s.count(NOW)).toEqual({ active: 0, expired: 1 });
  // An offset is read as the instant it names.
  const offset = one({ device: 'gw-home', expires: '2026-12-07T13:00:00+01:00' });
  expect(offset.suppressedBy(anomaly(), NOW)).toBeUndefined();
});

test('the first covering suppression is returned; partition counts per rule', () => {
  const s = new Suppressions([
    { rule: 'auth.luci-brute-force', device: 'gw-home', expires: LATER },
    { rule: 'auth.dropbear-brute-force', device: 'gw-home', expires: LATER, reason: 'lab' },
    { rule: 'auth.dropbear-brute-force', source: '203.0.113.7', expires: LATER },
  ]);
  expect(s.suppressedBy(anomaly(), NOW)?.spec.reason).toBe('lab');
  const other = anomaly({ device: 'gw-office', captures: { source: '198.51.100.1' } });
  const { kept, suppressed } = s.partition([anomaly(), other, anomaly()], NOW);
  expect(kept).toEqual([other]);
  expect(suppressed).toEqual(new Map([['auth.dropbear-brute-force', 2]]));
});

test.each([
  ['an empty rule', { rule: ' ', device: 'gw' }, 'spec.rules.suppressions[1].rule'],
  ['no scope', {}, 'spec.rules.suppressions[1].device'],
  ['an empty device', { device: '' }, 'spec.rules.suppressions[1].device'],
  ['a source that is a name', { source: 'scanner.lan' }, 'spec.rules.suppressions[1].source'],
  ['a prefix too long', { source: '10.0.0.0/33' }, 'spec.rules.suppressions[1].source'],
  ['an IPv6 prefix too long', { source: '2001:db8::/129' }, 'spec.rules.suppressions[1].source'],
  [
    'an expiry not a date',
    { device: 'gw', expires: 'next week' },
    'spec.rules.suppressions[1].expires',
  ],
  ['an expiry of a year', { device: 'gw', expires: '2027' }, 'spec.rules.suppressions[1].expires'],
  [
    'an impossible date',
    { device: 'gw', expires: '2027-02-30T25:00:00Z' },
    'spec.rules.suppressions[1].expires',
  ],
])('refuses %s, naming the field', (_name, change, field) => {
  const specs = [
    { rule: 'auth.luci-brute-force', device: 'gw-home', expires: LATER },
    { rule: 'auth.dropbear-brute-force', expires: LATER, ...change },
  ] as SuppressionSpec[];
  let error: unknown;
  try {
    new Suppressions(specs);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RuleError);
  expect((error as RuleError).field).toBe(field);
  expect((error as Error).message).toContain(`suppression: ${field}: `);
});

test('the rule set carries them, and a bad one refuses the whole tuning', async () => {
  const shipped = await builtInRules();
  const set = buildRuleSet(shipped, {
    suppressions: [{ rule: 'auth.dropbear-brute-force', device: 'gw-home', expires: LATER }],
  });
  expect(set.suppressions.suppressedBy(anomaly(), NOW)).toBeDefined();
  expect(buildRuleSet(shipped).suppressions.list).toEqual([]);
  expect(() =>
    buildRuleSet(shipped, {
      suppressions: [{ rule: 'auth.dropbear-brute-force', source: '300.1.1.1', expires: LATER }],
    }),
  ).toThrow('spec.rules.suppressions[0].source: "300.1.1.1" is not an address or a CIDR network');
  // A rule no pack defines (a typo, a renamed rule) would silence nothing: refused by its field.
  expect(() =>
    buildRuleSet(shipped, {
      suppressions: [{ rule: 'auth.dropbear-bruteforce', device: 'gw-home', expires: LATER }],
    }),
  ).toThrow('spec.rules.suppressions[0].rule: no rule has the id "auth.dropbear-bruteforce"');
});
