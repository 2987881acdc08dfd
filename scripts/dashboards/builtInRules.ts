// The agents the built-in rule packs (agent-runtime/rules/*.yaml) give rules, read from the packs
// themselves, so that an agent's dashboard has a rules panel exactly when it can show something.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

// scripts/dashboards/ -> the repository, from source (../..) and from dist/scripts/dashboards (../../..)
const repoRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  import.meta.url.includes('/dist/') ? '../../..' : '../..',
);

/** The agents some built-in rule pack (agent-runtime/rules/) gives a rule, read from the packs. */
export function agentsWithBuiltInRules(): Set<string> {
  const dir = path.join(repoRoot, 'agent-runtime/rules');
  const agents = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const pack = parseYaml(readFileSync(path.join(dir, file), 'utf8')) as {
      rules: { agent: string }[];
    };
    for (const rule of pack.rules) agents.add(rule.agent);
  }
  return agents;
}
