// Models with real onnxruntime-node: loading and its refusals, and hot reload while scoring.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { logisticRegressionOnnx } from '../../../test/fixtures/onnx.js';
import { builtInAgents } from '../agents/registry.js';
import type { Anomaly } from '../agents/types.js';
import { analyzeLines } from '../analyze/analyzeLines.js';
import { LoadedModel, ModelError } from './model.js';
import { ModelWatcher, type ModelStatus } from './modelWatcher.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-model-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const features = ['failures', 'users', 'sources'];
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Writes a model and its manifest; `manifest` overrides fields, `bytes` the model file. */
async function writeModel(
  version: string,
  weights: number[],
  options: { manifest?: Record<string, unknown>; bytes?: Uint8Array } = {},
): Promise<void> {
  const bytes = options.bytes ?? logisticRegressionOnnx(weights, -1);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await writeFile(path.join(dir, 'model.onnx'), bytes);
  await writeFile(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      version,
      agent: 'auth',
      features,
      threshold: 0.8,
      sha256,
      ...options.manifest,
    }),
  );
}

async function refusal(): Promise<ModelError> {
  const error = await LoadedModel.load(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelError);
  return error as ModelError;
}

test("a valid model scores batches of rows in the manifest's feature order", async () => {
  await writeModel('1', [0.5, 1, -1]);
  const model = await LoadedModel.load(dir);
  expect(model.manifest).toMatchObject({ version: '1', agent: 'auth', features, threshold: 0.8 });
  const rows = [model.row({ failures: 2, users: 1, sources: 0 }), model.row({ sources: 3 })];
  expect(rows).toEqual([
    [2, 1, 0],
    [0, 0, 3],
  ]);
  const scores = await model.score(rows);
  expect(scores[0]).toBeCloseTo(sigmoid(0.5 * 2 + 1 - 1), 5);
  expect(scores[1]).toBeCloseTo(sigmoid(-3 - 1), 5);
  await model.retire();
});

test('a model whose bytes do not match the manifest is refused', async () => {
  await writeModel('1', [1, 1, 1], { manifest: { sha256: 'a'.repeat(64) } });
  expect(await refusal()).toMatchObject({ reason: 'ChecksumMismatch' });
});

test('a model that takes another number of features is refused', async () => {
  await writeModel('1', [1, 1]); // two inputs, three features in the manifest
  const error = await refusal();
  expect(error.reason).toBe('InputShapeMismatch');
  expect(error.message).toContain('does not take 3 features (failures, users, sources)');
});

test('bytes that are not a model are refused', async () => {
  await writeModel('1', [], { bytes: Uint8Array.from([0x08, 0x07, 0x42, 0x13, 0x37]) });
  expect(await refusal()).toMatchObject({ reason: 'InvalidModel' });
});

test.each([
  [{ version: 'v 1' }, 'version:'],
  [{ agent: 'ntp' }, 'agent:'],
  [{ features: [] }, 'features:'],
  [{ threshold: 2 }, 'threshold:'],
  [{ threshold: undefined }, 'threshold: Required value'],
  [{ extra: true }, 'extra: unknown field'],
])('a manifest with %j is refused, naming the field', async (manifest, field) => {
  await writeModel('1', [1, 1, 1], { manifest });
  const error = await refusal();
  expect(error.reason).toBe('ManifestInvalid');
  expect(error.message).toContain(field);
});

