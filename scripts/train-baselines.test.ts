// The shipped baseline models are what `npm run models` makes from committed data: retrained
// here, byte for byte. A change to the agents' features, the fleet or the trainer that moves a
// model fails this test until `npm run models` is run and the new models are committed.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { baselineModelsRoot } from '../agent-runtime/src/model/baselines.js';
import { checkManifest } from '../agent-runtime/src/model/manifest.js';
import { BASELINE_AGENTS, trainBaselines } from './train-baselines.js';

test('npm run models reproduces every committed baseline model', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-models-'));
  try {
    const results = await trainBaselines(dir);
    expect(results.map((r) => r.manifest.agent)).toEqual(BASELINE_AGENTS);
    for (const { manifest } of results) {
      const file = path.join(baselineModelsRoot, manifest.agent, 'manifest.json');
      const committed = checkManifest(JSON.parse(await readFile(file, 'utf8')), file);
      // Everything but the time it was made.
      expect({ ...manifest, createdAt: undefined }).toEqual({ ...committed, createdAt: undefined });
      const bytes = await readFile(path.join(baselineModelsRoot, manifest.agent, 'model.onnx'));
      expect(
        Buffer.compare(bytes, await readFile(path.join(dir, manifest.agent, 'model.onnx'))),
      ).toBe(0);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);
