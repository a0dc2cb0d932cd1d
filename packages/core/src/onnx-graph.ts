import { channelGroups } from './schedule.js';
import type { Tensor } from './tf.js';

/**
 * Attribute values a lowering may set on an ONNX node: a plain number is an int and a
 * number array a list of ints (the exporter refuses fractions there); floats are written
 * `{ kind: 'float', value }`.
 */
export type OnnxAttribute =
  number | string | number[] | { kind: 'float'; value: number } | { kind: 'floats'; value: number[] } | { kind: 'ints'; value: number[] };

/**
 * The graph builder `@shiftmix/onnx` hands to each mixer's `toOnnx`. Mixers only add
 * nodes and initializers; the exporter owns names, opset and serialization. Names a
 * mixer creates are scoped to its block ("blocks.3.mixer.w"), so plain names suffice.
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
export type OnnxLowering = { mode: 'full' } | { mode: 'step'; state: Record<string, string>; position: string };

/** The output value name, and for `step` the names of the next state's tensors. */
export interface OnnxLowered {
  output: string;
  state?: Record<string, string>;
}

/**
 * Lowering helpers for mixers: each mirrors a core op exactly, so a mixer's `toOnnx`
 * matches its tfjs forward by construction. Values are named by the graph; shapes in
 * comments.
 */

/** x: [..., in] @ w: [in, out] (+ b: [out]) -> [..., out], as `linear`. `w`, `b` are initializer names. */
export function onnxLinear(graph: OnnxGraph, x: string, w: string, b?: string): string {
  const [y] = graph.add('MatMul', [x, w]);
  return b ? graph.add('Add', [y, b])[0] : y;
}

/** The per-group shift of `groupShift`: one Pad of max(shifts) zeros in front, one Slice per group. x: [B, T, D] -> [B, T, D]. */
export function onnxGroupShift(graph: OnnxGraph, x: string, shifts: readonly number[], dim: number): string {
  const m = Math.max(...shifts);
  const [padded] = graph.add('Pad', [x, graph.int64([0, m, 0, 0, 0, 0])]); // [B, T + m, D]
  // Group g reads rows t + m - s of the padded input; a negative end keeps T dynamic.
  const parts = channelGroups(dim, shifts.length)
    .map((group, g) => ({ ...group, shift: shifts[g] }))
    .filter((group) => group.size > 0)
    .map(
      ({ start, size, shift }) => graph.add('Slice', [padded, graph.int64([m - shift, start]), graph.int64([-shift, start + size]), graph.int64([1, 2])])[0],
    );
  return parts.length === 1 ? parts[0] : graph.add('Concat', parts, { axis: 2 })[0];
}

/** `readShiftRing` for a step: ring [B, m, D] (oldest row first) -> S(u) at the current position, [B, 1, D]. */
export function onnxReadShiftRing(graph: OnnxGraph, ring: string, shifts: readonly number[], dim: number): string {
  const m = Math.max(...shifts);
  const parts = channelGroups(dim, shifts.length)
    .map((group, g) => ({ ...group, shift: shifts[g] }))
    .filter((group) => group.size > 0)
    .map(
      ({ start, size, shift }) =>
        graph.add('Slice', [ring, graph.int64([m - shift, start]), graph.int64([m - shift + 1, start + size]), graph.int64([1, 2])])[0],
    );
  return parts.length === 1 ? parts[0] : graph.add('Concat', parts, { axis: 2 })[0];
}

/** `writeShiftRing`: drops the oldest row of ring [B, m, D] and appends u [B, 1, D]. */
export function onnxWriteShiftRing(graph: OnnxGraph, ring: string, u: string, ringSize: number): string {
  if (ringSize === 1) return graph.add('Identity', [u])[0];
  const [kept] = graph.add('Slice', [ring, graph.int64([1]), graph.int64([ringSize]), graph.int64([1])]); // [B, m - 1, D]
  return graph.add('Concat', [kept, u], { axis: 1 })[0];
}
