import { ProtoWriter, firstInt, firstText, readFields, repeatedInts, toFloat, toInt, toText, type ProtoFields, type ProtoValue } from './protobuf.js';

/**
 * Plain-data mirrors of the ONNX messages the exporter writes (field numbers from
 * onnx.proto), with an encoder and a decoder for each.
 */

export type ElemType = 'float32' | 'int32' | 'int64' | 'bool';

const DATA_TYPE: Record<ElemType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };
const ELEM_TYPE = new Map<number, ElemType>(Object.entries(DATA_TYPE).map(([k, v]) => [v, k as ElemType]));
export const ELEM_BYTES: Record<ElemType, number> = { float32: 4, int32: 4, int64: 8, bool: 1 };

export interface TensorData {
  name: string;
  dtype: ElemType;
  dims: number[];
  /** Little-endian element bytes (TensorProto.raw_data). */
  raw: Uint8Array;
}

/** A dimension is a fixed size or a symbolic name ("batch", "sequence"). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: ElemType;
  shape: Dim[];
}

export type AttributeValue =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'tensor'; value: TensorData };

export interface NodeData {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
  domain?: string;
}

export interface GraphData {
  name: string;
  nodes: NodeData[];
  initializers: TensorData[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface ModelData {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: GraphData;
  metadata: Record<string, string>;
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

/** The IR version that goes with an opset (the ONNX versioning table). */
export function irVersionFor(opset: number): number {
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

function encodeTensor(t: TensorData): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, DATA_TYPE[t.dtype]);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, DATA_TYPE[v.dtype]).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

function encodeAttribute(name: string, a: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name).varint(20, ATTR_TYPE[a.type]);
  switch (a.type) {
    case 'float':
      return w.float(2, a.value);
    case 'int':
      return w.varint(3, a.value);
    case 'string':
      return w.string(4, a.value);
    case 'tensor':
      return w.message(5, encodeTensor(a.value));
    case 'floats':
      for (const v of a.value) w.float(7, v);
      return w;
    case 'ints':
      for (const v of a.value) w.varint(8, v);
      return w;
  }
}

function encodeNode(n: NodeData): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes)) w.message(5, encodeAttribute(name, a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeGraph(g: GraphData): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  return w;
}

export function encodeModel(m: ModelData): Uint8Array {
  const w = new ProtoWriter().varint(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  w.message(7, encodeGraph(m.graph));
  for (const o of m.opsets) {
    const set = new ProtoWriter();
    if (o.domain) set.string(1, o.domain);
    w.message(8, set.varint(2, o.version));
  }
  for (const [key, value] of Object.entries(m.metadata)) {
    w.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return w.finish();
}

function sub(value: ProtoValue): ProtoFields {
  if (value.wire !== 2) throw new RangeError('onnx: expected an embedded message');
  return readFields(value.bytes);
}

function decodeTensor(f: ProtoFields): TensorData {
  const code = firstInt(f, 2) ?? 0;
  const dtype = ELEM_TYPE.get(code);
  if (!dtype) throw new RangeError(`onnx: tensor data type ${code} is not one the exporter writes`);
  const raw = f.get(9)?.[0];
  return {
    name: firstText(f, 8) ?? '',
    dtype,
    dims: repeatedInts(f, 1),
    raw: raw && raw.wire === 2 ? raw.bytes : new Uint8Array(0),
  };
}

function decodeValueInfo(f: ProtoFields): ValueInfo {
  const type = sub(f.get(2)![0]);
  const tensorType = sub(type.get(1)![0]);
  const shapeField = tensorType.get(2)?.[0];
  const shape: Dim[] = [];
  if (shapeField) {
    for (const d of sub(shapeField).get(1) ?? []) {
      const dim = sub(d);
      shape.push(dim.has(1) ? firstInt(dim, 1)! : (firstText(dim, 2) ?? '?'));
    }
  }
  const code = firstInt(tensorType, 1) ?? 0;
  const dtype = ELEM_TYPE.get(code);
  if (!dtype) throw new RangeError(`onnx: value ${firstText(f, 1)} has element type ${code}`);
  return { name: firstText(f, 1) ?? '', dtype, shape };
}

function decodeAttribute(f: ProtoFields): [string, AttributeValue] {
  const name = firstText(f, 1) ?? '';
  const type = firstInt(f, 20);
  switch (type) {
    case ATTR_TYPE.float:
      return [name, { type: 'float', value: toFloat(f.get(2)![0]) }];
    case ATTR_TYPE.int:
      return [name, { type: 'int', value: toInt(f.get(3)![0]) }];
    case ATTR_TYPE.string:
      return [name, { type: 'string', value: toText(f.get(4)![0]) }];
    case ATTR_TYPE.tensor:
      return [name, { type: 'tensor', value: decodeTensor(sub(f.get(5)![0])) }];
    case ATTR_TYPE.floats:
      return [name, { type: 'floats', value: (f.get(7) ?? []).map(toFloat) }];
    case ATTR_TYPE.ints:
      return [name, { type: 'ints', value: repeatedInts(f, 8) }];
    default:
      throw new RangeError(`onnx: attribute ${name} has type ${String(type)}, which the reader does not handle`);
  }
}

function decodeNode(f: ProtoFields): NodeData {
  return {
    name: firstText(f, 3) ?? '',
    opType: firstText(f, 4) ?? '',
    inputs: (f.get(1) ?? []).map(toText),
    outputs: (f.get(2) ?? []).map(toText),
    attributes: Object.fromEntries((f.get(5) ?? []).map((a) => decodeAttribute(sub(a)))),
    domain: firstText(f, 7),
  };
}

function decodeGraph(f: ProtoFields): GraphData {
  return {
    name: firstText(f, 2) ?? '',
    nodes: (f.get(1) ?? []).map((n) => decodeNode(sub(n))),
    initializers: (f.get(5) ?? []).map((t) => decodeTensor(sub(t))),
    inputs: (f.get(11) ?? []).map((v) => decodeValueInfo(sub(v))),
    outputs: (f.get(12) ?? []).map((v) => decodeValueInfo(sub(v))),
  };
}

/** Decodes a model written by `encodeModel` (or any ONNX file using the same subset). */
export function decodeModel(bytes: Uint8Array): ModelData {
  const f = readFields(bytes);
  const graph = f.get(7)?.[0];
  if (!graph) throw new RangeError('onnx: the model has no graph');
  return {
    irVersion: firstInt(f, 1) ?? 0,
    opsets: (f.get(8) ?? []).map((o) => {
      const set = sub(o);
      return { domain: firstText(set, 1) ?? '', version: firstInt(set, 2) ?? 0 };
    }),
    producerName: firstText(f, 2) ?? '',
    producerVersion: firstText(f, 3) ?? '',
    graph: decodeGraph(sub(graph)),
    metadata: Object.fromEntries(
      (f.get(14) ?? []).map((e) => {
        const entry = sub(e);
        return [firstText(entry, 1) ?? '', firstText(entry, 2) ?? ''];
      }),
    ),
  };
}
