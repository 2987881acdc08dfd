// The built-in agents with the rule packs: what every program that analyses lines runs (the
// agent pod, `edgewarden analyze`, the demo, the benches), so a rule behaves the same in each.
import { builtInAgents } from '../agents/registry.js';
import type { Agent, AgentName } from '../agents/types.js';
import type { PackSource } from './compileRules.js';
import { BUILT_IN_PACKS, compilePacks, packFilesIn, readPacks } from './packFiles.js';
import { buildRuleSet, type RulesTuning } from './ruleSet.js';
import type { CompiledRule } from './ruleTypes.js';
import { RuleBook, withRules } from './withRules.js';

export interface RuledAgents {
  agents: Agent[];
  book: RuleBook;
  rules: CompiledRule[];
}

/** The built-in packs as read from disk, then any extra packs. */
export async function packSources(extraFiles: readonly string[] = []): Promise<PackSource[]> {
  return readPacks([...(await packFilesIn(BUILT_IN_PACKS)), ...extraFiles]);
}

export async function ruledAgents(
  names: readonly AgentName[],
  options: { windowMs: number; extraFiles?: readonly string[]; tuning?: RulesTuning },
): Promise<RuledAgents> {
  const rules = compilePacks(await packSources(options.extraFiles));
  const book = new RuleBook(buildRuleSet(rules, options.tuning), options.windowMs);
  return { agents: names.map((n) => withRules(builtInAgents[n], book)), book, rules };
}
