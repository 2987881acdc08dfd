// A finding's captures (issue 21): the fired rule's groupBy (or novelty key) captures, strings
// only, at most 8, each at most 256 characters; the store keeps them, suppressions and alerts
// are scoped by them.
import { AnalysisEngine } from '../agents/engine.js';
import { authAgent } from '../agents/auth.js';
import type { Anomaly } from '../agents/types.js';
import { compilePacks } from './packFiles.js';
import { buildRuleSet } from './ruleSet.js';
import type { RuleSpec } from './ruleTypes.js';
import { RuleBook, withRules } from './withRules.js';
import { pushLines, rfc3339 } from '../../../test/fixtures/engineLines.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');

function rule(id: string, detect: RuleSpec['detect']): RuleSpec {
  return {
    id,
    agent: 'auth',
    type: id.replace(/\W/g, '_'),
    description: '{count} from {source}',
    severity: 3,
    remediation: 'look',
    format: 'test',
    examples: { match: ['x'], noMatch: ['y'] },
    match: [
      {
        programs: ['dropbear'],
        pattern: "^Bad password attempt for '(?<user>[^']*)' from (?<source>[^\\s:]+)",
      },
    ],
    detect,
  };
}

function run(rules: RuleSpec[], lines: string[]): Anomaly[] {
  const book = new RuleBook(
    buildRuleSet(compilePacks([{ origin: 'test', document: { pack: 'test', rules } }])),
    5 * MINUTE,
  );
  const engine = new AnalysisEngine([withRules(authAgent, book)], { windowMs: 5 * MINUTE });
  const raw = lines.map((text, i) => `<38>${rfc3339(T0 + i * 1000)} gw-home ${text}`);
  return pushLines(engine, raw, new Date(T0 + 86_400_000)).filter((a) => a.rule !== undefined);
}

const bad = (source: string, user = 'root') =>
  `dropbear[812]: Bad password attempt for '${user}' from ${source}:40022`;

test('the groupBy captures of the fired rule, and only those', () => {
  const lines = Array.from({ length: 6 }, () => bad('192.0.2.7'));
  const [bySource] = run(
    [rule('t.by-source', { count: { threshold: 5, window: '10m', groupBy: ['source'] } })],
    lines,
  );
  expect(bySource!.captures).toEqual({ source: '192.0.2.7' });
  const [byBoth] = run(
    [rule('t.by-both', { count: { threshold: 5, window: '10m', groupBy: ['user', 'source'] } })],
    lines,
  );
  expect(byBoth!.captures).toEqual({ user: 'root', source: '192.0.2.7' });
  // Grouped by nothing: nothing to scope by.
  const [whole] = run([rule('t.whole', { count: { threshold: 5, window: '10m' } })], lines);
  expect(whole!.captures).toBeUndefined();
});

test('a novelty rule’s key; a value longer than 256 characters is cut', () => {
  const long = 'u'.repeat(300);
  const found = run(
    [rule('t.new-user', { novelty: { key: ['user'], warmup: 1 } })],
    [bad('192.0.2.7', 'root'), bad('192.0.2.7', long)],
  );
  expect(found.map((f) => f.captures)).toEqual([{ user: 'u'.repeat(256) }]);
});
