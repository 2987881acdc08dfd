// `edgewarden train`: fits an agent's anomaly model on logs or ExportJob output and writes a
// model directory (model.onnx + manifest.json) that agents, `analyze --model` and a
// ModelDeployment can serve. `edgewarden features` prints the same windows' features, for
// training elsewhere (scikit-learn) or for a look.
import { parseArgs } from 'node:util';

import { agentNames, builtInAgents, isAgentName } from '../../agent-runtime/src/agents/registry.js';
import type { AgentName } from '../../agent-runtime/src/agents/types.js';
import { parseDuration } from '../../api/src/duration.js';
import { readRecords } from '../../agent-runtime/src/trainer/records.js';
import { train } from '../../agent-runtime/src/trainer/train.js';
import { extractWindows } from '../../agent-runtime/src/trainer/windows.js';
import type { Command } from './command.js';

const inputHelp = `  --agent NAME          ${agentNames.join(', ')} (required)
  --input FILE          raw syslog, or ExportJob output (JSONL, JSON, CSV), gzip or not;
                        repeat for several files (required)
  --interval DURATION   window length, as the agent's interval (default 5m)
  --host NAME           device name for lines that carry none (default local)
  --timezone ZONE       IANA zone of timestamps that carry none (default UTC)`;

const trainUsage = `Usage: edgewarden train --agent NAME --input FILE... --out DIR [options]

Extracts the agent's window features with the agent's own code, fits an Isolation Forest and
writes DIR/model.onnx (standard ONNX) and DIR/manifest.json. Deterministic for a given seed.

Options:
${inputHelp}
  --out DIR             where to write the model (required)
  --trees N             trees in the forest (default 100)
  --sample-size N       rows per tree, ψ (default 256)
  --contamination C     share of training windows taken as anomalous: sets the threshold
                        (default 0.01)
  --seed S              random seed (default 1)
  --version V           the model's version (default <agent>-<sha256 prefix>)`;

const featuresUsage = `Usage: edgewarden features --agent NAME --input FILE... [options]

Prints the features of every window the agent closes over the input, as CSV with a header
(device, window_start, then the features in the model's order), computed by the agent's own
code: what \`edgewarden train\` fits on, for training with other tools.

Options:
${inputHelp}`;

interface Common {
  agent: AgentName;
  inputs: string[];
  windowMs: number;
  host?: string;
  timezone?: string;
}

function common(values: Record<string, unknown>): Common | string {
  const agent = values.agent as string | undefined;
  if (agent === undefined) return '--agent is required';
  if (!isAgentName(agent)) return `--agent: unknown agent "${agent}"`;
  const inputs = (values.input as string[] | undefined) ?? [];
  if (inputs.length === 0) return '--input is required';
  const windowMs = parseDuration(values.interval as string);
  if (windowMs === undefined || windowMs < 1000)
    return `--interval: not a duration of at least 1s: ${values.interval as string}`;
  const timezone = values.timezone as string | undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return `--timezone: unknown time zone: ${timezone}`;
  }
  return { agent, inputs, windowMs, host: values.host as string | undefined, timezone };
}

const inputOptions = {
  agent: { type: 'string' },
  input: { type: 'string', multiple: true },
  interval: { type: 'string', default: '5m' },
  host: { type: 'string' },
  timezone: { type: 'string' },
} as const;

const positive = (v: string, integer: boolean): number | undefined => {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)) ? n : undefined;
};

async function runTrain(args: string[]): Promise<number> {
  const fail = (message: string): number => {
    console.error(`edgewarden train: ${message}\n\n${trainUsage}`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        ...inputOptions,
        out: { type: 'string' },
        trees: { type: 'string', default: '100' },
        'sample-size': { type: 'string', default: '256' },
        contamination: { type: 'string', default: '0.01' },
        seed: { type: 'string', default: '1' },
        version: { type: 'string' },
      },
    }));
  } catch (error) {
    return fail((error as Error).message);
  }
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
        if (++unreadable <= 20) console.error(`${file}: record ${n}: ${reason}`);
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

async function runFeatures(args: string[]): Promise<number> {
  const fail = (message: string): number => {
    console.error(`edgewarden features: ${message}\n\n${featuresUsage}`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({ args, options: inputOptions }));
  } catch (error) {
    return fail((error as Error).message);
  }
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

export const trainCommand: Command = { usage: trainUsage, run: runTrain };
export const featuresCommand: Command = { usage: featuresUsage, run: runFeatures };
