// Which of an agent's rules a line of a given program can set off, worked out once per program.
import type { AgentRules, Allowlist } from './ruleSet.js';
import type { CompiledRule, Matcher } from './ruleTypes.js';

export interface RunContext {
  rules: AgentRules;
  allow: Allowlist;
  /** The agent's interval: the window of rules that give none. */
  windowMs: number;
  /** The agent's own programs (null: all), which matchers without programs take. */
  ownPrograms: ReadonlySet<string> | null;
  /** Per program, the rules that read it with only their matchers that do (built on first sight). */
  prepared: Map<string, PreparedProgram>;
}

/**
 * The rules lines of one program meet, indexed by the literals their matchers require: one
 * scan of a line for all the literals at once names the few rules worth trying, so a line
 * holding none of them (most lines: a healthy router's chatter) costs one search, not one per
 * rule. Rules with a matcher that requires no literal are tried on every line.
 */
export interface PreparedProgram {
  rules: Prepared[];
  always: Prepared[];
  /** Every literal, global: exec() from each position finds each literal that occurs. */
  scan: RegExp | undefined;
  /** By literal: the rules it may set off, those of the literals inside it included. */
  byLiteral: Map<string, Prepared[]>;
}

/** A rule as lines of one program meet it. */
export interface Prepared {
  rule: CompiledRule;
  match: Matcher[];
  until: Matcher[];
}

const PREPARED_PROGRAMS = 1000; // beyond: worked out per line, not kept (tags are the sender's to choose)

export function preparedFor(ctx: RunContext, program: string): PreparedProgram {
  const known = ctx.prepared.get(program);
  if (known) return known;
  const reads = (m: Matcher): boolean => {
    const programs = m.programs ?? ctx.ownPrograms;
    return programs === null || programs.has(program);
  };
  const rules = [...(ctx.rules.byProgram.get(program) ?? []), ...ctx.rules.anyProgram]
    .map((rule) => ({
      rule,
      match: rule.match.filter(reads),
      until: rule.detector.kind === 'absence' ? rule.detector.until.filter(reads) : [],
    }))
    .filter((p) => p.match.length > 0 || p.until.length > 0);
  const always: Prepared[] = [];
  const direct = new Map<string, Prepared[]>();
  for (const p of rules) {
    const matchers = [...p.match, ...p.until];
    if (matchers.some((m) => m.literals === undefined)) {
      always.push(p);
      continue;
    }
    for (const literal of new Set(matchers.flatMap((m) => m.literals!)))
      direct.set(literal, [...(direct.get(literal) ?? []), p]);
  }
  // A literal found is also each literal inside it (the scan reports one per position).
  const byLiteral = new Map<string, Prepared[]>();
  for (const literal of direct.keys())
    byLiteral.set(literal, [
      ...new Set([...direct].filter(([l]) => literal.includes(l)).flatMap(([, ps]) => ps)),
    ]);
  // Longest first: at a position where two literals begin, the scan reports the longer, and
  // the shorter, a prefix of it, is among the literals inside it.
  const literals = [...direct.keys()].sort((a, b) => b.length - a.length);
  const scan =
    literals.length > 0 ? new RegExp(literals.map(escapeRegExp).join('|'), 'g') : undefined;
  const prepared = { rules, always, scan, byLiteral };
  if (ctx.prepared.size < PREPARED_PROGRAMS) ctx.prepared.set(program, prepared);
  return prepared;
}

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
