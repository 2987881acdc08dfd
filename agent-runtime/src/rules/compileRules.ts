// Rule packs (parsed YAML) to compiled rules: checked against the pack schema, patterns
// compiled, every capture a detector names present in every pattern, ids unique. Pure: the
// caller reads the files. Any problem refuses the whole set with a RuleError naming the rule
// and the field, so a half-loaded set never runs.
import { Ajv, type ValidateFunction } from 'ajv';

import { parseDuration } from '../../../api/src/duration.js';
import { schemaIssueOf } from '../../../api/src/validate.js';
import { LEVELS } from '../parse/priority.js';
import { requiredLiterals } from './requiredLiteral.js';
import {
  neededCaptures,
  RuleError,
  type CompiledRule,
  type Detector,
  type Matcher,
  type MatcherSpec,
  type RulePack,
  type RuleSpec,
} from './ruleTypes.js';

/** A pack as read, with where it came from (a file, a ConfigMap key) for messages. */
export interface PackSource {
  origin: string;
  document: unknown;
}

let validatePack: ValidateFunction | undefined;

/** The pack schema (api/schema/rules/rulepack.yaml, parsed), compiled once per process. */
export function usePackSchema(schema: object): void {
  validatePack = new Ajv({ allErrors: true, strict: true, verbose: true }).compile(schema);
}

export function compileRules(sources: readonly PackSource[]): CompiledRule[] {
  if (!validatePack) throw new Error('compileRules: usePackSchema() first');
  const out: CompiledRule[] = [];
  const packs = new Map<string, string>();
  const ids = new Map<string, string>();
  for (const { origin, document } of sources) {
    const pack = checkShape(origin, document);
    const earlier = packs.get(pack.pack);
    if (earlier)
      throw new RuleError(origin, 'pack', `"${pack.pack}" is also the name of ${earlier}`);
    packs.set(pack.pack, origin);
    for (const spec of pack.rules) {
      const where = `rule ${spec.id} (${origin})`;
      const other = ids.get(spec.id);
      if (other) throw new RuleError(where, 'id', `already defined in ${other}`);
      ids.set(spec.id, origin);
      out.push(compileRule(spec, pack.pack, where));
    }
  }
  for (const rule of out)
    for (const [i, id] of rule.supersedes.entries())
      if (!ids.has(id))
        throw new RuleError(`rule ${rule.id}`, `supersedes[${i}]`, `no rule has the id "${id}"`);
  return out;
}

function checkShape(origin: string, document: unknown): RulePack {
  if (validatePack!(document)) return document as RulePack;
  const error = validatePack!.errors![0]!;
  const issue = schemaIssueOf(error);
  // "rules[3].detect.count.threshold" reads better as "rule ssh.brute-force: detect.count.threshold".
  const inRule = /^rules\[(\d+)\]\.?(.*)$/.exec(issue.field);
  const rules = (document as { rules?: { id?: unknown }[] } | null)?.rules;
  const id = inRule ? rules?.[Number(inRule[1])]?.id : undefined;
  if (inRule && typeof id === 'string')
    throw new RuleError(`rule ${id} (${origin})`, inRule[2] || '(rule)', issue.message);
  throw new RuleError(origin, issue.field || '(pack)', issue.message);
}

function compileRule(spec: RuleSpec, pack: string, where: string): CompiledRule {
  const match = spec.match.map((m, i) => compileMatcher(m, where, `match[${i}]`));
  const detector = compileDetector(spec, where);
  const needed = neededCaptures({ detector });
  requireCaptures(match, needed, where, 'match');
  if (detector.kind === 'absence')
    requireCaptures(detector.until, detector.groupBy, where, 'detect.absence.until');
  return {
    id: spec.id,
    pack,
    agent: spec.agent,
    type: spec.type,
    description: spec.description,
    match,
    detector,
    severity: spec.severity,
    escalate: spec.escalate ?? false,
    confidence: spec.confidence ?? 0.8,
    feature: spec.feature ?? 'count',
    supersedes: spec.supersedes ?? [],
    enabled: spec.enabled ?? true,
    remediation: spec.remediation,
    references: spec.references ?? [],
    format: spec.format,
    examples: spec.examples,
  };
}

export function compileMatcher(spec: MatcherSpec, where: string, field: string): Matcher {
  let pattern: RegExp;
  try {
    pattern = new RegExp(spec.pattern);
  } catch (error) {
    throw new RuleError(where, `${field}.pattern`, (error as Error).message);
  }
  return {
    programs: spec.programs ? new Set(spec.programs) : null,
    pattern,
    literals: requiredLiterals(spec.pattern),
    maxLevel: spec.level ? LEVELS.indexOf(spec.level) : LEVELS.length - 1,
  };
}

function compileDetector(spec: RuleSpec, where: string): Detector {
  const duration = (text: string | undefined, field: string): number | undefined => {
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined || ms < 1000 || ms > 31 * 86_400_000)
      throw new RuleError(where, field, `"${text}" is not a duration between 1s and 31 days`);
    return ms;
  };
  const d = spec.detect;
  if ('count' in d)
    return {
      kind: 'count',
      threshold: d.count.threshold,
      windowMs: duration(d.count.window, 'detect.count.window'),
      groupBy: d.count.groupBy ?? [],
    };
  if ('distinct' in d)
    return {
      kind: 'distinct',
      field: d.distinct.field,
      threshold: d.distinct.threshold,
      windowMs: duration(d.distinct.window, 'detect.distinct.window'),
      groupBy: d.distinct.groupBy ?? [],
    };
  if ('novelty' in d) return { kind: 'novelty', key: d.novelty.key, warmup: d.novelty.warmup ?? 0 };
  if ('absence' in d)
    return {
      kind: 'absence',
      until: d.absence.until.map((m, i) => compileMatcher(m, where, `detect.absence.until[${i}]`)),
      withinMs: duration(d.absence.within, 'detect.absence.within')!,
      groupBy: d.absence.groupBy ?? [],
    };
  return { kind: 'baseline', minimum: d.baseline.minimum };
}

const NAMED_GROUP = /\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g;

/** Every pattern must capture every name the detector groups or counts by. */
function requireCaptures(matchers: Matcher[], names: string[], where: string, field: string): void {
  matchers.forEach((m, i) => {
    const has = new Set([...m.pattern.source.matchAll(NAMED_GROUP)].map((g) => g[1]!));
    const missing = names.filter((n) => !has.has(n));
    if (missing.length > 0)
      throw new RuleError(
        where,
        `${field}[${i}].pattern`,
        `has no named capture ${missing.map((n) => `(?<${n}>…)`).join(', ')}, which the detector uses`,
      );
  });
}
