// The rule engine on small packs written here: each detector against lines in the daemons'
// formats, tuning, the allowlist, swapping rules while learned state survives, and refusals
// that name the rule and the field.
import { AnalysisEngine } from '../agents/engine.js';
import { authAgent } from '../agents/auth.js';
import { systemAgent } from '../agents/system.js';
import type { Agent, Anomaly } from '../agents/types.js';
import { compilePacks } from './packFiles.js';
import { buildRuleSet, type RulesTuning } from './ruleSet.js';
import { RuleError, type RuleSpec } from './ruleTypes.js';
import { RuleBook, withRules } from './withRules.js';
import { pushLines, rfc3339 } from '../../../test/fixtures/engineLines.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');

function rule(over: Partial<RuleSpec> & Pick<RuleSpec, 'id' | 'detect' | 'match'>): RuleSpec {
  return {
    agent: 'auth',
    type: 'test_finding',
    description: '{count} from {source}',
    severity: 3,
    remediation: 'look',
    format: 'test',
    examples: { match: ['x'], noMatch: ['y'] },
    ...over,
  };
}

// dropbear svr-authpasswd.c: "Bad password attempt for '%s' from %s"
const BAD_PASSWORD = {
  programs: ['dropbear'],
  pattern: "^Bad password attempt for '(?<user>[^']*)' from (?<source>[^\\s:]+)",
};

const bruteForce = rule({
  id: 'test.brute-force',
  type: 'brute_force_rule',
  match: [BAD_PASSWORD],
  detect: { count: { threshold: 5, window: '10m', groupBy: ['source'] } },
});

function run(
  rules: RuleSpec[],
  lines: [offsetMs: number, line: string][],
  options: { tuning?: RulesTuning; agent?: Agent; book?: RuleBook; engine?: AnalysisEngine } = {},
): Anomaly[] {
  const book =
    options.book ??
    (options.engine ? RuleBook.empty(5 * MINUTE) : undefined) ??
    new RuleBook(
      buildRuleSet(
        compilePacks([{ origin: 'test', document: { pack: 'test', rules } }]),
        options.tuning,
      ),
      5 * MINUTE,
    );
  const engine =
    options.engine ??
    new AnalysisEngine([withRules(options.agent ?? authAgent, book)], { windowMs: 5 * MINUTE });
  const raw = lines.map(([offset, text]) => `<38>${rfc3339(T0 + offset)} gw-home ${text}`);
  return pushLines(engine, raw, new Date(T0 + 86_400_000)).filter((a) => a.rule !== undefined);
}

const bad = (source: string, user = 'root') =>
  `dropbear[812]: Bad password attempt for '${user}' from ${source}:40022`;

test('count: a burst split across two of the agent’s windows is found in the window that completes it', () => {
  // Three failures at the end of 10:00–10:05, three at the start of 10:05–10:10.
  const lines: [number, string][] = [4.2, 4.5, 4.8, 5.1, 5.4, 5.7].map((m) => [
    m * MINUTE,
    bad('192.0.2.7'),
  ]);
  const found = run([bruteForce], lines);
  expect(found).toHaveLength(1);
  expect(found[0]).toMatchObject({
    type: 'brute_force_rule',
    rule: 'test.brute-force',
    remediation: 'look',
    // The count is the window's highest: all six failures lie within ten minutes.
    description: '6 from 192.0.2.7',
    windowStart: '2026-03-02T10:05:00.000Z',
  });
  expect(found[0]!.evidence).toEqual([1, 2, 3, 4, 5, 6]);
});

test('count: failures spread wider than the window are not a burst', () => {
  const lines: [number, string][] = [0, 3, 6, 9, 12, 15, 18].map((m) => [
    m * MINUTE,
    bad('192.0.2.7'),
  ]);
  expect(run([bruteForce], lines)).toEqual([]);
});

test('count: escalate raises the severity with the count; groupBy keeps sources apart', () => {
  const lines: [number, string][] = [];
  for (let i = 0; i < 20; i++) lines.push([i * 1000, bad('192.0.2.7')]);
  for (let i = 0; i < 4; i++) lines.push([30_000 + i * 1000, bad('198.51.100.9')]);
  const found = run([{ ...bruteForce, escalate: true }], lines);
  expect(found.map((f) => [f.description, f.severity])).toEqual([['20 from 192.0.2.7', 5]]);
});

