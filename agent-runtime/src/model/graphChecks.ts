// Static checks of an ONNX graph, before onnxruntime sees it (issue 20, M2): a model of a few
// hundred bytes can make onnxruntime allocate gigabytes (ConstantOfShape of a large constant
// shape, then ReduceSum), so a graph must keep to the operators models for edgewarden are made
// of, declare no tensor past the limits below, and carry no subgraph, external data or
// operator of another domain. What no static check can see (a broadcast of two small tensors
// into a large one) the validator process's memory and time limits bound (validator.ts).
import { ModelError } from './manifest.js';
import {
  CAP,
  OnnxParseError,
  readOnnx,
  type OnnxModelInfo,
  type OnnxNodeInfo,
} from './onnxReader.js';

/**
 * The operators of the models edgewarden trains (TreeEnsembleRegressor, Mul, Exp), of
 * skl2onnx's exports of the estimators docs/models.md describes (IsolationForest with a
 * StandardScaler, OneClassSVM, linear and tree classifiers) and of small hand-made models
 * (MatMul, Gemm, activations). None of them makes a tensor larger than its inputs by more
 * than the model's own constants say, except ConstantOfShape, allowed only with a constant
 * shape within the limits. Left out on purpose: Expand, Tile, Range, Pad, Resize, OneHot,
 * Loop, If, Scan, sequences and random generators.
 */
export const ALLOWED_OPS: Readonly<Record<string, readonly string[]>> = {
  '': [
    ...['Abs', 'Add', 'And', 'ArgMax', 'ArgMin', 'Cast', 'Ceil', 'Clip', 'Concat', 'Constant'],
    ...['ConstantOfShape', 'Div', 'Equal', 'Erf', 'Exp', 'Flatten', 'Floor', 'Gather', 'Gemm'],
    ...['Greater', 'GreaterOrEqual', 'Identity', 'IsNaN', 'Less', 'LessOrEqual', 'Log'],
    ...['MatMul', 'Max', 'Mean', 'Min', 'Mul', 'Neg', 'Not', 'Or', 'Pow', 'Reciprocal'],
    ...['ReduceL2', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceSum', 'Relu', 'Reshape'],
    ...['Shape', 'Sigmoid', 'Sign', 'Slice', 'Softmax', 'Sqrt', 'Squeeze', 'Sub', 'Sum', 'Tanh'],
    ...['TopK', 'Transpose', 'Unsqueeze', 'Where'],
  ],
  'ai.onnx.ml': [
    ...['Binarizer', 'Imputer', 'LabelEncoder', 'LinearClassifier', 'LinearRegressor'],
    ...['Normalizer', 'Scaler', 'SVMClassifier', 'SVMRegressor', 'TreeEnsemble'],
    ...['TreeEnsembleClassifier', 'TreeEnsembleRegressor'],
  ],
};

export interface GraphLimits {
  /** Nodes in the graph. */
  maxNodes: number;
  /** Elements of any tensor the graph declares (initializers, constants, value shapes). */
  maxElements: number;
  /** A tree ensemble's or linear model's targets (its output columns). */
  maxTargets: number;
}

/** 2^22 elements are 16 MiB of floats: more than any model we make, far less than the pod's memory. */
export const GRAPH_LIMITS: GraphLimits = {
  maxNodes: 20_000,
  maxElements: 1 << 22,
  maxTargets: 1024,
};

const domainOf = (d: string): string => (d === 'ai.onnx' ? '' : d);
const domainName = (d: string): string => (d === '' ? 'ai.onnx' : d);

/**
 * The product of dims (a symbolic one counts 1), or Infinity for a negative dim, a product
 * past 2^53 or a rank past the reader's cap.
 */
export function elements(dims: readonly (bigint | undefined)[]): number {
  if (dims.length > CAP) return Infinity;
  let n = 1n;
  for (const d of dims) {
    if (d === undefined) continue;
    if (d < 0n) return Infinity;
    n *= d;
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) return Infinity;
  }
  return Number(n);
}

/**
 * Throws ModelError naming the first thing out of bounds: UnsupportedModel for an operator,
 * domain or construct outside what our models use, ModelExceedsLimits for a tensor, shape or
 * count past `limits`, InvalidModel when the bytes are not an ONNX model at all.
 */
