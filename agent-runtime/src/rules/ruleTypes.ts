// Rule packs as written (YAML, checked against api/schema/rules/rulepack.yaml), and rules as
// compiled for the engine. docs/rules.md describes the format for users.
import type { AgentName } from '../agents/types.js';

export type SyslogLevel =
  'emerg' | 'alert' | 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug';

export interface MatcherSpec {
  programs?: string[];
  pattern: string;
  level?: SyslogLevel;
}

export interface CountSpec {
  threshold: number;
  window?: string;
  groupBy?: string[];
}

export interface DistinctSpec {
  field: string;
  threshold: number;
  window?: string;
  groupBy?: string[];
}

export interface NoveltySpec {
  key: string[];
  warmup?: number;
}

export interface AbsenceSpec {
  until: MatcherSpec[];
  within: string;
  groupBy?: string[];
}

export interface BaselineSpec {
  minimum: number;
}

export type DetectSpec =
  | { count: CountSpec }
  | { distinct: DistinctSpec }
  | { novelty: NoveltySpec }
  | { absence: AbsenceSpec }
  | { baseline: BaselineSpec };

export interface RuleSpec {
  id: string;
  agent: AgentName;
  type: string;
  description: string;
  match: MatcherSpec[];
  detect: DetectSpec;
  severity: 1 | 2 | 3 | 4 | 5;
  escalate?: boolean;
  confidence?: number;
  feature?: string;
  supersedes?: string[];
  enabled?: boolean;
  remediation: string;
  references?: string[];
  format: string;
  examples: { match: string[]; noMatch: string[] };
}

export interface RulePack {
  pack: string;
  description?: string;
  rules: RuleSpec[];
}

/** A matcher ready to run: programs as a set (null: the agent's own), the pattern compiled. */
export interface Matcher {
  programs: ReadonlySet<string> | null;
  pattern: RegExp;
  /** Texts of which every match contains one (requiredLiteral.ts): a line with none is not tried. */
  literals: string[] | undefined;
  /** Highest syslog level number taken (0 emerg … 7 debug); 7 takes every line. */
  maxLevel: number;
}

/** The detector with its durations in ms; windows left out take the agent's interval. */
export type Detector =
  | { kind: 'count'; threshold: number; windowMs?: number; groupBy: string[] }
  | { kind: 'distinct'; field: string; threshold: number; windowMs?: number; groupBy: string[] }
  | { kind: 'novelty'; key: string[]; warmup: number }
  | { kind: 'absence'; until: Matcher[]; withinMs: number; groupBy: string[] }
  | { kind: 'baseline'; minimum: number };

export interface CompiledRule {
  id: string;
  pack: string;
  agent: AgentName;
  type: string;
  description: string;
  match: Matcher[];
  detector: Detector;
  severity: 1 | 2 | 3 | 4 | 5;
  escalate: boolean;
  confidence: number;
  feature: string;
  supersedes: string[];
  enabled: boolean;
  remediation: string;
  references: string[];
  format: string;
  examples: { match: string[]; noMatch: string[] };
}

/** The captures a rule's detector needs from every line it counts. */
export function neededCaptures(rule: Pick<CompiledRule, 'detector'>): string[] {
  const d = rule.detector;
  switch (d.kind) {
    case 'count':
    case 'absence':
      return d.groupBy;
    case 'distinct':
      return [...d.groupBy, d.field];
    case 'novelty':
      return d.key;
    case 'baseline':
      return [];
  }
}

/** A rule or pack refused: which one, which field, and why (what users see). */
export class RuleError extends Error {
  readonly code = 'EW_RULE';
  constructor(
    readonly where: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${where}: ${field}: ${reason}`);
    this.name = 'RuleError';
  }
}