test('distinct: many sources against one device, each below its own threshold', () => {
  const spread = rule({
    id: 'test.spread',
    description: '{distinct} sources failed logins: {values}',
    match: [BAD_PASSWORD],
    detect: { distinct: { field: 'source', threshold: 6, window: '10m' } },
  });
  const lines: [number, string][] = [];
  for (let i = 1; i <= 8; i++) lines.push([i * 20_000, bad(`203.0.113.${i}`)]);
  const found = run([bruteForce, spread], lines);
  expect(found.map((f) => f.rule)).toEqual(['test.spread']);
  expect(found[0]!.features).toEqual({ count: 8 });
  expect(found[0]!.description).toMatch(/^8 sources failed logins: 203\.0\.113\.1, /);
});

test('novelty with warmup: news only once the device has shown enough keys', () => {
  const newUser = rule({
    id: 'test.new-user',
    description: 'first failure for {user}',
    match: [BAD_PASSWORD],
    detect: { novelty: { key: ['user'], warmup: 2 } },
  });
  const lines: [number, string][] = ['root', 'admin', 'root', 'backup', 'backup'].map((u, i) => [
    i * 1000,
    bad('192.0.2.7', u),
  ]);
  expect(run([newUser], lines).map((f) => f.description)).toEqual(['first failure for backup']);
});

test('absence: a WAN down that stays down is reported once, after `within`, even when the device falls silent', () => {
  const down = rule({
    id: 'test.wan-down',
    agent: 'system',
    description: 'interface {iface} down for {within}',
    // netifd interface-event.c / interface.c: "Interface '%s' is now down" and "... is now up"
    match: [{ programs: ['netifd'], pattern: "^Interface '(?<iface>[^']+)' is now down" }],
    detect: {
      absence: {
        until: [{ programs: ['netifd'], pattern: "^Interface '(?<iface>[^']+)' is now up" }],
        within: '10m',
        groupBy: ['iface'],
      },
    },
  });
  const flap: [number, string][] = [
    [0, "netifd: Interface 'wan' is now down"],
    [2 * MINUTE, "netifd: Interface 'wan' is now up"],
  ];
  const stays: [number, string][] = [
    [0, "netifd: Interface 'wan6' is now down"],
    // Another program of another agent keeps time moving: the system agent hears nothing more.
    ...[5, 10, 15, 20, 25].map((m): [number, string] => [
      m * MINUTE,
      `dropbear[9]: Child connection from 192.0.2.1:5${m}`,
    ]),
  ];
  const book = new RuleBook(
    buildRuleSet(compilePacks([{ origin: 't', document: { pack: 't', rules: [down] } }])),
    5 * MINUTE,
  );
  const engine = new AnalysisEngine([withRules(systemAgent, book), withRules(authAgent, book)], {
    windowMs: 5 * MINUTE,
  });
  expect(run([down], flap, { agent: systemAgent })).toEqual([]);
  const found = run([down], stays, { book, engine });
  expect(found.map((f) => [f.description, f.windowEnd])).toEqual([
    ['interface wan6 down for 10m', '2026-03-02T10:10:00.000Z'],
  ]);
});

test('baseline: a rate far above the device’s own usual', () => {
  const rate = rule({
    id: 'test.rate',
    description: '{count} failures in a window',
    match: [BAD_PASSWORD],
    detect: { baseline: { minimum: 10 } },
  });
  const lines: [number, string][] = [];
  for (let w = 0; w < 14; w++) lines.push([w * 5 * MINUTE + 1000, bad('192.0.2.7')]);
  for (let i = 0; i < 40; i++) lines.push([14 * 5 * MINUTE + i * 1000, bad('192.0.2.7')]);
  const found = run([rate], lines);
  expect(found.map((f) => f.rule)).toEqual(['test.rate']);
  expect(found[0]!.features.count).toBe(40);
});

