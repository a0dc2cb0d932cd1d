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
export interface LearnedFusionLoweringSource {
  readonly weights: Record<string, Variable>;
  readonly dim: number;
  readonly shifts: readonly number[];
  readonly mode: 'gate' | 'linear';
}

/**
 * Lowers learned fusion. Linear: Y = [U | S(U)] W_f. Gate: V = U W_v,
 * G = sigmoid([U | S(U)] W_g + c), Y = (S(V) + G (V - S(V))) W_o. Full: S is a Pad on the
 * time axis and a Slice per channel group. Step: S(U) and S(V) are read from the ring
 * inputs "ring_u" and "ring_v" ([B, max(shifts), D]) and U, V appended, as the mixer's step does.
 */
export function lowerLearnedFusion(m: LearnedFusionLoweringSource, g: OnnxGraph, input: string, lowering: OnnxLowering): OnnxLowered {
  const shift = (x: string, ring: string): string =>
    lowering.mode === 'full' ? onnxGroupShift(g, x, m.shifts, m.dim) : onnxReadShiftRing(g, ring, m.shifts, m.dim);
  const ringState = lowering.mode === 'step' ? lowering.state : {};
  const ringSize = shiftRingSize(m.shifts);
  const [joined] = g.add('Concat', [input, shift(input, ringState.ring_u)], { axis: 2 }); // [B, T, 2D]
  const next: Record<string, string> = {};
  if (lowering.mode === 'step') next.ring_u = onnxWriteShiftRing(g, ringState.ring_u, input, ringSize);
  let output: string;
  if (m.mode === 'linear') {
    output = onnxLinear(g, joined, g.weight('w_f', m.weights.w_f));
  } else {
    const v = onnxLinear(g, input, g.weight('w_v', m.weights.w_v)); // [B, T, D]
    const [gate] = g.add('Sigmoid', [onnxLinear(g, joined, g.weight('w_g', m.weights.w_g), g.weight('c', m.weights.c))]);
    const shiftedV = shift(v, ringState.ring_v);
    // G V + (1 - G) S(V) = S(V) + G (V - S(V)), the form of core's fusionBlend.
    const [diff] = g.add('Sub', [v, shiftedV]);
    const [gated] = g.add('Mul', [gate, diff]);
    const [blended] = g.add('Add', [shiftedV, gated]);
    output = onnxLinear(g, blended, g.weight('w_o', m.weights.w_o));
    if (lowering.mode === 'step') next.ring_v = onnxWriteShiftRing(g, ringState.ring_v, v, ringSize);
  }
  return lowering.mode === 'full' ? { output } : { output, state: next };
}
