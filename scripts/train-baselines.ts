// Rebuilds the baseline models that ship in models/ from committed data only:
//   npm run models
// The training log is a fleet of 20 routers over 48 hours made from the real OpenWrt sample
// (agent-runtime/data/openwrt, background only, seed 1: demo/fleet.ts); each model is
// `edgewarden train` with the settings below. Deterministic: the same commit gives the same
// model.onnx, byte for byte (a test retrains and compares sha256).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { AgentName } from '../agent-runtime/src/agents/types.js';
import { fleetLog } from '../agent-runtime/src/demo/fleet.js';
import { sampleLog } from '../agent-runtime/src/demo/runDemo.js';
import { baselineModelsRoot } from '../agent-runtime/src/model/baselines.js';
import { train, type TrainResult } from '../agent-runtime/src/trainer/train.js';

/**
 * The agents whose committed data varies enough to learn from. auth and firewall run on their
 * rules and baselines until trained on a site's own logs: the real sample has three dropbear
 * lines and no firewall lines at all, so a model of them would know only "nothing happens".
 */
export const BASELINE_AGENTS: readonly AgentName[] = ['wifi', 'dns', 'system', 'template'];

export const BASELINE_SETTINGS = {
  trees: 100,
  sampleSize: 256,
  // The threshold sits at the 99.99th percentile of the background's windows: at 0.001 the
  // models raised 2.6 false alarms per 10,000 lines of held-out background, for no more
  // attacks found (bench/detection).
  contamination: 0.0001,
  seed: 1,
  windowMs: 300_000,
};

export const BASELINE_FLEET = { routers: 20, hours: 48, seed: 1, attacksPerRouterDay: 0 };

/** Trains every baseline model into `outRoot/<agent>/`. */
export async function trainBaselines(outRoot: string): Promise<TrainResult[]> {
  const sample = (await readFile(sampleLog, 'utf8')).split('\n').filter(Boolean);
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-baselines-'));
  try {
    const log = path.join(dir, 'fleet.log');
    await writeFile(log, fleetLog(sample, BASELINE_FLEET).lines.join('\n') + '\n');
    const results: TrainResult[] = [];
    for (const agent of BASELINE_AGENTS)
      results.push(
        await train({
          agent,
          inputs: [log],
          out: path.join(outRoot, agent),
          version: `${agent}-baseline-1`,
          ...BASELINE_SETTINGS,
        }),
      );
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const r of await trainBaselines(baselineModelsRoot))
    console.log(
      `${r.manifest.agent.padEnd(9)} ${r.windows} windows, threshold ${r.manifest.threshold}, ` +
        `sha256 ${r.manifest.sha256.slice(0, 16)}..., ${r.seconds.total.toFixed(2)} s -> models/${r.manifest.agent}/`,
    );
}
