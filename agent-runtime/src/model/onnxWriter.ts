// Writes ONNX models in ONNX's protobuf wire format (onnx.proto, proto2), with no protobuf or
// model library: just the messages a small model needs (ModelProto, GraphProto, NodeProto with
// attributes, TensorProto, ValueInfoProto). The trainer writes its tree ensembles with it; the
// tests write their small models with it.

type Bytes = number[];

function varint(n: number | bigint): Bytes {
  const out: Bytes = [];
  // Negative int64 values are encoded in ten bytes, two's complement, as protobuf does.
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const key = (field: number, wire: number): Bytes => varint((field << 3) | wire);
const int = (field: number, value: number): Bytes => [...key(field, 0), ...varint(value)];
const len = (field: number, data: Bytes | Uint8Array): Bytes => {
  const out = [...key(field, 2), ...varint(data.length)];
  for (const b of data) out.push(b);
  return out;
};
const str = (field: number, s: string): Bytes => len(field, [...Buffer.from(s, 'utf8')]);
const float32 = (values: readonly number[]): Bytes => {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return [...buffer];
};

/** Element types of TensorProto.DataType that we write. */
export const FLOAT = 1;
export const INT64 = 7;

export type AttributeValue = number | string | number[] | string[] | { floats: number[] };

/** An attribute: an integer number is INT, `{ floats }` or a non-integer number is FLOAT(S). */
function attribute(name: string, value: AttributeValue): Bytes {
  const head = str(1, name);
  if (typeof value === 'string') return [...head, ...str(4, value), ...int(20, 3)];
  if (typeof value === 'number')
    return Number.isInteger(value)
      ? [...head, ...int(3, value), ...int(20, 2)]
      : [...head, ...key(2, 5), ...float32([value]), ...int(20, 1)];
  if (!Array.isArray(value)) return [...head, ...len(7, float32(value.floats)), ...int(20, 6)];
  if (value.every((v) => typeof v === 'string'))
    return [...head, ...value.flatMap((v) => str(9, v)), ...int(20, 8)];
  return [
    ...head,
    ...len(
      8,
      value.flatMap((v) => varint(v)),
    ),
    ...int(20, 7),
  ];
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  values: number[];
}

export interface OnnxValue {
  name: string;
  /** A string dimension is symbolic (the batch size). */
  dims: (number | string)[];
  elemType?: number;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers?: OnnxTensor[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** Operator sets by domain ('' is the default domain), e.g. { '': 13, 'ai.onnx.ml': 3 }. */
  opsets: Record<string, number>;
  producer?: string;
  docString?: string;
  /** Free-form key/value metadata (ModelProto.metadata_props). */
  metadata?: Record<string, string>;
}

function node(n: OnnxNode, index: number): Bytes {
  return [
    ...n.inputs.flatMap((i) => str(1, i)),
    ...n.outputs.flatMap((o) => str(2, o)),
    ...str(3, `${n.op.toLowerCase()}_${index}`),
    ...str(4, n.op),
    ...Object.entries(n.attributes ?? {}).flatMap(([k, v]) => len(5, attribute(k, v))),
    ...(n.domain ? str(7, n.domain) : []),
  ];
}

function tensor(t: OnnxTensor): Bytes {
  return [
    ...t.dims.flatMap((d) => int(1, d)),
    ...int(2, FLOAT),
    ...str(8, t.name),
    ...len(9, float32(t.values)),
  ];
}

function valueInfo(v: OnnxValue): Bytes {
  const shape = v.dims.flatMap((d) => len(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  const tensorType = [...int(1, v.elemType ?? FLOAT), ...len(2, shape)];
  return [...str(1, v.name), ...len(2, len(1, tensorType))];
}

/** The model's bytes (IR version 8). */
export function writeOnnx(g: OnnxGraph): Uint8Array {
  const graph = [
    ...g.nodes.flatMap((n, i) => len(1, node(n, i))),
    ...str(2, g.name),
    ...(g.initializers ?? []).flatMap((t) => len(5, tensor(t))),
    ...g.inputs.flatMap((v) => len(11, valueInfo(v))),
    ...g.outputs.flatMap((v) => len(12, valueInfo(v))),
  ];
  const model = [
    ...int(1, 8),
    ...str(2, g.producer ?? 'edgewarden'),
    ...(g.docString ? str(6, g.docString) : []),
    ...len(7, graph),
    ...Object.entries(g.opsets).flatMap(([domain, version]) =>
      len(8, [...str(1, domain), ...int(2, version)]),
    ),
    ...Object.entries(g.metadata ?? {}).flatMap(([k, v]) => len(14, [...str(1, k), ...str(2, v)])),
  ];
  return Uint8Array.from(model);
}
