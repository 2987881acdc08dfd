// The TypeScript Isolation Forest: its arithmetic, its determinism, and that its ONNX export
// scores in onnxruntime exactly as the forest itself does.
import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';

import { averagePathLength, IsolationForest } from './isolationForest.js';

/** A seeded normal sample (Box–Muller over a small LCG), so the test data is fixed. */
function gaussianRows(n: number, width: number, seed: number): number[][] {
  let s = seed;
  const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
  return Array.from({ length: n }, () =>
    Array.from(
      { length: width },
      () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
    ),
  );
}

function auc(normal: number[], anomalous: number[]): number {
  let wins = 0;
  for (const a of anomalous) for (const b of normal) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (normal.length * anomalous.length);
}

test('c(n) matches the formula scikit-learn uses', () => {
  expect(averagePathLength(0)).toBe(0);
  expect(averagePathLength(1)).toBe(0);
  expect(averagePathLength(2)).toBe(1);
  // 2 (ln 255 + γ) − 2·255/256, as sklearn.ensemble._iforest._average_path_length(256) prints
  expect(averagePathLength(256)).toBeCloseTo(10.244770920119917, 12);
});

test('outliers score higher than the bulk of the data', () => {
  const train = gaussianRows(2000, 4, 7);
  const forest = IsolationForest.fit(train, { trees: 100, sampleSize: 256, seed: 1 });
  const normal = forest.score(gaussianRows(300, 4, 99));
  const outliers = forest.score(gaussianRows(50, 4, 5).map((r) => r.map((v) => v + 5)));
  expect(auc(normal, outliers)).toBeGreaterThan(0.99);
  for (const s of [...normal, ...outliers]) {
    expect(s).toBeGreaterThan(0);
    expect(s).toBeLessThanOrEqual(1);
  }
  // Around 0.5 and below for ordinary rows, well above for the far ones.
  expect(normal.reduce((a, b) => a + b, 0) / normal.length).toBeLessThan(0.5);
  expect(Math.min(...outliers)).toBeGreaterThan(0.6);
});

test('the same seed gives the same model, byte for byte; another seed does not', () => {
  const rows = gaussianRows(500, 3, 3);
  const bytes = (seed: number): string =>
    createHash('sha256')
      .update(IsolationForest.fit(rows, { trees: 20, sampleSize: 64, seed }).toOnnx())
      .digest('hex');
  expect(bytes(42)).toBe(bytes(42));
  expect(bytes(42)).not.toBe(bytes(43));
});

test('constant features are never split on, and all-constant data is one leaf per tree', () => {
  const rows = gaussianRows(300, 1, 11).map((r) => [5, r[0]!, 5]);
  const forest = IsolationForest.fit(rows, { trees: 10, sampleSize: 64, seed: 2 });
  // Moving a constant feature changes nothing.
  expect(forest.score([[1e6, 0.3, -1e6]])).toEqual(forest.score([[5, 0.3, 5]]));
  const flat = IsolationForest.fit(
    Array.from({ length: 50 }, () => [1, 1]),
    { trees: 5, sampleSize: 32, seed: 2 },
  );
  // Every row ends in the root leaf: path c(32), score 2^-1.
  expect(
    flat.score([
      [1, 1],
      [9, 9],
    ]),
  ).toEqual([0.5, 0.5]);
});

test('the ONNX export scores in onnxruntime-node as the forest does (to 1e-6)', async () => {
  const train = gaussianRows(3000, 5, 21);
  const forest = IsolationForest.fit(train, { trees: 100, sampleSize: 256, seed: 9 });
  const test = [
    ...gaussianRows(400, 5, 22),
    ...gaussianRows(100, 5, 23).map((r) => r.map((v) => v * 4)),
  ];
  const session = await ort.InferenceSession.create(forest.toOnnx());
  try {
    const data = Float32Array.from(test.flat());
    const out = await session.run({ input: new ort.Tensor('float32', data, [test.length, 5]) });
    const onnx = Array.from(out.score!.data as Float32Array);
    const ours = forest.score(test);
    expect(onnx).toHaveLength(ours.length);
    const worst = Math.max(...onnx.map((v, i) => Math.abs(v - ours[i]!)));
    expect(worst).toBeLessThan(1e-6);
  } finally {
    await session.release();
  }
});

test('bad training input is refused with a clear message', () => {
  const options = { trees: 1, sampleSize: 8, seed: 1 };
  expect(() => IsolationForest.fit([], options)).toThrow(/no rows/);
  expect(() => IsolationForest.fit([[]], options)).toThrow(/no features/);
  expect(() => IsolationForest.fit([[1, 2], [3]], options)).toThrow(/row 1 has 1 features, not 2/);
});