test('supersedes: a burst replaces the single events it is made of', () => {
  const single = rule({
    id: 'test.single',
    match: [BAD_PASSWORD],
    detect: { count: { threshold: 1, groupBy: ['source'] } },
  });
  const burst = rule({ ...bruteForce, id: 'test.burst', supersedes: ['test.single'] });
  const lines: [number, string][] = [];
  for (let i = 0; i < 6; i++) lines.push([i * 1000, bad('192.0.2.7')]);
  lines.push([7000, bad('198.51.100.9')]);
  const found = run([single, burst], lines);
  expect(found.map((f) => `${f.rule} ${f.description}`).sort()).toEqual([
    'test.burst 6 from 192.0.2.7',
    'test.single 1 from 198.51.100.9',
  ]);
});

test('tuning: overrides, turning off, and the allowlist (CIDR, device, user)', () => {
  const lines: [number, string][] = [];
  for (let i = 0; i < 6; i++) lines.push([i * 1000, bad('192.0.2.7')]);
  for (let i = 0; i < 6; i++) lines.push([i * 1000, bad('10.1.2.3', 'backup')]);
  expect(run([bruteForce], lines).map((f) => f.description)).toEqual([
    '6 from 192.0.2.7',
    '6 from 10.1.2.3',
  ]);
  expect(
    run([bruteForce], lines, {
      tuning: { overrides: [{ rule: 'test.brute-force', threshold: 7 }] },
    }),
  ).toEqual([]);
  expect(run([bruteForce], lines, { tuning: { disabled: ['test.brute-force'] } })).toEqual([]);
  expect(
    run([bruteForce], lines, { tuning: { allow: { sources: ['10.0.0.0/8'] } } }).map(
      (f) => f.description,
    ),
  ).toEqual(['6 from 192.0.2.7']);
  expect(
    run([bruteForce], lines, { tuning: { allow: { users: ['backup'] } } }).map(
      (f) => f.description,
    ),
  ).toEqual(['6 from 192.0.2.7']);
  expect(run([bruteForce], lines, { tuning: { allow: { devices: ['gw-home'] } } })).toEqual([]);
});

test('swapping the rules keeps what the detectors had counted', () => {
  const compiled = compilePacks([{ origin: 't', document: { pack: 't', rules: [bruteForce] } }]);
  const book = new RuleBook(buildRuleSet(compiled), 5 * MINUTE);
  const engine = new AnalysisEngine([withRules(authAgent, book)], { windowMs: 5 * MINUTE });
  const three: [number, string][] = [0, 1, 2].map((s) => [s * 1000, bad('192.0.2.7')]);
  expect(run([], three, { book, engine })).toEqual([]);
  book.replace(buildRuleSet(compiled, { overrides: [{ rule: 'test.brute-force', threshold: 4 }] }));
  engine.reroute();
  const found = run([], [[3000, bad('192.0.2.7')]], { book, engine });
  expect(found.map((f) => f.description)).toEqual(['4 from 192.0.2.7']);
});

test('the engine state saves and restores the detectors’ memory', () => {
  const compiled = compilePacks([{ origin: 't', document: { pack: 't', rules: [bruteForce] } }]);
  const first = new AnalysisEngine(
    [withRules(authAgent, new RuleBook(buildRuleSet(compiled), 5 * MINUTE))],
    { windowMs: 5 * MINUTE },
  );
  run(
    [],
    [0, 1, 2].map((s): [number, string] => [s * 1000, bad('192.0.2.7')]),
    { engine: first },
  );
  const saved = JSON.parse(JSON.stringify(first.saveState())) as unknown;
  const second = new AnalysisEngine(
    [withRules(authAgent, new RuleBook(buildRuleSet(compiled), 5 * MINUTE))],
    { windowMs: 5 * MINUTE },
  );
  second.loadState(saved);
  const found = run(
    [],
    [3, 4].map((s): [number, string] => [s * 1000, bad('192.0.2.7')]),
    { engine: second },
  );
  expect(found.map((f) => f.description)).toEqual(['5 from 192.0.2.7']);
});

