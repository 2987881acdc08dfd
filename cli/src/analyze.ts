// `edgewarden analyze`: analyses a log file with no database and no cluster, and prints the
// anomalies the agents find.
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';

import { agentNames, builtInAgents, isAgentName } from '../../agent-runtime/src/agents/registry.js';
import type { Agent, AgentName, Anomaly } from '../../agent-runtime/src/agents/types.js';
import { ruledAgents } from '../../agent-runtime/src/rules/ruledAgents.js';
import { analyzeLines } from '../../agent-runtime/src/analyze/analyzeLines.js';
import { parseDuration } from '../../api/src/duration.js';
import { baselineModelDir } from '../../agent-runtime/src/model/baselines.js';
import type { LoadedModel } from '../../agent-runtime/src/model/model.js';
import { openInput, readLines } from '../../agent-runtime/src/parse/lines.js';
import type { Command } from './command.js';
import { anomalyTable } from './table.js';

const usage = `Usage: edgewarden analyze --input FILE|- [options]

Analyses syslog lines (any shape \`edgewarden parse\` reads) with the built-in agents and
prints what they find. Nothing is stored; no database or cluster is needed.

Options:
  --input FILE|-        file to read, or - for standard input (required)
  --agent NAME|all      ${agentNames.join(', ')}, or all (default all)
  --format jsonl|table  one JSON anomaly per line, or a table (default table)
  --model DIR|baseline  an ONNX model directory (model.onnx, manifest.json) for the agent
                        its manifest names; repeat for several agents. \`baseline\` loads
                        the shipped models (models/) of the agents that have one
  --interval DURATION   analysis window, e.g. 5m (default 5m)
  --rules FILE          a rule pack of your own (docs/rules.md), beside the built-in
                        packs; repeat for several
  --no-packs            run the agents' own code only, without any rule pack
  --min-severity N      print anomalies of at least this severity, 1-5 (default 1)
  --host NAME           device name for lines that carry none (default local)
  --timezone ZONE       IANA zone of timestamps that carry none (default UTC)`;

function fail(message: string): number {
  console.error(`edgewarden analyze: ${message}\n\n${usage}`);
  return 2;
}

async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        input: { type: 'string' },
        agent: { type: 'string', default: 'all' },
        format: { type: 'string', default: 'table' },
        interval: { type: 'string', default: '5m' },
        'min-severity': { type: 'string', default: '1' },
        host: { type: 'string' },
        timezone: { type: 'string' },
        model: { type: 'string', multiple: true },
        rules: { type: 'string', multiple: true },
        'no-packs': { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    return fail((error as Error).message);
  }
  if (values.input === undefined) return fail('--input is required');
  const agent = values.agent;
  if (agent !== 'all' && !isAgentName(agent)) return fail(`--agent: unknown agent "${agent}"`);
  if (values.format !== 'jsonl' && values.format !== 'table')
    return fail(`--format: must be jsonl or table`);
  const windowMs = parseDuration(values.interval);
  if (windowMs === undefined || windowMs < 1000)
    return fail(`--interval: not a duration of at least 1s: ${values.interval}`);
  const minSeverity = Number(values['min-severity']);
  if (!Number.isInteger(minSeverity) || minSeverity < 1 || minSeverity > 5)
    return fail('--min-severity: must be 1 to 5');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: values.timezone });
  } catch {
    return fail(`--timezone: unknown time zone: ${values.timezone}`);
  }

  const names = agent === 'all' ? agentNames : [agent];
  let agents: Agent[];
  try {
    agents = values['no-packs']
      ? names.map((n) => builtInAgents[n])
      : (await ruledAgents(names, { windowMs, extraFiles: values.rules ?? [] })).agents;
  } catch (error) {
    console.error(`edgewarden analyze: --rules: refused: ${(error as Error).message}`);
    return 2;
  }
  const models: Partial<Record<AgentName, LoadedModel>> = {};
  const dirs = (values.model ?? []).flatMap((d) =>
    d === 'baseline'
      ? agents.flatMap((a) => {
          const dir = baselineModelDir(a.name);
          return dir ? [dir] : [];
        })
      : [d],
  );
  for (const dir of dirs) {
    try {
      // onnxruntime is loaded only when a model is asked for.
      const { LoadedModel } = await import('../../agent-runtime/src/model/model.js');
      const model = await LoadedModel.load(dir);
      const served = model.manifest.agent;
      if (!agents.some((a) => a.name === served))
        return fail(`--model ${dir}: serves agent ${served}, which this run does not include`);
      models[served] = model;
    } catch (error) {
      console.error(`edgewarden analyze: --model ${dir}: refused: ${(error as Error).message}`);
      return 2;
    }
  }

  let input: Readable;
  try {
    input = await openInput(values.input);
  } catch (error) {
    console.error(
      `edgewarden analyze: --input: cannot read ${values.input}: ${(error as Error).message}`,
    );
    return 2;
  }

  const found: Anomaly[] = [];
  const started = performance.now();
  const summary = await analyzeLines(readLines(input), {
    agents,
    models,
    windowMs,
    defaultHost: values.host ?? 'local',
    timeZone: values.timezone,
    onAnomaly(a) {
      if (a.severity < minSeverity) return;
      if (values.format === 'jsonl') process.stdout.write(JSON.stringify(a) + '\n');
      else found.push(a);
    },
  });
  const served = Object.values(models).map((m) => m.manifest.version);
  for (const model of Object.values(models)) await model.retire();
  if (values.format === 'table') console.log(anomalyTable(found));
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `analyzed ${summary.lines} lines (${summary.unreadable} unreadable) in ${seconds.toFixed(2)} s: ` +
      `${summary.anomalies} anomalies in ${summary.windows} agent windows` +
      `${served.length > 0 ? `; models ${served.join(', ')}` : ''}\n`,
  );
  return 0;
}

export const analyzeCommand: Command = {
  usage,
  run,
};
