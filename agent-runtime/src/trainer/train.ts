// `edgewarden train`: read logs or ExportJob output, extract the agent's window features with
// the agent's own code, fit an Isolation Forest, and write `model.onnx` and `manifest.json`.
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { builtInAgents } from '../agents/registry.js';
import type { AgentName } from '../agents/types.js';
import { ensureWritableFolder } from '../files/writableFolder.js';
import type { FeatureSummary, ModelManifest } from '../model/manifest.js';
import { IsolationForest } from './isolationForest.js';
import { readRecords, type InputStats } from './records.js';
import { extractWindows, type WindowSet } from './windows.js';

export interface TrainOptions {
  agent: AgentName;
  inputs: string[];
  out: string;
  trees: number;
  sampleSize: number;
  /** Share of training windows expected to be anomalous: the threshold's quantile. */
  contamination: number;
  seed: number;
  windowMs: number;
  /** Defaults to the agent's name and the model's sha256 prefix. */
  version?: string;
  timeZone?: string;
  defaultHost?: string;
  onUnreadable?: (file: string, n: number, reason: string) => void;
}

export interface TrainResult {
  manifest: ModelManifest;
  windows: number;
  input: InputStats;
  seconds: { read: number; fit: number; total: number };
}

/** The q-quantile (0..1) of sorted values, linearly interpolated (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

const round = (v: number): number => Number(v.toPrecision(7));

/** Per feature: moments, range and 101 quantiles (0%, 1%, ..., 100%), for drift checks. */
export function summarise(set: WindowSet): Record<string, FeatureSummary> {
  const out: Record<string, FeatureSummary> = {};
  set.features.forEach((name, f) => {
    const values = Float64Array.from(set.rows, (r) => r[f]!).sort();
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    out[name] = {
      count: n,
      mean: round(mean),
      std: round(Math.sqrt(variance)),
      quantiles: Array.from({ length: 101 }, (_, i) => round(quantile(values, i / 100))),
    };
  });
  return out;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const agent = builtInAgents[options.agent];
  const input: InputStats = { records: 0, unreadable: 0 };
  const set = await extractWindows(
    agent,
    readRecords(options.inputs, {
      stats: input,
      timeZone: options.timeZone,
      defaultHost: options.defaultHost,
      onUnreadable: options.onUnreadable,
    }),
    options.windowMs,
  );
  const read = performance.now();
  if (set.rows.length < 2)
    throw new Error(
      `only ${set.rows.length} ${options.agent} window(s) in the input: nothing to learn from ` +
        `(${input.records} records read, ${input.unreadable} unreadable)`,
    );
  const forest = IsolationForest.fit(set.rows, {
    trees: options.trees,
    sampleSize: options.sampleSize,
    seed: options.seed,
  });
  const scores = Float64Array.from(forest.score(set.rows)).sort();
  const threshold = round(quantile(scores, 1 - options.contamination));
  const fitted = performance.now();

  const bytes = forest.toOnnx({ agent: options.agent, features: set.features.join(',') });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const manifest: ModelManifest = {
    version: options.version ?? `${options.agent}-${sha256.slice(0, 12)}`,
    agent: options.agent,
    features: set.features,
    threshold,
    sha256,
    trainingRows: set.rows.length,
    timeRange: { from: set.from!, to: set.to! },
    windowSeconds: options.windowMs / 1000,
    createdAt: new Date().toISOString(),
    trainer: {
      name: 'edgewarden isolation forest',
      trees: options.trees,
      sampleSize: forest.sampleSize,
      contamination: options.contamination,
      seed: options.seed,
    },
    summary: summarise(set),
  };
  await ensureWritableFolder(options.out, {
    what: 'the trained model (model.onnx, manifest.json)',
    setting: '--out',
  });
  // Each file appears whole (written aside, then renamed); the manifest last, so a watching
  // agent never pairs a new manifest with an old model.
  const place = async (name: string, data: Uint8Array | string): Promise<void> => {
    const temporary = path.join(options.out, `.${name}.tmp`);
    await writeFile(temporary, data);
    await rename(temporary, path.join(options.out, name));
  };
  await place('model.onnx', bytes);
  await place('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  const done = performance.now();
  return {
    manifest,
    windows: set.rows.length,
    input,
    seconds: {
      read: (read - started) / 1000,
      fit: (fitted - read) / 1000,
      total: (done - started) / 1000,
    },
  };
}