test('an agent state saved before rules existed still loads', () => {
  const engine = new AnalysisEngine([authAgent], { windowMs: 5 * MINUTE });
  run([], [[0, "dropbear[1]: Password auth succeeded for 'root' from 192.0.2.1:2222"]], { engine });
  const wrapped = new AnalysisEngine([withRules(authAgent, RuleBook.empty(5 * MINUTE))], {
    windowMs: 5 * MINUTE,
  });
  wrapped.loadState(JSON.parse(JSON.stringify(engine.saveState())));
  expect(wrapped.saveState().agents.auth!['gw-home']!.memory).toMatchObject({
    inner: ['192.0.2.1'],
  });
});

describe('refusals name the rule and the field', () => {
  const refused = (rules: unknown[], tuning?: RulesTuning): RuleError => {
    try {
      buildRuleSet(
        compilePacks([{ origin: 'mine.yaml', document: { pack: 'mine', rules } }]),
        tuning,
      );
    } catch (error) {
      if (error instanceof RuleError) return error;
      throw error;
    }
    throw new Error('accepted');
  };

  test('a pattern that does not compile', () => {
    const e = refused([
      rule({ id: 'x.bad', match: [{ pattern: '(unclosed' }], detect: { count: { threshold: 1 } } }),
    ]);
    expect(e.message).toMatch(
      /^rule x\.bad \(mine\.yaml\): match\[0\]\.pattern: Invalid regular expression/,
    );
  });

  test('a capture the detector needs that a pattern lacks', () => {
    const e = refused([
      rule({
        id: 'x.cap',
        match: [{ pattern: 'from (?<src>\\S+)' }],
        detect: { count: { threshold: 1, groupBy: ['source'] } },
      }),
    ]);
    expect(e.message).toBe(
      'rule x.cap (mine.yaml): match[0].pattern: has no named capture (?<source>…), which the detector uses',
    );
  });

  test('a field of the wrong shape, by the schema', () => {
    const e = refused([
      rule({ id: 'x.shape', match: [BAD_PASSWORD], detect: { count: { threshold: 0 } } }),
    ]);
    expect(e.message).toMatch(
      /^rule x\.shape \(mine\.yaml\): detect\.count\.threshold: Invalid value: 0/,
    );
    const missing = refused([{ id: 'x.missing', agent: 'auth' }]);
    expect(missing.message).toMatch(/^rule x\.missing \(mine\.yaml\): type: Required value/);
  });

  test('two rules with one id, and tuning that names no rule', () => {
    expect(refused([bruteForce, bruteForce]).message).toBe(
      'rule test.brute-force (mine.yaml): id: already defined in mine.yaml',
    );
    expect(refused([bruteForce], { overrides: [{ rule: 'nope', threshold: 2 }] }).message).toBe(
      'tuning: spec.rules.overrides[0].rule: no rule has the id "nope"',
    );
    expect(
      refused([bruteForce], { overrides: [{ rule: 'test.brute-force', within: '5m' }] }).message,
    ).toBe('rule test.brute-force: spec.rules.overrides[0].within: a count rule has no within');
    const expires = '2030-01-01T00:00:00Z';
    expect(
      refused([bruteForce], { suppressions: [{ rule: 'nope', device: 'gw-1', expires }] }).message,
    ).toBe('tuning: spec.rules.suppressions[0].rule: no rule has the id "nope"');
    expect(refused([bruteForce], { allow: { sources: ['10.0.0.0/33'] } }).message).toBe(
      'allowlist: spec.rules.allow.sources[0]: "10.0.0.0/33" is not an address or a CIDR network',
    );
  });
});

test('count: a threshold above what a key keeps one by one still fires (the oldest merge)', () => {
  const flood = rule({
    ...bruteForce,
    id: 'test.flood',
    detect: { count: { threshold: 1000, window: '10m', groupBy: ['source'] } },
  });
  const lines: [number, string][] = [];
  for (let i = 0; i < 1000; i++) lines.push([i * 100, bad('192.0.2.7')]);
  const found = run([flood], lines.slice(0, 999));
  expect(found).toEqual([]);
  expect(run([flood], lines).map((f) => f.description)).toEqual(['1000 from 192.0.2.7']);
});
