// Both directions of compatibility with the outside training environment, with the real
// scikit-learn and skl2onnx (training/requirements.txt) and the real CLI:
//  - a scikit-learn Pipeline(StandardScaler, IsolationForest) fitted on the agent's features
//    and exported with skl2onnx loads through the agent's model loader and scores in
//    onnxruntime-node as scikit-learn's own score_samples does (to 1e-5);
//  - our trainer's model and scikit-learn's, fitted on the same windows, agree on what is
//    anomalous on a labelled set (ROC-AUC side by side);
//  - the scikit-learn model rolled out as a ModelDeployment delivers it (installModel, its
//    bytes with the manifest.json its source names) scores exactly as from its folder.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { fleetLog, type InjectedAttack } from '../../agent-runtime/src/demo/fleet.js';
import { builtInAgents } from '../../agent-runtime/src/agents/registry.js';
import type { AgentName } from '../../agent-runtime/src/agents/types.js';
import { installModel } from '../../agent-runtime/src/model/install.js';
import { LoadedModel, type ModelManifest } from '../../agent-runtime/src/model/model.js';
import { pythonForChecks } from '../services/python.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WINDOW_MS = 300_000;
let dir: string;
let python: string;
let attacks: InjectedAttack[];

function cli(args: string[]): string {
  const r = spawnSync('node', [path.join(root, 'bin/edgewarden.js'), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`edgewarden ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  python = pythonForChecks();
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-sklearn-'));
  const sample = (
    await readFile(path.join(root, 'agent-runtime/data/openwrt/logread-sample.log'), 'utf8')
  )
    .split('\n')
    .filter(Boolean);
  // Training: background only. Evaluation: another fleet, other seed, with attacks.
  const background = fleetLog(sample, { routers: 20, hours: 24, seed: 11, attacksPerRouterDay: 0 });
  const labelled = fleetLog(sample, { routers: 20, hours: 24, seed: 12, attacksPerRouterDay: 4 });
  attacks = labelled.attacks;
  await writeFile(path.join(dir, 'train.log'), background.lines.join('\n') + '\n');
  await writeFile(path.join(dir, 'test.log'), labelled.lines.join('\n') + '\n');
});

afterAll(() => rm(dir, { recursive: true, force: true }));

function readCsv(text: string): { keys: [string, string][]; rows: number[][] } {
  const lines = text.trim().split('\n').slice(1);
  return {
    keys: lines.map((l) => l.split(',', 2) as [string, string]),
    rows: lines.map((l) => l.split(',').slice(2).map(Number)),
  };
}

function rocAuc(scores: number[], labels: boolean[]): number {
  const pos = scores.filter((_, i) => labels[i]);
  const neg = scores.filter((_, i) => !labels[i]);
  // Mann–Whitney U over ranks, ties shared.
  const all = scores.map((s, i) => ({ s, l: labels[i] })).sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (all[k]!.l) rankSum += rank;
    i = j;
  }
  return (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

const worstOf = (a: number[], b: number[]): number =>
  Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));

async function scoresOf(modelDir: string, rows: number[][]): Promise<number[]> {
  const model = await LoadedModel.load(modelDir);
  try {
    return await model.score(rows);
  } finally {
    await model.retire();
  }
}

describe.each(['wifi', 'dns', 'system'])('%s', (agent) => {
  test('scikit-learn and edgewarden models: same scores through our loader (from a folder and rolled out), same verdicts', async () => {
    const trainCsv = path.join(dir, `${agent}-train.csv`);
    const testCsv = path.join(dir, `${agent}-test.csv`);
    await writeFile(
      trainCsv,
      cli(['features', '--agent', agent, '--input', path.join(dir, 'train.log')]),
    );
    const testText = cli(['features', '--agent', agent, '--input', path.join(dir, 'test.log')]);
    await writeFile(testCsv, testText);
    const test = readCsv(testText);

    const skDir = path.join(dir, `${agent}-sklearn`);
    const skScores = path.join(dir, `${agent}-sklearn-scores.json`);
    const r = spawnSync(
      python,
      [
        path.join(root, 'training/train_sklearn.py'),
        ...['--agent', agent, '--features', trainCsv, '--out', skDir],
        ...['--score', testCsv, '--scores-out', skScores, '--seed', '3'],
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`train_sklearn.py: ${r.stderr}`);
    const sklearn = JSON.parse(await readFile(skScores, 'utf8')) as number[];

    // 1. skl2onnx's model, through the agent's loader, in onnxruntime-node.
    const loaded = await scoresOf(skDir, test.rows);
    expect(loaded).toHaveLength(sklearn.length);
    const worst = Math.max(...loaded.map((s, i) => Math.abs(-s - sklearn[i]!)));
    expect(worst).toBeLessThan(1e-5);

    // 1b. The same model rolled out: what an agent installs from a ModelDeployment's offer, its
    // bytes and the manifest.json its source names (manifestKey). skl2onnx's first output is
    // `label`; only the manifest's `output` makes the agent read `scores`, as from the folder.
    const manifest = JSON.parse(
      await readFile(path.join(skDir, 'manifest.json'), 'utf8'),
    ) as ModelManifest;
    const offered = {
      version: manifest.version,
      agent,
      features: manifest.features,
      threshold: manifest.threshold,
      sha256: manifest.sha256,
      bytes: await readFile(path.join(skDir, 'model.onnx')),
      manifest,
    };
    const installDir = path.join(dir, `${agent}-installed`);
    await mkdir(installDir);
    const { model: rolledOut } = await installModel(installDir, offered, {
      agent,
      available: builtInAgents[agent as AgentName].features,
      golden: [],
    });
    const flagged = (scores: number[]): number =>
      scores.filter((x) => x >= manifest.threshold).length;
    try {
      const scores = await rolledOut!.score(test.rows);
      expect({ flagged: flagged(scores), worst: worstOf(scores, loaded) }).toEqual({
        flagged: flagged(loaded),
        worst: 0,
      });
    } finally {
      await rolledOut!.retire();
    }

    // 2. Ours, trained by the CLI on the same windows, against scikit-learn's on the labels.
    const ourDir = path.join(dir, `${agent}-edgewarden`);
    cli([
      'train',
      '--agent',
      agent,
      '--input',
      path.join(dir, 'train.log'),
      '--out',
      ourDir,
      '--seed',
      '3',
    ]);
    const ours = await scoresOf(ourDir, test.rows);
    const labels = test.keys.map(([device, start]) => {
      const from = Date.parse(start);
      return attacks.some(
        (a) =>
          a.scenario.agent === agent &&
          a.device === device &&
          a.start < from + WINDOW_MS &&
          a.end >= from,
      );
    });
    const positives = labels.filter(Boolean).length;
    expect(positives).toBeGreaterThanOrEqual(5);
    const aucOurs = rocAuc(ours, labels);
    const aucSklearn = rocAuc(loaded, labels);
    console.log(
      `${agent}: ${test.rows.length} windows, ${positives} attacked; ROC-AUC edgewarden ${aucOurs.toFixed(3)}, ` +
        `scikit-learn ${aucSklearn.toFixed(3)}; worst |score difference| through the loader ${worst.toExponential(2)}; ` +
        `flagged at the threshold, from the folder and rolled out alike: ${flagged(loaded)}`,
    );
    expect(aucOurs).toBeGreaterThan(0.8);
    expect(aucSklearn).toBeGreaterThan(0.8);
    expect(Math.abs(aucOurs - aucSklearn)).toBeLessThan(0.06);
  }, 180_000);
});
