// Installing offered models with real onnxruntime-node and real files: a good offer becomes
// current at once; a wrong checksum, corrupt bytes, the wrong width or another agent's model
// are refused by name while the previous version keeps serving; a restarted agent serves what
// was current; going back to an earlier version is one more install.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { logisticRegressionOnnx } from '../../../test/fixtures/onnx.js';
import { installModel, uninstallModel, type ModelOffer } from './install.js';
import { ModelError } from './model.js';
import { ModelWatcher } from './modelWatcher.js';

let dir: string;
let watcher: ModelWatcher;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-install-'));
  watcher = new ModelWatcher(dir, { watch: false, pollMs: 60_000 });
  await watcher.start();
});
afterEach(async () => {
  await watcher.stop();
  await rm(dir, { recursive: true, force: true });
});

const features = ['failures', 'successes', 'failure_sources'];
const available = ['lines', ...features];
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function offer(version: string, weights: number[], extra: Partial<ModelOffer> = {}): ModelOffer {
  const bytes = logisticRegressionOnnx(weights, -1);
  return { version, agent: 'auth', features, threshold: 0.8, sha256: sha(bytes), bytes, ...extra };
}

async function install(o: ModelOffer): Promise<void> {
  try {
    const { model } = await installModel(dir, o, { agent: 'auth', available, golden: [] });
    await watcher.adopt(model!);
  } catch (error) {
    if (error instanceof ModelError) watcher.refused(error);
    throw error;
  }
}

async function refusedWith(o: ModelOffer): Promise<string> {
  const error = await install(o).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelError);
  return (error as ModelError).reason;
}

test('a good offer is served at once, from versions/<id> behind the current link', async () => {
  const v1 = offer('v1', [1, 0, 0]);
  await install(v1);
  expect(watcher.status()).toMatchObject({ version: 'v1', sha256: v1.sha256 });
  const link = await readlink(path.join(dir, 'current'));
  expect(link).toMatch(/^versions\/[0-9a-f]{32}$/);
  expect(await readdir(path.join(dir, link))).toEqual(['manifest.json', 'model.onnx']);
  const model = watcher.current()!;
  const [score] = await model.score([model.row({ failures: 3 })]);
  expect(score).toBeCloseTo(1 / (1 + Math.exp(-(3 - 1))), 5);
  // The watcher's own check finds nothing new: no second load.
  await watcher.check();
  expect(watcher.current()).toBe(model);
});

test('refused offers name their reason and change nothing that serves', async () => {
  await install(offer('v1', [1, 0, 0]));
  const serving = watcher.current();
  const before = await readdir(path.join(dir, 'versions'));

  const wrongSum = offer('v2', [2, 0, 0], { sha256: 'ab'.repeat(32) });
  expect(await refusedWith(wrongSum)).toBe('ChecksumMismatch');
  const junk = new Uint8Array(randomBytes(300));
  expect(await refusedWith(offer('v3', [1, 0, 0], { bytes: junk, sha256: sha(junk) }))).toBe(
    'InvalidModel',
  );
  expect(await refusedWith(offer('v4', [1, 0, 0], { features: ['failures', 'successes'] }))).toBe(
    'InputShapeMismatch',
  );
  expect(await refusedWith(offer('v5', [1, 0, 0], { features: ['failures', 'users', 'x'] }))).toBe(
    'FeatureMismatch',
  );
  expect(await refusedWith(offer('v6', [1, 0, 0], { agent: 'dns' }))).toBe('ManifestInvalid');

  expect(watcher.current()).toBe(serving);
  expect(watcher.status()).toMatchObject({
    version: 'v1',
    lastFailure: { reason: 'ManifestInvalid' },
  });
  // Nothing refused was left on disk.
  expect(await readdir(path.join(dir, 'versions'))).toEqual(before);
  expect(before).toHaveLength(1);
  // And what serves is intact on disk: a restarted agent loads it.
  const restarted = new ModelWatcher(dir, { watch: false, pollMs: 60_000 });
  await restarted.start();
  expect(restarted.status()).toMatchObject({ version: 'v1', lastFailure: undefined });
  await restarted.stop();
});

test('a restarted agent serves the installed version; going back is one more install', async () => {
  const v1 = offer('v1', [1, 0, 0]);
  await install(v1);
  await install(offer('v2', [0, 1, 0]));
  await install(offer('v3', [0, 0, 1]));
  await install(offer('v4', [1, 1, 0]));
  expect(watcher.status().version).toBe('v4');
  // Old versions are pruned to the newest one besides the current one.
  expect(await readdir(path.join(dir, 'versions'))).toHaveLength(2);

  await install(v1); // the rollback
  const restarted = new ModelWatcher(dir, { watch: false, pollMs: 60_000 });
  await restarted.start();
  try {
    expect(restarted.status()).toMatchObject({ version: 'v1', sha256: v1.sha256 });
  } finally {
    await restarted.stop();
  }
});

test('a dry run validates on the golden sample and changes nothing; uninstalling serves none', async () => {
  await install(offer('v1', [1, 0, 0]));
  const serving = watcher.current();
  const link = await readlink(path.join(dir, 'current'));
  // Windows with 0 and 5 failures: sigmoid(f - 1) flags the second (and not the zero row).
  const golden = [{ failures: 0 }, { failures: 5 }];
  const result = await installModel(dir, offer('v2', [1, 0, 0]), {
    agent: 'auth',
    available,
    golden,
    dryRun: true,
  });
  expect(result.model).toBeUndefined();
  expect(result.golden).toEqual({ rows: 3, flagged: 1 });
  expect(await readlink(path.join(dir, 'current'))).toBe(link);
  expect((await readdir(path.join(dir, 'versions'))).filter((e) => !e.startsWith('.'))).toEqual([
    link.split('/')[1],
  ]);
  await watcher.check();
  expect(watcher.current()).toBe(serving);

  await uninstallModel(dir);
  await watcher.unload();
  expect(watcher.current()).toBeUndefined();
  expect(watcher.status()).toEqual({});
  await watcher.check(); // nothing to load: it stays unloaded
  expect(watcher.current()).toBeUndefined();
});