export function checkGraph(bytes: Uint8Array, what: string, limits = GRAPH_LIMITS): void {
  let model: OnnxModelInfo;
  try {
    model = readOnnx(bytes);
  } catch (error) {
    if (!(error instanceof OnnxParseError)) throw error;
    throw new ModelError('InvalidModel', `${what}: not an ONNX model (${error.message})`);
  }
  const unsupported = (why: string): ModelError =>
    new ModelError('UnsupportedModel', `${what}: ${why}`);
  const tooLarge = (why: string): ModelError =>
    new ModelError('ModelExceedsLimits', `${what}: ${why}`);
  for (const { domain } of model.opsets)
    if (!(domainOf(domain) in ALLOWED_OPS))
      throw unsupported(`imports the operator set ${domainName(domain)}`);
  if (model.functions > 0) throw unsupported('defines model-local functions');
  const { graph } = model;
  if (graph.sparseInitializers > 0) throw unsupported('has sparse initializers');
  const items = Math.max(graph.nodeCount, graph.initializerCount, graph.valueCount);
  if (items > limits.maxNodes)
    throw tooLarge(
      `has ${graph.nodeCount} nodes, ${graph.initializerCount} initializers and ${graph.valueCount} values (at most ${limits.maxNodes} of each)`,
    );
  const constants = new Map<string, bigint[]>();
  for (const t of graph.initializers) {
    if (t.external) throw unsupported(`initializer ${t.name} has external data`);
    if (elements(t.dims) > limits.maxElements)
      throw tooLarge(`initializer ${t.name} declares ${dimsText(t.dims)} elements`);
    constants.set(t.name, t.int64s);
  }
  for (const v of graph.values)
    if (elements(v.dims) > limits.maxElements)
      throw tooLarge(`value ${v.name} has the shape [${dimsText(v.dims)}]`);
  for (const n of graph.nodes) checkNode(n, constants, limits, unsupported, tooLarge);
}

const dimsText = (dims: readonly (bigint | undefined)[]): string =>
  dims.map((d) => (d === undefined ? '?' : String(d))).join(' × ');

function checkNode(
  n: OnnxNodeInfo,
  constants: Map<string, bigint[]>,
  limits: GraphLimits,
  unsupported: (why: string) => ModelError,
  tooLarge: (why: string) => ModelError,
): void {
  const op = `${domainName(n.domain)}.${n.op}`;
  if (!(ALLOWED_OPS[domainOf(n.domain)] ?? []).includes(n.op))
    throw unsupported(`uses the operator ${op}, which no model for edgewarden needs`);
  for (const a of n.attributes) {
    if (a.graphs > 0) throw unsupported(`${op} carries a subgraph (attribute ${a.name})`);
    for (const t of a.tensors) {
      if (t.external) throw unsupported(`${op} has a tensor with external data`);
      if (elements(t.dims) > limits.maxElements)
        throw tooLarge(`${op}'s attribute ${a.name} declares ${dimsText(t.dims)} elements`);
    }
    if (a.name === 'n_targets' && a.i !== undefined && a.i > BigInt(limits.maxTargets))
      throw tooLarge(`${op} has ${a.i} targets (at most ${limits.maxTargets})`);
  }
  if (n.op === 'Constant') {
    const value = n.attributes.find((a) => a.name === 'value_ints')?.ints;
    const tensor = n.attributes.find((a) => a.name === 'value')?.tensors[0]?.int64s;
    if (n.outputs[0] !== undefined) constants.set(n.outputs[0], value ?? tensor ?? []);
  }
  if (n.op === 'ConstantOfShape') {
    // Its output is as large as its input's values say: only a constant shape, within limits.
    const shape = constants.get(n.inputs[0] ?? '');
    if (shape === undefined)
      throw unsupported(`${op} takes a shape computed at run time, not a constant`);
    if (elements(shape) > limits.maxElements)
      throw tooLarge(
        `${op} makes a tensor of ${dimsText(shape)} elements (at most ${limits.maxElements})`,
      );
  }
}