test('hot reload: a new version swaps in while scoring runs; a corrupt one is refused and the old serves on', async () => {
  await writeModel('1', [0, 0, 0]);
  const changes: ModelStatus[] = [];
  const watcher = new ModelWatcher(dir, { pollMs: 100, onChange: (s) => changes.push(s) });
  await watcher.start();
  expect(watcher.status()).toMatchObject({ version: '1' });

  // Scoring keeps running, as agent cycles would, through every swap.
  let running = true;
  let scored = 0;
  const errors: unknown[] = [];
  const load = (async () => {
    while (running) {
      try {
        const model = watcher.current()!;
        await model.score([[1, 2, 3]]);
        scored++;
      } catch (error) {
        errors.push(error);
      }
      await new Promise((r) => setImmediate(r));
    }
  })();

  const until = async (what: () => boolean): Promise<void> => {
    for (let i = 0; i < 100 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(what()).toBe(true);
  };
  await writeModel('2', [1, 1, 1]);
  await until(() => watcher.status().version === '2');
  expect(await watcher.current()!.score([[0, 0, 0]])).toEqual([expect.closeTo(sigmoid(-1), 5)]);

  // A corrupt model with a matching checksum gets past the first check and is refused by the loader.
  await writeModel('3', [], { bytes: Uint8Array.from([1, 2, 3, 4, 5, 6]) });
  await until(() => watcher.status().lastFailure !== undefined);
  expect(watcher.status()).toMatchObject({ version: '2', lastFailure: { reason: 'InvalidModel' } });
  expect(watcher.current()!.manifest.version).toBe('2');

  running = false;
  await load;
  expect(errors).toEqual([]);
  expect(scored).toBeGreaterThan(0);
  // A poll between writing a model and its manifest may see a checksum mismatch for a moment
  // (and keep the old model serving): the versions served only ever move forward.
  expect(changes[0]?.version).toBe('1');
  expect(changes.map((c) => c.version).filter((v, i, all) => v !== all[i - 1])).toEqual(['1', '2']);
  expect(changes.at(-1)).toMatchObject({ version: '2', lastFailure: { reason: 'InvalidModel' } });
  await watcher.stop();
});

test('the poll finds a change without a watch event', async () => {
  await writeModel('1', [1, 1, 1]);
  const watcher = new ModelWatcher(dir, { pollMs: 50, watch: false });
  await watcher.start();
  await writeModel('2', [2, 2, 2]);
  for (let i = 0; i < 100 && watcher.status().version !== '2'; i++)
    await new Promise((r) => setTimeout(r, 50));
  expect(watcher.status().version).toBe('2');
  await watcher.stop();
});

test("analysis scores each closed window of the model's agent, and reports windows past the threshold", async () => {
  const bytes = logisticRegressionOnnx([0.5, 0], -1);
  await writeFile(path.join(dir, 'model.onnx'), bytes);
  await writeFile(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      version: '2026.11.1',
      agent: 'auth',
      features: ['failures', 'failure_sources'],
      threshold: 0.8,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    }),
  );
  const model = await LoadedModel.load(dir);
  const line = (minute: number, i: number): string =>
    `<86>Nov 23 10:${String(minute).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} gw dropbear[1]: Bad password attempt for 'root' from 203.0.113.9:${1000 + i}`;
  // One failure in the first window (score sigmoid(-0.5)), forty in the third (sigmoid(19)).
  const lines = [line(0, 0), ...Array.from({ length: 40 }, (_, i) => line(11, i))];
  const found: Anomaly[] = [];
  await analyzeLines([lines.map((l, i) => [i + 1, l] as [number, string])], {
    agents: [builtInAgents.auth],
    models: { auth: model },
    windowMs: 300_000,
    referenceTime: new Date('2026-11-23T12:00:00Z'),
    onAnomaly: (a) => found.push(a),
  });
  const scored = found.filter((a) => a.type === 'model_score');
  expect(scored).toEqual([
    expect.objectContaining({
      agent: 'auth',
      device: 'gw',
      severity: 4,
      windowStart: '2026-11-23T10:10:00.000Z',
      features: { failures: 40, failure_sources: 1 },
      description: 'model 2026.11.1 scored this window 1.00 (threshold 0.8)',
    }),
  ]);
  // The agent's own code found nothing here (brute force is a rule pack's; see rules/): the
  // model speaks for the window on its own.
  expect(found.map((a) => a.type).sort()).toEqual(['model_score']);
  await model.retire();
});
