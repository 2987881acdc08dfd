// `edgewarden train`: fits an agent's anomaly model on logs or ExportJob output and writes a
// model directory (model.onnx + manifest.json) that agents, `analyze --model` and a
// ModelDeployment can serve. `edgewarden features` prints the same windows' features, for
// training elsewhere (scikit-learn) or for a look.

import { agentNames, builtInAgents, isAgentName } from '../../agent-runtime/src/agents/registry.js';
import type { AgentName } from '../../agent-runtime/src/agents/types.js';
import { parseDuration } from '../../api/src/duration.js';
import { readRecords } from '../../agent-runtime/src/trainer/records.js';
import { printable } from '../../agent-runtime/src/parse/lines.js';
import { train } from '../../agent-runtime/src/trainer/train.js';
import { extractWindows } from '../../agent-runtime/src/trainer/windows.js';
import { lineOptions, timezoneProblem } from './lineOptions.js';
import { defineCommand, type Fail, type Values } from './options.js';

const inputOptions = {
  agent: { type: 'string', value: 'NAME', help: `${agentNames.join(', ')} (required)` },
  input: {
    type: 'string',
    value: 'FILE',
    multiple: true,
    help: 'raw syslog, or ExportJob output (JSONL, JSON, CSV), gzip or not; repeat for several files (required)',
  },
  interval: {
    type: 'string',
    value: 'DURATION',
    default: '5m',
    help: "window length, as the agent's interval",
  },
  ...lineOptions,
} as const;

const trainOptions = {
  ...inputOptions,
  out: { type: 'string', value: 'DIR', help: 'where to write the model (required)' },
  trees: { type: 'string', value: 'N', default: '100', help: 'trees in the forest' },
  'sample-size': { type: 'string', value: 'N', default: '256', help: 'rows per tree, ψ' },
  contamination: {
    type: 'string',
    value: 'C',
    default: '0.01',
    help: 'share of training windows taken as anomalous: sets the threshold',
  },
  seed: { type: 'string', value: 'S', default: '1', help: 'random seed' },
  version: {
    type: 'string',
    value: 'V',
    help: "the model's version (default <agent>-<sha256 prefix>)",
  },
} as const;

interface Common {
  agent: AgentName;
  inputs: string[];
  windowMs: number;
  host?: string;
  timezone?: string;
}

function common(values: Values<typeof inputOptions>): Common | string {
  const agent = values.agent;
  if (agent === undefined) return '--agent is required';
  if (!isAgentName(agent)) return `--agent: unknown agent "${agent}"`;
  const inputs = values.input;
  if (inputs.length === 0) return '--input is required';
  const windowMs = parseDuration(values.interval);
  if (windowMs === undefined || windowMs < 1000)
    return `--interval: not a duration of at least 1s: ${values.interval}`;
  const timezone = values.timezone;
  const badZone = timezoneProblem(timezone);
  if (badZone) return badZone;
  return { agent, inputs, windowMs, host: values.host, timezone };
}

const positive = (v: string, integer: boolean): number | undefined => {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)) ? n : undefined;
};

async function runTrain(
  values: Values<typeof trainOptions>,
  _positionals: string[],
  fail: Fail,
): Promise<number> {
  const c = common(values);
  if (typeof c === 'string') return fail(c);
  if (values.out === undefined) return fail('--out is required');
  const trees = positive(values.trees, true);
  if (trees === undefined || trees > 10_000) return fail('--trees: must be an integer 1 to 10000');
  const sampleSize = positive(values['sample-size'], true);
  if (sampleSize === undefined || sampleSize < 2)
    return fail('--sample-size: must be an integer of at least 2');
  const contamination = positive(values.contamination, false);
  if (contamination === undefined || contamination >= 0.5)
    return fail('--contamination: must be above 0 and below 0.5');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    return fail('--seed: must be an integer 0 to 4294967295');
  let unreadable = 0;
  try {
    const result = await train({
      agent: c.agent,
      inputs: c.inputs,
      out: values.out,
      trees,
      sampleSize,
      contamination,
      seed,
      windowMs: c.windowMs,
      version: values.version,
      timeZone: c.timezone,
      defaultHost: c.host,
      onUnreadable(file, n, reason) {
        if (++unreadable <= 20) console.error(`${file}: record ${n}: ${printable(reason)}`);
      },
    });
    const m = result.manifest;
    const mb = (process.resourceUsage().maxRSS / 1024).toFixed(0);
    console.log(
      `trained ${m.agent} model ${m.version} on ${result.windows} windows ` +
        `(${result.input.records} records, ${result.input.unreadable} unreadable) ` +
        `in ${result.seconds.total.toFixed(2)} s (read ${result.seconds.read.toFixed(2)} s, ` +
        `fit ${result.seconds.fit.toFixed(2)} s), peak RSS ${mb} MB\n` +
        `  features  ${m.features.join(', ')}\n` +
        `  threshold ${m.threshold} (contamination ${contamination})\n` +
        `  wrote     ${values.out}/model.onnx (sha256 ${m.sha256}), ${values.out}/manifest.json`,
    );
    return 0;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    console.error(`edgewarden train: ${e.code === 'ENOENT' ? `cannot read ${e.path}` : e.message}`);
    return 1;
  }
}

const csvField = (v: string | number): string =>
  typeof v === 'number' || !/[",\r\n]/.test(v) ? String(v) : `"${v.replace(/"/g, '""')}"`;

async function runFeatures(
  values: Values<typeof inputOptions>,
  _positionals: string[],
  fail: Fail,
): Promise<number> {
  const c = common(values);
  if (typeof c === 'string') return fail(c);
  try {
    const set = await extractWindows(
      builtInAgents[c.agent],
      readRecords(c.inputs, { timeZone: c.timezone, defaultHost: c.host }),
      c.windowMs,
    );
    const lines = [['device', 'window_start', ...set.features].join(',')];
    set.rows.forEach((row, i) => {
      const k = set.keys[i]!;
      lines.push([k.device, k.windowStart, ...row].map(csvField).join(','));
    });
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    console.error(
      `edgewarden features: ${e.code === 'ENOENT' ? `cannot read ${e.path}` : e.message}`,
    );
    return 1;
  }
}

export const trainCommand = defineCommand({
  name: 'train',
  synopsis: ['edgewarden train --agent NAME --input FILE... --out DIR [options]'],
  about: `Extracts the agent's window features with the agent's own code, fits an Isolation Forest and
writes DIR/model.onnx (standard ONNX) and DIR/manifest.json. Deterministic for a given seed.`,
  options: trainOptions,
  run: runTrain,
});

export const featuresCommand = defineCommand({
  name: 'features',
  synopsis: ['edgewarden features --agent NAME --input FILE... [options]'],
  about: `Prints the features of every window the agent closes over the input, as CSV with a header
(device, window_start, then the features in the model's order), computed by the agent's own
code: what \`edgewarden train\` fits on, for training with other tools.`,
  options: inputOptions,
  run: runFeatures,
});
