// Installing offered models with real onnxruntime-node and real files: a good offer becomes
// current at once; a wrong checksum, corrupt bytes, the wrong width or another agent's model
// are refused by name while the previous version keeps serving; a restarted agent serves what
// was current; going back to an earlier version is one more install; an offer with the
// model's manifest.json is served as the model's folder would be.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { logisticRegressionOnnx, twoOutputOnnx } from '../../../test/fixtures/onnx.js';
import { installModel, uninstallModel, type ModelOffer } from './install.js';
import { LoadedModel, ModelError } from './model.js';
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

describe("an offer with the model's manifest.json", () => {
  // A model shaped like skl2onnx's IsolationForest: `label` first, then `scores`, which is
  // higher for normal rows; its manifest says how to read it, as train_sklearn.py writes it.
  const bytes = twoOutputOnnx([-1, 0, -0.5], 2);
  const quantiles = Array.from({ length: 101 }, (_, i) => i / 20);
  const trained = {
    version: 'sk-1',
    agent: 'auth',
    features,
    threshold: 0.25,
    sha256: sha(bytes),
    output: { name: 'scores', scale: -1, shift: 0.5 },
    trainingRows: 500,
    summary: Object.fromEntries(
      features.map((f) => [f, { count: 500, mean: 1, std: 1, quantiles }]),
    ),
  };
  const rows = [
    [0, 0, 0],
    [1, 1, 0],
    [1, 0, 1],
    [6, 0, 4],
  ];
  const skOffer = (manifest: unknown, extra: Partial<ModelOffer> = {}): ModelOffer => ({
    version: 'sk-1',
    agent: 'auth',
    features,
    sha256: sha(bytes),
    bytes,
    manifest,
    ...extra,
  });

  test('scores as from its folder, at its threshold, and keeps its training summary for drift', async () => {
    const folder = path.join(dir, 'folder');
    await mkdir(folder);
    await writeFile(path.join(folder, 'model.onnx'), bytes);
    await writeFile(path.join(folder, 'manifest.json'), JSON.stringify(trained));
    const fromFolder = await LoadedModel.load(folder);
    const expected = await fromFolder.score(rows);
    await fromFolder.retire();
    // −scores + 0.5: the normal rows low, the odd one (6 failures) high.
    expect(expected.map((x) => Number(x.toFixed(3)))).toEqual([-1.5, -0.5, 0, 6.5]);

    await install(skOffer(trained));
    const served = watcher.current()!;
    expect(await served.score(rows)).toEqual(expected);
    expect(served.manifest).toMatchObject({
      version: 'sk-1',
      threshold: 0.25, // the offer has none: the manifest's
      output: trained.output,
      summary: trained.summary,
      trainingRows: 500,
    });
    // The offer's threshold and version win over the manifest's.
    await install(skOffer(trained, { version: 'sk-1b', threshold: 0.9 }));
    expect(watcher.current()!.manifest).toMatchObject({ version: 'sk-1b', threshold: 0.9 });

    // Without the manifest the same bytes are read by their first output, `label`: every
    // normal row scores 1 and would be flagged. That is why the manifest must travel.
    await install(skOffer(undefined, { version: 'sk-bare', threshold: 0.25 }));
    expect(await watcher.current()!.score(rows)).toEqual([1, 1, 1, -1]);
    expect(watcher.current()!.manifest.summary).toBeUndefined();
  });

  test("refused unless it is this model's: the same agent, features in order, and bytes", async () => {
    await install(offer('v1', [1, 0, 0]));
    const serving = watcher.current();
    expect(await refusedWith(skOffer({ ...trained, features: [...features].reverse() }))).toBe(
      'FeatureMismatch',
    );
    expect(await refusedWith(skOffer({ ...trained, agent: 'dns' }))).toBe('ManifestInvalid');
    expect(await refusedWith(skOffer({ ...trained, sha256: 'ab'.repeat(32) }))).toBe(
      'ChecksumMismatch',
    );
    expect(
      await refusedWith(skOffer({ ...trained, output: { name: 'scores', scale: 0, shift: 0 } })),
    ).toBe('ManifestInvalid');
    expect(
      await refusedWith(skOffer({ ...trained, output: { name: 'score', scale: -1, shift: 0 } })),
    ).toBe('InputShapeMismatch'); // no such output
    expect(watcher.current()).toBe(serving);
  });
});
