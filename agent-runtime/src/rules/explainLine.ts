// Why a line does or does not set off each rule: for `edgewarden rules explain`. Pure.
import { builtInAgents } from '../agents/registry.js';
import type { ObservedLine } from '../agents/types.js';
import { LEVELS } from '../parse/priority.js';
import { humanDuration, MATCH_LIMIT } from './ruleRunner.js';
import type { CompiledRule, Detector, Matcher } from './ruleTypes.js';

export interface RuleVerdict {
  rule: string;
  agent: string;
  enabled: boolean;
  matched: boolean;
  /** What matched (the captures), or why nothing did. */
  reason: string;
  detector: string;
}

/** The rules that read the line's program, each with its verdict; rules that do not read it are left out. */
export function explainLine(rules: readonly CompiledRule[], line: ObservedLine): RuleVerdict[] {
  const out: RuleVerdict[] = [];
  for (const rule of rules) {
    const own = builtInAgents[rule.agent].programs;
    const program = line.record.program ?? '';
    const reads = (m: Matcher) => {
      const programs = m.programs ?? own;
      return programs === null || programs.has(program);
    };
    const matchers = rule.match.filter(reads);
    if (matchers.length === 0) continue;
    let reason = 'the pattern does not match the message';
    let matched = false;
    const text = line.record.message.slice(0, MATCH_LIMIT);
    for (const m of matchers) {
      const rank = LEVELS.indexOf((line.record.level ?? '') as (typeof LEVELS)[number]);
      if (m.maxLevel < 7 && (rank < 0 || rank > m.maxLevel)) {
        reason = `the line's level (${line.record.level ?? 'none'}) is below ${LEVELS[m.maxLevel]}`;
        continue;
      }
      const hit = m.pattern.exec(text);
      if (hit) {
        matched = true;
        const captures = Object.entries(hit.groups ?? {}).filter(([, v]) => v !== undefined);
        reason = `matches /${m.pattern.source}/${captures.length > 0 ? `: ${captures.map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`;
        break;
      }
    }
    out.push({
      rule: rule.id,
      agent: rule.agent,
      enabled: rule.enabled,
      matched,
      reason,
      detector: describeDetector(rule.detector),
    });
  }
  return out;
}

/** A detector in words: "5 or more within 10m, by source". */
export function describeDetector(d: Detector): string {
  const by = (g: string[]) => (g.length > 0 ? `, by ${g.join(', ')}` : ', per device');
  const window = (ms: number | undefined) =>
    ms === undefined ? 'the agent interval' : humanDuration(ms);
  switch (d.kind) {
    case 'count':
      return `${d.threshold} or more within ${window(d.windowMs)}${by(d.groupBy)}`;
    case 'distinct':
      return `${d.threshold} or more distinct ${d.field} within ${window(d.windowMs)}${by(d.groupBy)}`;
    case 'novelty':
      return `first time this device shows ${d.key.join(', ')}${d.warmup > 0 ? ` (once it has shown ${d.warmup})` : ''}`;
    case 'absence':
      return `not followed by its end within ${humanDuration(d.withinMs)}${by(d.groupBy)}`;
    case 'baseline':
      return `matches per window far above the device's usual (at least ${d.minimum})`;
  }
}
