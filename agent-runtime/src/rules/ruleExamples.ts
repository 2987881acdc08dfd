// Runs every rule's own examples: each `match` line must be taken by the rule (and give every
// capture its detector uses), each `noMatch` line must not. `edgewarden rules test` and
// `npm test` run it over the built-in packs, so a pattern edited out of step with its cited
// format is caught before it ships. Pure: lines are parsed here, nothing is read.
import { builtInAgents } from '../agents/registry.js';
import type { ObservedLine } from '../agents/types.js';
import { SyslogParser } from '../parse/syslog.js';
import { matchLine } from './ruleRunner.js';
import { neededCaptures, type CompiledRule } from './ruleTypes.js';

export interface ExampleFailure {
  rule: string;
  line: string;
  problem: string;
}

export interface ExamplesResult {
  rules: number;
  examples: number;
  failures: ExampleFailure[];
}

/** A line as an agent sees it, from any shape the parser reads. */
export function observedLine(text: string, ref: number | string = 1): ObservedLine | string {
  const parsed = new SyslogParser({ referenceTime: new Date('2026-12-31T00:00:00Z') }).parse(text);
  if (!parsed.ok) return parsed.reason;
  return {
    ref,
    device: parsed.record.host ?? 'example',
    time: parsed.time,
    record: parsed.record,
  };
}

export function runExamples(rules: readonly CompiledRule[]): ExamplesResult {
  const failures: ExampleFailure[] = [];
  let examples = 0;
  for (const rule of rules) {
    const ctx = { ownPrograms: builtInAgents[rule.agent].programs };
    const check = (line: string, wanted: boolean): void => {
      examples++;
      const observed = observedLine(line);
      if (typeof observed === 'string')
        return void failures.push({
          rule: rule.id,
          line,
          problem: `the parser cannot read it: ${observed}`,
        });
      const captures = matchLine(rule.match, ctx, observed);
      if (!wanted && captures)
        return void failures.push({
          rule: rule.id,
          line,
          problem: 'matches, but is a noMatch example',
        });
      if (wanted && !captures)
        return void failures.push({
          rule: rule.id,
          line,
          problem: `does not match (program ${observed.record.program ?? 'none'}, level ${observed.record.level ?? 'none'}, message "${observed.record.message.slice(0, 80)}")`,
        });
      if (wanted && captures) {
        const missing = neededCaptures(rule).filter((n) => !captures[n]);
        if (missing.length > 0)
          failures.push({
            rule: rule.id,
            line,
            problem: `matches without a value for ${missing.join(', ')}`,
          });
      }
    };
    for (const line of rule.examples.match) check(line, true);
    for (const line of rule.examples.noMatch) check(line, false);
  }
  return { rules: rules.length, examples, failures };
}
