// `edgewarden rules`: the detection rules (docs/rules.md). `test` runs every rule's examples,
// `explain` says which rules a line sets off and why, `list` prints the rules in force.
import { readFileSync } from 'node:fs';

import { observedLine, runExamples } from '../../agent-runtime/src/rules/ruleExamples.js';
import { describeDetector, explainLine } from '../../agent-runtime/src/rules/explainLine.js';
import { compilePacks } from '../../agent-runtime/src/rules/packFiles.js';
import { packSources } from '../../agent-runtime/src/rules/ruledAgents.js';
import type { CompiledRule } from '../../agent-runtime/src/rules/ruleTypes.js';
import { defineCommand, type Fail, type Values } from './options.js';
import { renderTable } from './table.js';

const options = {
  rules: {
    type: 'string',
    value: 'FILE',
    multiple: true,
    help: 'a pack of your own, beside the built-in ones (repeat for several)',
  },
  output: { type: 'string', value: 'table|json', default: 'table', help: "list's format" },
} as const;

async function load(files: string[]): Promise<CompiledRule[] | number> {
  try {
    return compilePacks(await packSources(files));
  } catch (error) {
    console.error(`edgewarden rules: refused: ${(error as Error).message}`);
    return 2;
  }
}

async function test(files: string[]): Promise<number> {
  const rules = await load(files);
  if (typeof rules === 'number') return rules;
  const result = runExamples(rules);
  for (const f of result.failures) console.log(`FAIL ${f.rule}: ${f.problem}\n     ${f.line}`);
  const verdict = result.failures.length === 0 ? 'ok' : `${result.failures.length} failed`;
  console.log(`${verdict}: ${result.rules} rules, ${result.examples} examples`);
  return result.failures.length === 0 ? 0 : 1;
}

async function explain(lines: string[], files: string[], fail: Fail): Promise<number> {
  const rules = await load(files);
  if (typeof rules === 'number') return rules;
  const input =
    lines.length === 1 && lines[0] === '-'
      ? readFileSync(0, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
      : lines;
  if (input.length === 0) return fail('explain: give a line (or - to read them from stdin)');
  let code = 0;
  for (const text of input) {
    console.log(text);
    const line = observedLine(text);
    if (typeof line === 'string') {
      console.log(`  the parser cannot read it: ${line}\n`);
      code = 1;
      continue;
    }
    const r = line.record;
    console.log(
      `  parsed: program=${r.program ?? '-'} level=${r.level ?? '-'} host=${r.host ?? '-'} message=${JSON.stringify(r.message)}`,
    );
    const verdicts = explainLine(rules, line);
    if (verdicts.length === 0) console.log(`  no rule reads program ${r.program ?? '(none)'}`);
    for (const v of verdicts.sort((a, b) => Number(b.matched) - Number(a.matched)))
      console.log(
        `  ${v.matched ? 'MATCH' : 'no   '} ${v.rule}${v.enabled ? '' : ' (off)'}: ${v.reason}${v.matched ? `; fires at ${v.detector}` : ''}`,
      );
    console.log('');
  }
  return code;
}

async function list(files: string[], output: string): Promise<number> {
  const rules = await load(files);
  if (typeof rules === 'number') return rules;
  const rows = rules.map((r) => ({
    id: r.id,
    agent: r.agent,
    type: r.type,
    severity: r.severity,
    enabled: r.enabled,
    detector: describeDetector(r.detector),
    pack: r.pack,
  }));
  if (output === 'json') console.log(JSON.stringify(rows, null, 2));
  else
    console.log(
      renderTable(
        ['RULE', 'AGENT', 'TYPE', 'SEVERITY', 'ON', 'FIRES AT', 'PACK'],
        rows.map((r) => [
          r.id,
          r.agent,
          r.type,
          String(r.severity),
          r.enabled ? 'yes' : 'no',
          r.detector,
          r.pack,
        ]),
      ),
    );
  return 0;
}

async function run(
  values: Values<typeof options>,
  positionals: string[],
  fail: Fail,
): Promise<number> {
  const [sub, ...rest] = positionals;
  const files = values.rules;
  switch (sub) {
    case 'test':
      return test([...files, ...rest]);
    case 'explain':
      return explain(rest, files, fail);
    case 'list':
      if (values.output !== 'table' && values.output !== 'json')
        return fail('--output: must be table or json');
      return list(files, values.output);
    default:
      return fail(sub ? `unknown subcommand "${sub}"` : 'a subcommand is required');
  }
}

export const rulesCommand = defineCommand({
  name: 'rules',
  synopsis: [
    'edgewarden rules test [FILE…]',
    'edgewarden rules explain [--rules FILE]… LINE…',
    'edgewarden rules list [--rules FILE]… [--output table|json]',
  ],
  about: `  test      compiles the built-in rule packs and the pack FILEs given, and runs every rule's
            examples: each match line must set the rule off (with every capture its detector
            uses), each noMatch line must not. Exit 1 if any fails, 2 if a pack is refused.
  explain   parses each LINE (any shape \`edgewarden parse\` reads; - reads lines from
            standard input) and says, for every rule that reads its program, whether it
            matches, with what captures, or why not
  list      the rules: id, agent, type, severity, what sets them off`,
  options,
  positionals: true,
  run,
});
