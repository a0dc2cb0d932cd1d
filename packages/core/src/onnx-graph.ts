import type { Tensor } from './tf.js';

/** Attribute values a lowering may set on an ONNX node. */
export type OnnxAttribute =
  | number
  | string
  | number[]
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] };

/**
 * The graph builder `@shiftmix/onnx` hands to each mixer's `toOnnx`. Mixers only add
 * nodes and initializers; the exporter owns names, opset and serialization.
 */
export interface OnnxGraph {
  readonly opset: number;
  /** Adds a node; returns the names of its outputs. */
  add(opType: string, inputs: string[], attributes?: Record<string, OnnxAttribute>, outputCount?: number): string[];
  /** Adds a float32 initializer with the value of a tfjs tensor (a weight); returns its name. */
  weight(name: string, value: Tensor): string;
  /** Adds an int64 constant initializer; returns its name. */
  int64(values: number[], shape?: number[]): string;
  /** Adds a float32 constant initializer; returns its name. */
  float(values: number[], shape?: number[]): string;
  /** A graph-unique name with the given prefix. */
  uniqueName(prefix: string): string;
}

/**
 * `full`: input is [B, T, D]. `step`: input is [B, 1, D]; `state` maps the mixer's state
 * tensor names (as in `initState`) to graph value names, and `position` names an int64
 * scalar holding the index of the token being decoded.
 */
export type OnnxLowering =
  | { mode: 'full' }
  | { mode: 'step'; state: Record<string, string>; position: string };

/** The output value name, and for `step` the names of the next state's tensors. */
export interface OnnxLowered {
  output: string;
  state?: Record<string, string>;
}
