import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { logisticRegressionOnnx, twoOutputOnnx } from '../../../test/fixtures/onnx.js';
import { broadcastBomb, constantOfShapeBomb, graphOf } from '../../../test/fixtures/onnxBombs.js';
import { checkGraph, elements, GRAPH_LIMITS } from './graphChecks.js';
import { ModelError } from './manifest.js';
import { writeOnnx } from './onnxWriter.js';
import { readOnnx } from './onnxReader.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function refusal(bytes: Uint8Array): { reason: string; message: string } | undefined {
  try {
    checkGraph(bytes, 'model m');
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    return { reason: (error as ModelError).reason, message: (error as ModelError).message };
  }
}

describe('checkGraph', () => {
  it.each(['wifi', 'dns', 'system', 'template'])('passes the shipped %s model', (agent) => {
    expect(refusal(readFileSync(path.join(root, 'models', agent, 'model.onnx')))).toBeUndefined();
  });

  it('passes the test models', () => {
    expect(refusal(logisticRegressionOnnx([1, 2, 3], 0.5))).toBeUndefined();
    expect(refusal(twoOutputOnnx([1, 2], 0))).toBeUndefined();
  });

  it('refuses the ConstantOfShape → ReduceSum bomb by its constant shape', () => {
    expect(refusal(constantOfShapeBomb(300_000_000))).toEqual({
      reason: 'ModelExceedsLimits',
      message: `model m: ai.onnx.ConstantOfShape makes a tensor of 300000000 elements (at most ${GRAPH_LIMITS.maxElements})`,
    });
  });

  it('passes the broadcast bomb: only the validator process can bound it', () => {
    expect(refusal(broadcastBomb(16_384))).toBeUndefined();
  });

  it('passes a ConstantOfShape of a small constant shape, refuses one of a computed shape', () => {
    expect(refusal(constantOfShapeBomb(16))).toBeUndefined();
    const computed = graphOf([
      { op: 'Shape', inputs: ['input'], outputs: ['shape'] },
      { op: 'ConstantOfShape', inputs: ['shape'], outputs: ['score'] },
    ]);
    expect(refusal(computed)?.reason).toBe('UnsupportedModel');
  });

  it.each(['Expand', 'Tile', 'Range', 'Loop', 'Scan', 'RandomNormal', 'Resize'])(
    'refuses the operator %s',
    (op) => {
      expect(refusal(graphOf([{ op, inputs: ['input'], outputs: ['score'] }]))).toEqual({
        reason: 'UnsupportedModel',
        message: `model m: uses the operator ai.onnx.${op}, which no model for edgewarden needs`,
      });
    },
  );

  it('refuses an operator of another domain, and the import of another operator set', () => {
    const contrib = graphOf([
      { op: 'Add', inputs: ['input', 'input'], outputs: ['score'], domain: 'com.microsoft' },
    ]);
    expect(refusal(contrib)?.reason).toBe('UnsupportedModel');
    const imported = graphOf([{ op: 'Relu', inputs: ['input'], outputs: ['score'] }], {
      opsets: { '': 13, 'com.microsoft': 1 },
    });
    expect(refusal(imported)?.message).toBe('model m: imports the operator set com.microsoft');
  });

  it('refuses a declared shape or initializer past the limit', () => {
    const wide = graphOf([{ op: 'Relu', inputs: ['input'], outputs: ['score'] }], {
      outputs: [{ name: 'score', dims: ['N', 1 << 23] }],
    });
    expect(refusal(wide)).toEqual({
      reason: 'ModelExceedsLimits',
      message: 'model m: value score has the shape [? × 8388608]',
    });
    const declared = graphOf([{ op: 'Add', inputs: ['input', 'w'], outputs: ['score'] }], {
      initializers: [{ name: 'w', dims: [1 << 16, 1 << 16], values: [] }],
    });
    expect(refusal(declared)?.message).toBe(
      'model m: initializer w declares 65536 × 65536 elements',
    );
  });

  it('refuses a tree ensemble of too many targets', () => {
    const trees = writeOnnx({
      name: 't',
      opsets: { '': 13, 'ai.onnx.ml': 1 },
      nodes: [
        {
          op: 'TreeEnsembleRegressor',
          domain: 'ai.onnx.ml',
          inputs: ['input'],
          outputs: ['score'],
          attributes: { n_targets: 10_000_000 },
        },
      ],
      inputs: [{ name: 'input', dims: ['N', 2] }],
      outputs: [{ name: 'score', dims: ['N', 1] }],
    });
    expect(refusal(trees)?.message).toBe(
      'model m: ai.onnx.ml.TreeEnsembleRegressor has 10000000 targets (at most 1024)',
    );
  });

  it('refuses bytes that are not protobuf', () => {
    expect(refusal(Buffer.from('hunter2-SuperSecret! not a model'))).toEqual({
      reason: 'InvalidModel',
      message: expect.stringMatching(/^model m: not an ONNX model \(/) as string,
    });
  });

  it('keeps no more than a few of a long list (a crafted dims field)', () => {
    // One tensor of 100,000 packed dims of 1: the reader keeps CAP + 1, the check refuses.
    const dims = Buffer.alloc(100_000, 1);
    const tensor = Buffer.concat([Buffer.from([0x0a]), varint(dims.length), dims]);
    const graph = Buffer.concat([Buffer.from([0x2a]), varint(tensor.length), tensor]);
    const model = Buffer.concat([Buffer.from([0x3a]), varint(graph.length), graph]);
    expect(readOnnx(model).graph.initializers[0]!.dims.length).toBe(65);
    expect(refusal(model)?.reason).toBe('ModelExceedsLimits');
  });
});

describe('elements', () => {
  it('multiplies known dims, and is Infinity for a negative dim or past 2^53', () => {
    expect(elements([2n, undefined, 3n])).toBe(6);
    expect(elements([-1n])).toBe(Infinity);
    expect(elements([1n << 40n, 1n << 20n])).toBe(Infinity);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.from(out);
}
