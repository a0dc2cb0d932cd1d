import { ShiftmixError, type OnnxAttribute, type OnnxGraph, type Tensor } from '@shiftmix/core';
import {
  encodeModel,
  irVersionFor,
  type AttributeValue,
  type Dim,
  type ElemType,
  type GraphData,
  type ModelData,
  type NodeData,
  type TensorData,
} from './onnx-proto.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// ONNX raw_data is little-endian; on little-endian hosts float32 bytes are copied as they are.
function leBytes(values: ArrayLike<number>, dtype: 'float32' | 'int64'): Uint8Array {
  if (dtype === 'float32' && LITTLE_ENDIAN) {
    const copy = Float32Array.from(values);
    return new Uint8Array(copy.buffer);
  }
  const size = dtype === 'float32' ? 4 : 8;
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'float32') view.setFloat32(i * 4, values[i], true);
    else view.setBigInt64(i * 8, BigInt(values[i]), true);
  }
  return bytes;
}

function checkShape(values: number, shape: number[], what: string): void {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== values) {
    throw new ShiftmixError(`${what}: ${values} value(s) do not fill shape [${shape.join(', ')}]`, 'Give as many values as the shape holds', 'E_ONNX_LOWERING');
  }
}

function toAttribute(opType: string, name: string, a: OnnxAttribute): AttributeValue {
  const where = `attribute "${name}" of ${opType}`;
  if (typeof a === 'string') return { type: 'string', value: a };
  if (typeof a === 'number') {
    if (!Number.isInteger(a)) {
      throw new ShiftmixError(
        `${where} is ${a}, but a plain number is an int attribute`,
        `Write { kind: 'float', value: ${a} } for a float attribute`,
        'E_ONNX_LOWERING',
      );
    }
    return { type: 'int', value: a };
  }
  if (Array.isArray(a)) return toAttribute(opType, name, { kind: 'ints', value: a });
  if (a.kind === 'ints' && a.value.some((v) => !Number.isInteger(v))) {
    throw new ShiftmixError(`${where} holds non-integers`, "Write { kind: 'floats', value: [...] } for float lists", 'E_ONNX_LOWERING');
  }
  return { type: a.kind, value: a.value } as AttributeValue;
}

/**
 * Builds one ONNX graph. Mixers see it through the `OnnxGraph` interface; the exporter
 * also declares the graph's inputs and outputs and sets a name scope per block, so a
 * mixer's weight "w" becomes the initializer "blocks.3.mixer.w".
 */
export class GraphBuilder implements OnnxGraph {
  readonly opset: number;
  private readonly nodes: NodeData[] = [];
  private readonly initializers: TensorData[] = [];
  private readonly inputs: { name: string; dtype: ElemType; shape: Dim[] }[] = [];
  private readonly outputs: { name: string; dtype: ElemType; shape: Dim[] }[] = [];
  private readonly names = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly constants = new Map<string, string>();
  private scope = '';

  constructor(
    opset: number,
    readonly name: string,
  ) {
    this.opset = opset;
  }

  /** Runs `body` with every new name prefixed by `prefix` (e.g. "blocks.2.mixer."). */
  scoped<T>(prefix: string, body: () => T): T {
    const previous = this.scope;
    this.scope = previous + prefix;
    try {
      return body();
    } finally {
      this.scope = previous;
    }
  }

  uniqueName(prefix: string): string {
    const base = this.scope + prefix;
    if (!this.names.has(base) && !this.counters.has(base)) {
      this.names.add(base);
      this.counters.set(base, 0);
      return base;
    }
    let n = this.counters.get(base) ?? 0;
    let candidate: string;
    do {
      n++;
      candidate = `${base}_${n}`;
    } while (this.names.has(candidate));
    this.counters.set(base, n);
    this.names.add(candidate);
    return candidate;
  }

  /** Claims an exact name (graph inputs and outputs); fails if it is taken. */
  private claim(name: string): string {
    if (this.names.has(name)) {
      throw new ShiftmixError(`ONNX value name "${name}" is used twice`, 'Give graph inputs and outputs distinct names', 'E_ONNX_LOWERING');
    }
    this.names.add(name);
    return name;
  }

  add(opType: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.uniqueName(opType));
    this.addNode(opType, inputs, outputs, attributes);
    return outputs;
  }

  /** Adds a node whose outputs have chosen names (graph outputs). */
  addNamed(opType: string, inputs: string[], outputs: string[], attributes: Record<string, OnnxAttribute> = {}): void {
    for (const o of outputs) this.claim(o);
    this.addNode(opType, inputs, outputs, attributes);
  }

  private addNode(opType: string, inputs: string[], outputs: string[], attributes: Record<string, OnnxAttribute>): void {
    const converted: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(attributes)) converted[k] = toAttribute(opType, k, v);
    this.nodes.push({ name: `${outputs[0]}_node`, opType, inputs, outputs, attributes: converted });
  }

  weight(name: string, value: Tensor): string {
    const data = value.dataSync() as ArrayLike<number>;
    return this.initializer(this.uniqueName(name), 'float32', value.shape, leBytes(data, 'float32'));
  }

  int64(values: number[], shape: number[] = [values.length]): string {
    checkShape(values.length, shape, 'int64 constant');
    for (const v of values) {
      if (!Number.isSafeInteger(v)) throw new ShiftmixError(`int64 constant value ${v} is not an integer`, 'Pass whole numbers', 'E_ONNX_LOWERING');
    }
    return this.constant('int64', values, shape);
  }

  float(values: number[], shape: number[] = [values.length]): string {
    checkShape(values.length, shape, 'float constant');
    return this.constant('float32', values, shape);
  }

  /** Constants are shared: asking twice for the same values gives the same initializer. */
  private constant(dtype: 'float32' | 'int64', values: number[], shape: number[]): string {
    const key = `${dtype}|${shape.join(',')}|${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = this.initializer(this.uniqueName(dtype === 'int64' ? 'const_i64' : 'const_f32'), dtype, shape, leBytes(values, dtype));
    this.constants.set(key, name);
    return name;
  }

  private initializer(name: string, dtype: ElemType, dims: number[], raw: Uint8Array): string {
    this.initializers.push({ name, dtype, dims: [...dims], raw });
    return name;
  }

  input(name: string, dtype: ElemType, shape: Dim[]): string {
    this.inputs.push({ name: this.claim(name), dtype, shape });
    return name;
  }

  /** Declares `value` as the graph output `name` (through an Identity when the names differ). */
  output(name: string, value: string, dtype: ElemType, shape: Dim[]): void {
    if (value !== name) this.addNamed('Identity', [value], [name]);
    this.outputs.push({ name, dtype, shape });
  }

  graph(): GraphData {
    return { name: this.name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }

  toModel(metadata: Record<string, string> = {}, producerVersion = ''): ModelData {
    return {
      irVersion: irVersionFor(this.opset),
      opsets: [{ domain: '', version: this.opset }],
      producerName: 'shiftmix',
      producerVersion,
      graph: this.graph(),
      metadata,
    };
  }

  encode(metadata: Record<string, string> = {}, producerVersion = ''): Uint8Array {
    return encodeModel(this.toModel(metadata, producerVersion));
  }
}
