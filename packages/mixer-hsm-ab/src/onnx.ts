import {
  onnxGroupShift,
  onnxLinear,
  onnxReadShiftRing,
  onnxWriteShiftRing,
  shiftRingSize,
  type OnnxGraph,
  type OnnxLowered,
  type OnnxLowering,
  type Variable,
} from '@shiftmix/core';

/** What the lowering reads from the mixer. */
export interface HsmAbLoweringSource {
  readonly weights: Record<string, Variable>;
  readonly dim: number;
  readonly shifts: readonly number[];
  readonly projections: boolean;
}

/**
 * Lowers Y = a * V + b * S(V) (V = U W_in with projections, then Y W_out). Full: S is one
 * Pad on the time axis and a Slice per channel group. Step: S(V) is read from the ring
 * input "ring" ([B, max(shifts), D], oldest row first) and V is appended to it, as the
 * mixer's own step does.
 */
export function lowerHsmAb(m: HsmAbLoweringSource, g: OnnxGraph, input: string, lowering: OnnxLowering): OnnxLowered {
  const a = g.weight('a', m.weights.a);
  const b = g.weight('b', m.weights.b);
  const v = m.projections ? onnxLinear(g, input, g.weight('w_in', m.weights.w_in)) : input; // [B, T, D]
  const shifted = lowering.mode === 'full' ? onnxGroupShift(g, v, m.shifts, m.dim) : onnxReadShiftRing(g, lowering.state.ring, m.shifts, m.dim);
  const [av] = g.add('Mul', [v, a]);
  const [bs] = g.add('Mul', [shifted, b]);
  const [mixed] = g.add('Add', [av, bs]); // [B, T, D]
  const output = m.projections ? onnxLinear(g, mixed, g.weight('w_out', m.weights.w_out)) : mixed;
  if (lowering.mode === 'full') return { output };
  return { output, state: { ring: onnxWriteShiftRing(g, lowering.state.ring, v, shiftRingSize(m.shifts)) } };
}
