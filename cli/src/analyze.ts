// `edgewarden analyze`: analyses a log file with no database and no cluster, and prints the
// anomalies the agents find.
import type { Readable } from 'node:stream';

import { agentNames, builtInAgents, isAgentName } from '../../agent-runtime/src/agents/registry.js';
import type { Agent, AgentName, Anomaly } from '../../agent-runtime/src/agents/types.js';
import { ruledAgents } from '../../agent-runtime/src/rules/ruledAgents.js';
import { analyzeLines } from '../../agent-runtime/src/analyze/analyzeLines.js';
import { parseDuration } from '../../api/src/duration.js';
import { baselineModelDir } from '../../agent-runtime/src/model/baselines.js';
import type { LoadedModel } from '../../agent-runtime/src/model/model.js';
import { openInput, readLines } from '../../agent-runtime/src/parse/lines.js';
import { lineOptions, timezoneProblem } from './lineOptions.js';
import { defineCommand, type Fail, type Values } from './options.js';
import { anomalyTable } from './table.js';

const options = {
  input: {
    type: 'string',
    value: 'FILE|-',
    help: 'file to read, or - for standard input (required)',
  },
  agent: {
    type: 'string',
    value: 'NAME|all',
    default: 'all',
    help: `${agentNames.join(', ')}, or all`,
  },
  format: {
    type: 'string',
    value: 'jsonl|table',
    default: 'table',
    help: 'one JSON anomaly per line, or a table',
  },
  model: {
    type: 'string',
    value: 'DIR|baseline',
    multiple: true,
    help:
      'an ONNX model directory (model.onnx, manifest.json) for the agent its manifest names; ' +
      'repeat for several agents. `baseline` loads the shipped models (models/) of the agents ' +
      'that have one',
  },
  interval: { type: 'string', value: 'DURATION', default: '5m', help: 'analysis window, e.g. 5m' },
  rules: {
    type: 'string',
    value: 'FILE',
    multiple: true,
    help: 'a rule pack of your own (docs/rules.md), beside the built-in packs; repeat for several',
  },
  'no-packs': { type: 'boolean', help: "run the agents' own code only, without any rule pack" },
  'min-severity': {
    type: 'string',
    value: 'N',
    default: '1',
    help: 'print anomalies of at least this severity, 1-5',
  },
  ...lineOptions,
} as const;

interface Settings {
  input: string;
  names: readonly AgentName[];
  format: 'jsonl' | 'table';
  windowMs: number;
  minSeverity: number;
}

/** What the options ask for, or what is wrong with them. */
function settings(values: Values<typeof options>): Settings | string {
  if (values.input === undefined) return '--input is required';
  const agent = values.agent;
  if (agent !== 'all' && !isAgentName(agent)) return `--agent: unknown agent "${agent}"`;
  const format = values.format;
  if (format !== 'jsonl' && format !== 'table') return `--format: must be jsonl or table`;
  const windowMs = parseDuration(values.interval);
  if (windowMs === undefined || windowMs < 1000)
    return `--interval: not a duration of at least 1s: ${values.interval}`;
  const minSeverity = Number(values['min-severity']);
  if (!Number.isInteger(minSeverity) || minSeverity < 1 || minSeverity > 5)
    return '--min-severity: must be 1 to 5';
  const badZone = timezoneProblem(values.timezone);
  if (badZone) return badZone;
  const names = agent === 'all' ? agentNames : [agent];
  return { input: values.input, names, format, windowMs, minSeverity };
}

/** The models of --model, each for an agent of this run; an exit code when one is refused. */
async function loadModels(
  modelOptions: string[],
  agents: Agent[],
  fail: Fail,
): Promise<Partial<Record<AgentName, LoadedModel>> | number> {
  const models: Partial<Record<AgentName, LoadedModel>> = {};
  const dirs = modelOptions.flatMap((d) =>
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
  return models;
}

async function run(
  values: Values<typeof options>,
  _positionals: string[],
  fail: Fail,
): Promise<number> {
  const asked = settings(values);
  if (typeof asked === 'string') return fail(asked);
  const { windowMs, minSeverity } = asked;
  let agents: Agent[];
  try {
    agents = values['no-packs']
      ? asked.names.map((n) => builtInAgents[n])
      : (await ruledAgents(asked.names, { windowMs, extraFiles: values.rules })).agents;
  } catch (error) {
    console.error(`edgewarden analyze: --rules: refused: ${(error as Error).message}`);
    return 2;
  }
  const models = await loadModels(values.model, agents, fail);
  if (typeof models === 'number') return models;

  let input: Readable;
  try {
    input = await openInput(asked.input);
  } catch (error) {
    console.error(
      `edgewarden analyze: --input: cannot read ${asked.input}: ${(error as Error).message}`,
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
      if (asked.format === 'jsonl') process.stdout.write(JSON.stringify(a) + '\n');
      else found.push(a);
    },
  });
  const served = Object.values(models).map((m) => m.manifest.version);
  for (const model of Object.values(models)) await model.retire();
  if (asked.format === 'table') console.log(anomalyTable(found));
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `analyzed ${summary.lines} lines (${summary.unreadable} unreadable) in ${seconds.toFixed(2)} s: ` +
      `${summary.anomalies} anomalies in ${summary.windows} agent windows` +
      `${served.length > 0 ? `; models ${served.join(', ')}` : ''}\n`,
  );
  return 0;
}

export const analyzeCommand = defineCommand({
  name: 'analyze',
  synopsis: ['edgewarden analyze --input FILE|- [options]'],
  about: `Analyses syslog lines (any shape \`edgewarden parse\` reads) with the built-in agents and
prints what they find. Nothing is stored; no database or cluster is needed.`,
  options,
  run,
});
