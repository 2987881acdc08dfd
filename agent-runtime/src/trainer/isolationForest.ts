// An Isolation Forest (Liu, Ting and Zhou, ICDM 2008) fitted in TypeScript, the way
// scikit-learn's IsolationForest fits one: each tree grows on a subsample of ψ rows drawn
// without replacement, to a depth of ceil(log2 ψ), splitting on a random non-constant feature
// at a threshold drawn uniformly between its minimum and maximum in the node (x <= t goes
// left). A row's path length is its leaf's depth plus c(n), the expected depth of the n
// training rows left unsplit in that leaf; its anomaly score is 2^(-mean path / c(ψ)), in
// (0, 1], higher is more anomalous: scikit-learn's -score_samples.
//
// Rows are compared as 32-bit floats, as onnxruntime compares them, so the ONNX export
// (toOnnx) scores exactly as score() does. Isolation is invariant to scaling a feature, so no
// scaler is needed: standardising first would draw the same splits in other units.
import { FLOAT, writeOnnx } from '../model/onnxWriter.js';

export interface ForestOptions {
  trees: number;
  /** ψ: rows per tree (fewer if there are fewer rows). */
  sampleSize: number;
  seed: number;
}

interface Tree {
  /** Per node: the feature split on, or -1 for a leaf. */
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  /** Per leaf: its depth plus c(rows in it). */
  pathLength: Float64Array;
  size: number;
}

const EULER_GAMMA = 0.5772156649015329;

/** c(n): the average path length of an unsuccessful search in a binary search tree of n. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** mulberry32: a small, fast, seeded generator of uniform numbers in [0, 1). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class IsolationForest {
  private constructor(
    readonly features: number,
    readonly sampleSize: number,
    private readonly trees: Tree[],
  ) {}

  /** Fits on `rows` (each of the same width). Deterministic for a given seed. */
  static fit(rows: readonly (readonly number[])[], options: ForestOptions): IsolationForest {
    if (rows.length === 0) throw new Error('no rows to train on');
    const width = rows[0]!.length;
    if (width === 0) throw new Error('rows have no features');
    // Column-major, as 32-bit floats: the values onnxruntime will compare.
    const columns = Array.from({ length: width }, (_, f) => {
      const column = new Float32Array(rows.length);
      rows.forEach((row, i) => {
        if (row.length !== width)
          throw new Error(`row ${i} has ${row.length} features, not ${width}`);
        column[i] = row[f]!;
      });
      return column;
    });
    const psi = Math.min(options.sampleSize, rows.length);
    const maxDepth = Math.ceil(Math.log2(Math.max(psi, 2)));
    const rand = random(options.seed);
    const all = new Uint32Array(rows.length).map((_, i) => i);
    const trees: Tree[] = [];
    for (let t = 0; t < options.trees; t++) {
      // ψ rows without replacement: a partial Fisher–Yates shuffle.
      for (let i = 0; i < psi; i++) {
        const j = i + Math.floor(rand() * (all.length - i));
        const swap = all[i]!;
        all[i] = all[j]!;
        all[j] = swap;
      }
      trees.push(grow(columns, all.slice(0, psi), maxDepth, rand));
    }
    return new IsolationForest(width, psi, trees);
  }

  /** Anomaly scores in (0, 1], higher is more anomalous (scikit-learn's -score_samples). */
  score(rows: readonly (readonly number[])[]): number[] {
    const norm = averagePathLength(this.sampleSize) * this.trees.length;
    return rows.map((row) => {
      const x = Float32Array.from(row);
      let total = 0;
      for (const tree of this.trees) {
        let node = 0;
        while (tree.feature[node]! >= 0)
          node =
            x[tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
        total += tree.pathLength[node]!;
      }
      return norm === 0 ? 1 : 2 ** (-total / norm);
    });
  }

  /**
   * The forest as a standard ONNX model: input `input` float [N, features], output `score`
   * float [N, 1], computed by an ai.onnx.ml TreeEnsembleRegressor (leaf weights are path
   * lengths over the number of trees, summed) followed by exp(-ln 2 · mean / c(ψ)).
   */
  toOnnx(metadata: Record<string, string> = {}): Uint8Array {
    const nodes = {
      treeIds: [] as number[],
      nodeIds: [] as number[],
      featureIds: [] as number[],
      values: [] as number[],
      modes: [] as string[],
      trueIds: [] as number[],
      falseIds: [] as number[],
    };
    const targets = { treeIds: [] as number[], nodeIds: [] as number[], weights: [] as number[] };
    const count = this.trees.length;
    this.trees.forEach((tree, t) => {
      for (let n = 0; n < tree.size; n++) {
        const leaf = tree.feature[n]! < 0;
        nodes.treeIds.push(t);
        nodes.nodeIds.push(n);
        nodes.featureIds.push(leaf ? 0 : tree.feature[n]!);
        nodes.values.push(leaf ? 0 : tree.threshold[n]!);
        nodes.modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
        nodes.trueIds.push(leaf ? 0 : tree.left[n]!);
        nodes.falseIds.push(leaf ? 0 : tree.right[n]!);
        if (leaf) {
          targets.treeIds.push(t);
          targets.nodeIds.push(n);
          targets.weights.push(tree.pathLength[n]! / count);
        }
      }
    });
    const c = averagePathLength(this.sampleSize);
    return writeOnnx({
      name: 'isolation_forest',
      producer: 'edgewarden',
      opsets: { '': 13, 'ai.onnx.ml': 1 },
      nodes: [
        {
          op: 'TreeEnsembleRegressor',
          domain: 'ai.onnx.ml',
          inputs: ['input'],
          outputs: ['mean_path'],
          attributes: {
            n_targets: 1,
            aggregate_function: 'SUM',
            post_transform: 'NONE',
            nodes_treeids: nodes.treeIds,
            nodes_nodeids: nodes.nodeIds,
            nodes_featureids: nodes.featureIds,
            nodes_values: { floats: nodes.values },
            nodes_modes: nodes.modes,
            nodes_truenodeids: nodes.trueIds,
            nodes_falsenodeids: nodes.falseIds,
            target_treeids: targets.treeIds,
            target_nodeids: targets.nodeIds,
            target_ids: targets.treeIds.map(() => 0),
            target_weights: { floats: targets.weights },
          },
        },
        { op: 'Mul', inputs: ['mean_path', 'minus_ln2_over_c'], outputs: ['log_score'] },
        { op: 'Exp', inputs: ['log_score'], outputs: ['score'] },
      ],
      initializers: [
        { name: 'minus_ln2_over_c', dims: [1], values: [c === 0 ? 0 : -Math.LN2 / c] },
      ],
      inputs: [{ name: 'input', dims: ['N', this.features], elemType: FLOAT }],
      outputs: [{ name: 'score', dims: ['N', 1], elemType: FLOAT }],
      metadata,
    });
  }
}

