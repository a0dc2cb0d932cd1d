import { onnxLinear, ropeTables, type OnnxGraph, type OnnxLowered, type OnnxLowering, type Variable } from '@shiftmix/core';

/** What the lowering reads from the mixer. */
export interface AttentionLoweringSource {
  readonly weights: Record<string, Variable>;
  readonly dim: number;
  readonly heads: number;
  readonly headDim: number;
  readonly contextLength: number;
  readonly config: { window: number | null; rope: boolean; ropeBase: number };
}

// The additive mask value of core's causalMask.
const MASKED = -1e9;
// Slice clamps its end to the axis length, so this means "to the end".
const TO_END = Number.MAX_SAFE_INTEGER;

// [B, T, D] -> [B, H, T, hd]
function splitHeads(g: OnnxGraph, x: string, m: AttentionLoweringSource): string {
  const [split] = g.add('Reshape', [x, g.int64([0, 0, m.heads, m.headDim])]); // [B, T, H, hd]
  return g.add('Transpose', [split], { perm: [0, 2, 1, 3] })[0];
}

/** Rotate-half RoPE as core's applyRope: x * cos + [-x2, x1] * sin, cos/sin broadcasting over [B, H]. */
function rope(g: OnnxGraph, x: string, cos: string, sin: string, headDim: number): string {
  const half = headDim / 2;
  const [x1] = g.add('Slice', [x, g.int64([0]), g.int64([half]), g.int64([-1])]);
  const [x2] = g.add('Slice', [x, g.int64([half]), g.int64([headDim]), g.int64([-1])]);
  const [negX2] = g.add('Neg', [x2]);
  const [rotated] = g.add('Concat', [negX2, x1], { axis: -1 });
  const [a] = g.add('Mul', [x, cos]);
  const [b] = g.add('Mul', [rotated, sin]);
  return g.add('Add', [a, b])[0];
}

/**
 * cos and sin rows for the positions of this graph: the first T rows of the tables
 * ([T, hd]) for a full sequence, the row at `position` ([hd]) for a step. The tables are
 * core's ropeTables, so both graphs use exactly the tfjs values.
 */
function ropeRows(g: OnnxGraph, m: AttentionLoweringSource, input: string, lowering: OnnxLowering): { cos: string; sin: string } {
  const tables = ropeTables(0, m.contextLength, m.headDim, m.config.ropeBase);
  const shape = [m.contextLength, m.headDim];
  const cosTable = g.float(Array.from(tables.cos.dataSync()), shape);
  const sinTable = g.float(Array.from(tables.sin.dataSync()), shape);
  tables.cos.dispose();
  tables.sin.dispose();
  if (lowering.mode === 'step') {
    return { cos: g.add('Gather', [cosTable, lowering.position], { axis: 0 })[0], sin: g.add('Gather', [sinTable, lowering.position], { axis: 0 })[0] };
  }
  const [length] = g.add('Shape', [input], { start: 1, end: 2 }); // [1] = T
  const rows = (table: string): string => g.add('Slice', [table, g.int64([0]), length, g.int64([0])])[0];
  return { cos: rows(cosTable), sin: rows(sinTable) };
}

/** Additive causal (and window) mask [T, T] from the dynamic T of x: [B, T, D], as core's causalMask. */
function causalMask(g: OnnxGraph, x: string, window: number | null): string {
  const [shape] = g.add('Shape', [x], { start: 1, end: 2 }); // [1]
  const [length] = g.add('Squeeze', [shape, g.int64([0])]); // scalar T
  const [index] = g.add('Range', [g.int64([0], []), length, g.int64([1], [])]); // [T]
  const [rows] = g.add('Unsqueeze', [index, g.int64([1])]); // [T, 1]
  const [cols] = g.add('Unsqueeze', [index, g.int64([0])]); // [1, T]
  const [distance] = g.add('Sub', [rows, cols]); // [T, T], i - j
  let [visible] = g.add('GreaterOrEqual', [distance, g.int64([0], [])]);
  if (window !== null) [visible] = g.add('And', [visible, g.add('Less', [distance, g.int64([window], [])])[0]]);
  return g.add('Where', [visible, g.float([0], []), g.float([MASKED], [])])[0];
}

/**
 * Lowers softmax attention. Full: causal (windowed) attention over the dynamic T. Step:
 * appends this position's key and value to the KV cache inputs "k", "v" ([B, H, S, hd]),
 * keeps the last `window` entries when windowed, and attends over the cache, exactly as
 * the mixer's step does.
 */
export function lowerSoftmaxAttention(m: AttentionLoweringSource, g: OnnxGraph, input: string, lowering: OnnxLowering): OnnxLowered {
  const d = m.dim;
  const qkvWeight = g.weight('qkv.weight', m.weights['qkv.weight']);
  const qkvBias = g.weight('qkv.bias', m.weights['qkv.bias']);
  const outWeight = g.weight('out.weight', m.weights['out.weight']);
  const outBias = g.weight('out.bias', m.weights['out.bias']);
  const qkv = onnxLinear(g, input, qkvWeight, qkvBias); // [B, T, 3D]
  const part = (i: number): string => splitHeads(g, g.add('Slice', [qkv, g.int64([i * d]), g.int64([(i + 1) * d]), g.int64([2])])[0], m);
  let [q, k, v] = [part(0), part(1), part(2)]; // [B, H, T, hd]
  if (m.config.rope) {
    const { cos, sin } = ropeRows(g, m, input, lowering);
    q = rope(g, q, cos, sin, m.headDim);
    k = rope(g, k, cos, sin, m.headDim);
  }
  let state: Record<string, string> | undefined;
  if (lowering.mode === 'step') {
    [k] = g.add('Concat', [lowering.state.k, k], { axis: 2 }); // [B, H, S + 1, hd]
    [v] = g.add('Concat', [lowering.state.v, v], { axis: 2 });
    if (m.config.window !== null) {
      // A negative start clamps to 0 while the cache is shorter than the window.
      const keep = (x: string): string => g.add('Slice', [x, g.int64([-m.config.window!]), g.int64([TO_END]), g.int64([2])])[0];
      [k, v] = [keep(k), keep(v)];
    }
    state = { k, v };
  }
  const [kT] = g.add('Transpose', [k], { perm: [0, 1, 3, 2] }); // [B, H, hd, S]
  const [raw] = g.add('MatMul', [q, kT]); // [B, H, T, S]
  let [scores] = g.add('Mul', [raw, g.float([1 / Math.sqrt(m.headDim)], [])]);
  // A step's cache holds exactly the keys its query may see: no mask.
  if (lowering.mode === 'full') [scores] = g.add('Add', [scores, causalMask(g, input, m.config.window)]);
  const [probs] = g.add('Softmax', [scores], { axis: -1 });
  const [attended] = g.add('MatMul', [probs, v]); // [B, H, T, hd]
  const [merged] = g.add('Transpose', [attended], { perm: [0, 2, 1, 3] }); // [B, T, H, hd]
  const [flat] = g.add('Reshape', [merged, g.int64([0, 0, d])]); // [B, T, D]
  return { output: onnxLinear(g, flat, outWeight, outBias), state };
}
