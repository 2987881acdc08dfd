// Reads the few fields of an ONNX model (onnx.proto, proto2 wire format) that the graph checks
// need (graphChecks.ts): the operator sets, and per graph its nodes (op, domain, inputs,
// attributes), initializers' and constants' shapes, and the declared shapes of its values.
// Hand-written, like its counterpart onnxWriter.ts: a protobuf library and onnx.proto would
// be more code than the walk, and nothing here builds objects from untrusted field names.
// Everything else in the bytes is skipped by its wire type. Nothing is executed, and the walk
// keeps little: fields are visited one at a time, and every list it keeps is capped (CAP), so
// 32 MiB of crafted bytes cannot make it hold millions of objects; past a cap, counts go on.

/** Malformed bytes: not protobuf, or fields of the wrong wire type. */
export class OnnxParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxParseError';
  }
}

/** The most items of any one list kept (dims, int64 values, nodes, ...); counts go on past it. */
export const CAP = 64;
const KEEP_NODES = 100_000;

export interface OnnxTensorInfo {
  name: string;
  /** int64 dims as bigint: a crafted model may declare any (at most CAP + 1 kept). */
  dims: bigint[];
  dataType: number;
  /** The int64 values (int64_data or raw_data of an INT64 tensor; at most CAP + 1 kept). */
  int64s: bigint[];
  /** Whether its data lives in an external file (data_location EXTERNAL). */
  external: boolean;
}

export interface OnnxAttributeInfo {
  name: string;
  type: number;
  i?: bigint;
  ints: bigint[];
  tensors: OnnxTensorInfo[];
  /** Subgraphs (GRAPH / GRAPHS attributes): Loop, If, Scan bodies. */
  graphs: number;
}

export interface OnnxNodeInfo {
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttributeInfo[];
}

export interface OnnxValueInfo {
  name: string;
  /** Known dims (dim_value); a symbolic dim (dim_param) is undefined. */
  dims: (bigint | undefined)[];
}

export interface OnnxGraphInfo {
  /** The first KEEP_NODES nodes; nodeCount counts them all. */
  nodes: OnnxNodeInfo[];
  nodeCount: number;
  initializers: OnnxTensorInfo[];
  initializerCount: number;
  sparseInitializers: number;
  /** Inputs, outputs and value_info. */
  values: OnnxValueInfo[];
  valueCount: number;
}

export interface OnnxModelInfo {
  opsets: { domain: string; version: bigint }[];
  graph: OnnxGraphInfo;
  functions: number;
}

interface Field {
  field: number;
  wire: number;
  /** Varint or fixed value (wire 0, 1, 5). */
  value?: bigint;
  /** Length-delimited bytes (wire 2). */
  bytes?: Uint8Array;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function varint(buf: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  for (let shift = 0n, i = at; i < buf.length && shift < 70n; shift += 7n, i++) {
    const byte = buf[i]!;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [BigInt.asUintN(64, value), i + 1];
  }
  throw new OnnxParseError(`a truncated varint at byte ${at}`);
}

/** The fields of one message, in order, one at a time. */
function* fields(buf: Uint8Array): Generator<Field> {
  let at = 0;
  while (at < buf.length) {
    const [key, next] = varint(buf, at);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    at = next;
    if (wire === 0) {
      const [value, after] = varint(buf, at);
      yield { field, wire, value };
      at = after;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (at + size > buf.length) throw new OnnxParseError(`a truncated fixed field at ${at}`);
      yield { field, wire, value: 0n };
      at += size;
    } else if (wire === 2) {
      const [length, after] = varint(buf, at);
      const end = after + Number(length);
      if (length > BigInt(buf.length) || end > buf.length)
        throw new OnnxParseError(`a field longer than the message at byte ${at}`);
      yield { field, wire, bytes: buf.subarray(after, end) };
      at = end;
    } else throw new OnnxParseError(`wire type ${wire} at byte ${at}`);
  }
}

function first(buf: Uint8Array, field: number, wire: number): Field | undefined {
  for (const f of fields(buf)) if (f.field === field && f.wire === wire) return f;
  return undefined;
}

/** Appends to a capped list: at most CAP + 1 items, so a list past CAP is seen as such. */
function keep<T>(list: T[], items: Iterable<T>): void {
  for (const item of items) {
    if (list.length > CAP) return;
    list.push(item);
  }
}

const text = (f: Field): string => (f.bytes ? decoder.decode(f.bytes) : '');
const toSigned = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Repeated int64: unpacked (one varint a field) or packed (a run of varints). */
function* int64s(f: Field): Generator<bigint> {
  if (f.wire === 0) yield toSigned(f.value!);
  if (f.wire !== 2) return;
  for (let at = 0; at < f.bytes!.length;) {
    const [v, next] = varint(f.bytes!, at);
    yield toSigned(v);
    at = next;
  }
}

const INT64 = 7;

function tensor(buf: Uint8Array): OnnxTensorInfo {
  const t: OnnxTensorInfo = { name: '', dims: [], dataType: 0, int64s: [], external: false };
  for (const f of fields(buf)) {
    if (f.field === 1) keep(t.dims, int64s(f));
    else if (f.field === 2 && f.wire === 0) t.dataType = Number(f.value);
    else if (f.field === 7) keep(t.int64s, int64s(f));
    else if (f.field === 8) t.name = text(f);
    else if (f.field === 9 && f.bytes) {
      if (t.dataType === INT64 || t.dataType === 0) keep(t.int64s, rawInt64s(f.bytes));
    } else if (f.field === 14 && f.wire === 0) t.external = f.value === 1n;
  }
  if (t.dataType !== INT64) t.int64s = [];
  return t;
}

function* rawInt64s(bytes: Uint8Array): Generator<bigint> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.length; at += 8) yield view.getBigInt64(at, true);
}