function grow(
  columns: Float32Array[],
  sample: Uint32Array,
  maxDepth: number,
  rand: () => number,
): Tree {
  const capacity = 2 * sample.length;
  const tree: Tree = {
    feature: new Int32Array(capacity),
    threshold: new Float32Array(capacity),
    left: new Int32Array(capacity),
    right: new Int32Array(capacity),
    pathLength: new Float64Array(capacity),
    size: 0,
  };
  const width = columns.length;
  const candidates = new Int32Array(width);
  // Depth first, with an explicit stack: [node, start, end, depth] over `sample`.
  const stack: [number, number, number, number][] = [[tree.size++, 0, sample.length, 0]];
  while (stack.length > 0) {
    const [node, start, end, depth] = stack.pop()!;
    const n = end - start;
    let split = -1;
    let threshold = 0;
    if (depth < maxDepth && n > 1) {
      // A random feature that is not constant in this node (constant ones are set aside).
      for (let f = 0; f < width; f++) candidates[f] = f;
      let left = width;
      while (left > 0 && split < 0) {
        const pick = Math.floor(rand() * left);
        const f = candidates[pick]!;
        candidates[pick] = candidates[--left]!;
        const column = columns[f]!;
        let min = Infinity;
        let max = -Infinity;
        for (let i = start; i < end; i++) {
          const v = column[sample[i]!]!;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        if (max > min) {
          split = f;
          threshold = Math.fround(min + rand() * (max - min));
          if (threshold >= max) threshold = min; // rounding reached max: split off the minimum
        }
      }
    }
    if (split < 0) {
      tree.feature[node] = -1;
      tree.pathLength[node] = depth + averagePathLength(n);
      continue;
    }
    // Partition: rows with x <= threshold first.
    const column = columns[split]!;
    let mid = start;
    for (let i = start; i < end; i++) {
      if (column[sample[i]!]! <= threshold) {
        const swap = sample[i]!;
        sample[i] = sample[mid]!;
        sample[mid++] = swap;
      }
    }
    const l = tree.size++;
    const r = tree.size++;
    tree.feature[node] = split;
    tree.threshold[node] = threshold;
    tree.left[node] = l;
    tree.right[node] = r;
    stack.push([r, mid, end, depth + 1], [l, start, mid, depth + 1]);
  }
  return tree;
}
