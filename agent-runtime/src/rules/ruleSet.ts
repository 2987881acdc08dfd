// The rules an agent runs, as the engine needs them: the packs' rules with the AnalysisAgent's
// tuning applied (rules turned off or on, thresholds and windows overridden), indexed by agent
// and program, the allowlist and the suppressions. Pure: built from compiled rules and the
// spec's `rules`.
import { BlockList } from 'node:net';

import { parseDuration } from '../../../api/src/duration.js';
import type { AnalysisAgentSpec } from '../../../api/src/generated/types.js';
import type { AgentName } from '../agents/types.js';
import { RuleError, type CompiledRule, type Detector } from './ruleTypes.js';
import { addNetwork, sourceInside, sourceNetwork } from './sourceNetworks.js';
import { Suppressions } from './suppressions.js';

/** spec.rules of an AnalysisAgent (api/schema/analysisagent.yaml). */
export type RulesTuning = NonNullable<AnalysisAgentSpec['rules']>;

/** The rules of one agent, by the programs their patterns are tried on. */
export interface AgentRules {
  rules: CompiledRule[];
  byId: Map<string, CompiledRule>;
  /** Rules judged every window, matched or not. */
  baselines: CompiledRule[];
  byProgram: Map<string, CompiledRule[]>;
  /** Rules with a matcher that takes the agent's own programs (no programs of its own). */
  anyProgram: CompiledRule[];
  /** Programs some rule reads that the agent itself may not. */
  programs: Set<string>;
}

export class Allowlist {
  private readonly sources = new BlockList();
  private readonly devices: Set<string>;
  private readonly users: Set<string>;
  readonly empty: boolean;

  constructor(allow: RulesTuning['allow'] = {}) {
    (allow.sources ?? []).forEach((entry, i) =>
      addNetwork(this.sources, sourceNetwork(entry, 'allowlist', `spec.rules.allow.sources[${i}]`)),
    );
    this.devices = new Set(allow.devices ?? []);
    this.users = new Set(allow.users ?? []);
    this.empty = !allow.sources?.length && this.devices.size === 0 && this.users.size === 0;
  }

  device(device: string): boolean {
    return this.devices.has(device);
  }

  /** Whether a match's captures name an allowed source address or user. */
  captures(captures: Readonly<Record<string, string | undefined>>): boolean {
    const user = captures.user;
    if (user !== undefined && this.users.has(user)) return true;
    return sourceInside(this.sources, captures.source);
  }
}

export interface RuleSet {
  /** Every rule, as tuned (off ones too, for `rules explain`). */
  all: CompiledRule[];
  byAgent: Map<AgentName, AgentRules>;
  allow: Allowlist;
  /** spec.rules.suppressions, compiled: findings not to report, applied after the engine. */
  suppressions: Suppressions;
}

export function buildRuleSet(compiled: readonly CompiledRule[], tuning: RulesTuning = {}): RuleSet {
  const byId = new Map(compiled.map((r) => [r.id, r]));
  const known = (id: string, field: string): CompiledRule => {
    const rule = byId.get(id);
    if (!rule) throw new RuleError('tuning', field, `no rule has the id "${id}"`);
    return rule;
  };
  const tuned = new Map(compiled.map((r) => [r.id, { ...r }]));
  (tuning.enabled ?? []).forEach(
    (id, i) => (tuned.get(known(id, `spec.rules.enabled[${i}]`).id)!.enabled = true),
  );
  (tuning.disabled ?? []).forEach(
    (id, i) => (tuned.get(known(id, `spec.rules.disabled[${i}]`).id)!.enabled = false),
  );
  (tuning.overrides ?? []).forEach((o, i) => {
    const rule = tuned.get(known(o.rule, `spec.rules.overrides[${i}].rule`).id)!;
    rule.detector = override(rule.detector, o, `spec.rules.overrides[${i}]`, rule.id);
    if (o.severity !== undefined) rule.severity = o.severity as CompiledRule['severity'];
  });
  // A suppression of a rule that does not exist would silence nothing, and say nothing: refused
  // like the other tuning that names no rule (a typo, or a rule renamed by a pack update).
  (tuning.suppressions ?? []).forEach((s, i) =>
    known(s.rule, `spec.rules.suppressions[${i}].rule`),
  );
  const all = [...tuned.values()];
  const byAgent = new Map<AgentName, AgentRules>();
  for (const rule of all) {
    if (!rule.enabled) continue;
    let entry = byAgent.get(rule.agent);
    if (!entry)
      byAgent.set(
        rule.agent,
        (entry = {
          rules: [],
          byId: new Map(),
          baselines: [],
          byProgram: new Map(),
          anyProgram: [],
          programs: new Set(),
        }),
      );
    entry.rules.push(rule);
    entry.byId.set(rule.id, rule);
    if (rule.detector.kind === 'baseline') entry.baselines.push(rule);
    const matchers =
      rule.detector.kind === 'absence' ? [...rule.match, ...rule.detector.until] : rule.match;
    const programs = new Set<string>();
    let any = false;
    for (const m of matchers) {
      if (m.programs === null) any = true;
      else for (const p of m.programs) programs.add(p);
    }
    if (any) entry.anyProgram.push(rule);
    for (const p of programs) {
      entry.programs.add(p);
      // A rule listed under its program and in anyProgram would see a line twice.
      if (!any) entry.byProgram.set(p, [...(entry.byProgram.get(p) ?? []), rule]);
    }
  }
  return {
    all,
    byAgent,
    allow: new Allowlist(tuning.allow),
    suppressions: new Suppressions(tuning.suppressions),
  };
}

function override(
  d: Detector,
  o: NonNullable<RulesTuning['overrides']>[number],
  field: string,
  id: string,
): Detector {
  const refuse = (what: string): never => {
    throw new RuleError(`rule ${id}`, `${field}.${what}`, `a ${d.kind} rule has no ${what}`);
  };
  const ms = (text: string, what: string): number => {
    const v = parseDuration(text);
    if (v === undefined || v < 1000)
      throw new RuleError(
        `rule ${id}`,
        `${field}.${what}`,
        `"${text}" is not a duration of 1s or more`,
      );
    return v;
  };
  const next = { ...d } as Detector & { threshold?: number; windowMs?: number; withinMs?: number };
  if (o.threshold !== undefined) {
    if (d.kind !== 'count' && d.kind !== 'distinct') refuse('threshold');
    next.threshold = o.threshold;
  }
  if (o.window !== undefined) {
    if (d.kind !== 'count' && d.kind !== 'distinct') refuse('window');
    next.windowMs = ms(o.window, 'window');
  }
  if (o.within !== undefined) {
    if (d.kind !== 'absence') refuse('within');
    next.withinMs = ms(o.within, 'within');
  }
  return next;
}