function attribute(buf: Uint8Array): OnnxAttributeInfo {
  const a: OnnxAttributeInfo = { name: '', type: 0, ints: [], tensors: [], graphs: 0 };
  for (const f of fields(buf)) {
    if (f.field === 1) a.name = text(f);
    else if (f.field === 3 && f.wire === 0) a.i = toSigned(f.value!);
    else if (f.field === 5 && f.bytes) keep(a.tensors, [tensor(f.bytes)]);
    else if ((f.field === 6 || f.field === 11) && f.wire === 2) a.graphs++;
    else if (f.field === 8) keep(a.ints, int64s(f));
    else if (f.field === 10 && f.bytes) keep(a.tensors, [tensor(f.bytes)]);
    else if (f.field === 20 && f.wire === 0) a.type = Number(f.value);
  }
  return a;
}

function node(buf: Uint8Array): OnnxNodeInfo {
  const n: OnnxNodeInfo = { op: '', domain: '', inputs: [], outputs: [], attributes: [] };
  for (const f of fields(buf)) {
    if (f.field === 1) keep(n.inputs, [text(f)]);
    else if (f.field === 2) keep(n.outputs, [text(f)]);
    else if (f.field === 4) n.op = text(f);
    else if (f.field === 5 && f.bytes) keep(n.attributes, [attribute(f.bytes)]);
    else if (f.field === 7) n.domain = text(f);
  }
  return n;
}

/** ValueInfoProto → TypeProto (2) → tensor_type (1) → shape (2) → dim (1) → dim_value (1). */
function valueInfo(buf: Uint8Array): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', dims: [] };
  const sub = (b: Uint8Array | undefined, field: number): Uint8Array | undefined =>
    b ? first(b, field, 2)?.bytes : undefined;
  for (const f of fields(buf)) {
    if (f.field === 1) v.name = text(f);
    if (f.field !== 2 || !f.bytes) continue;
    const shape = sub(sub(f.bytes, 1), 2);
    for (const d of shape ? fields(shape) : [])
      if (d.field === 1 && d.bytes && v.dims.length <= CAP) {
        const value = first(d.bytes, 1, 0)?.value;
        v.dims.push(value === undefined ? undefined : toSigned(value));
      }
  }
  return v;
}

function graph(buf: Uint8Array): OnnxGraphInfo {
  const g = emptyGraph();
  for (const f of fields(buf)) {
    if (!f.bytes) continue;
    if (f.field === 1) {
      // Past KEEP_NODES (far past any limit), nodes are counted, not read.
      if (++g.nodeCount <= KEEP_NODES) g.nodes.push(node(f.bytes));
    } else if (f.field === 5) {
      if (++g.initializerCount <= KEEP_NODES) g.initializers.push(tensor(f.bytes));
    } else if (f.field === 15) g.sparseInitializers++;
    else if (f.field === 11 || f.field === 12 || f.field === 13) {
      if (++g.valueCount <= KEEP_NODES) g.values.push(valueInfo(f.bytes));
    }
  }
  return g;
}

function emptyGraph(): OnnxGraphInfo {
  return {
    nodes: [],
    nodeCount: 0,
    initializers: [],
    initializerCount: 0,
    sparseInitializers: 0,
    values: [],
    valueCount: 0,
  };
}

/** The model's operator sets and main graph; throws OnnxParseError on malformed bytes. */
export function readOnnx(bytes: Uint8Array): OnnxModelInfo {
  const model: OnnxModelInfo = {
    opsets: [],
    graph: emptyGraph(),
    functions: 0,
  };
  let graphs = 0;
  for (const f of fields(bytes)) {
    if (f.field === 7 && f.bytes) {
      model.graph = graph(f.bytes);
      graphs++;
    } else if (f.field === 8 && f.bytes) {
      const domain = first(f.bytes, 1, 2);
      keep(model.opsets, [
        { domain: domain ? text(domain) : '', version: first(f.bytes, 2, 0)?.value ?? 0n },
      ]);
    } else if (f.field === 25 && f.wire === 2) model.functions++;
  }
  if (graphs !== 1) throw new OnnxParseError(`${graphs} graphs (one is needed)`);
  return model;
}
