import { tf, type Tensor, type Tensor3D } from '../tf.js';
import { groupShiftReference } from './group-shift.js';
import { defineKernel, type FusedKernel } from './kernel.js';
import { gradPairs, normal, type ParityCheck } from './parity.js';

// Learned fusion's blend of the value path with its shift, G * V + (1 - G) * S(V), in one
// pass: the gate's projections stay matmuls.

type ShiftAttrs = { shifts: number[] };

/** Composite reference of `fusionBlend`. g, v: [B, T, D] -> [B, T, D]. */
export function fusionBlendReference(g: Tensor3D, v: Tensor3D, shifts: readonly number[]): Tensor3D {
  return tf.tidy(() => {
    const shifted = groupShiftReference(v, shifts); // [B, T, D]
    // G * V + (1 - G) * S(V) = S(V) + G * (V - S(V)): one multiply fewer.
    return tf.add(shifted, tf.mul(g, tf.sub(v, shifted))) as Tensor3D;
  });
}

const CASES: { shape: [number, number, number]; shifts: number[] }[] = [
  { shape: [2, 7, 8], shifts: [2] },
  { shape: [2, 10, 28], shifts: [1, 3, 12] },
  { shape: [3, 97, 5], shifts: [4, 1] },
];

export const FUSION_BLEND: FusedKernel<ShiftAttrs> = defineKernel<ShiftAttrs>({
  name: 'ShiftmixFusionBlend',
  summary: "learned fusion's blend G * V + (1 - G) * S(V)",
  inputs: { g: 'float32 [B, T, D]', v: 'float32 [B, T, D]' },
  attrs: { shifts: 'one per contiguous channel group' },
  outputs: { y: '[B, T, D]' },
  shapes: ({ v }) => [v],
  reference: ({ g, v }, { shifts }) => fusionBlendReference(g as Tensor3D, v as Tensor3D, shifts),
  backward: {
    name: 'ShiftmixFusionBlendGrad',
    summary: 'dG = dY (V - S(V)), dV = G dY + S^T((1 - G) dY)',
    inputs: { dy: 'float32 [B, T, D]', g: 'float32 [B, T, D]', v: 'float32 [B, T, D]' },
    outputs: { dg: '[B, T, D]', dv: '[B, T, D]' },
    shapes: ({ g, v }) => [g, v],
  },
  gradient: {
    inputs: ['g', 'v'],
    backward: ([dy], { inputs: [g, v] }, attrs, backward) => {
      const [dg, dv] = backward.call<Tensor[]>({ dy, g, v }, attrs);
      return { g: () => dg, v: () => dv };
    },
  },
  checks: () =>
    CASES.map(({ shape, shifts }): ParityCheck => ({
      name: `fusion-blend ${JSON.stringify(shape)} shifts ${shifts}`,
      kernels: [FUSION_BLEND.name, FUSION_BLEND_GRAD.name],
      run() {
        const [g, v] = [tf.sigmoid(normal(shape, 11)), normal(shape, 12)];
        const fused = (x: Tensor, y: Tensor) => fusionBlend(x as Tensor3D, y as Tensor3D, shifts);
        const reference = (x: Tensor, y: Tensor) => fusionBlendReference(x as Tensor3D, y as Tensor3D, shifts);
        return [
          { what: 'forward', got: fused(g, v), want: reference(g, v), tol: 1e-6 },
          ...gradPairs(['dG', 'dV'], [1e-6, 1e-6], fused, reference, [g, v], normal(shape, 13)),
        ];
      },
    })),
});

export const FUSION_BLEND_GRAD: FusedKernel<ShiftAttrs> = FUSION_BLEND.backward!;

/**
 * Learned-fusion blend G * V + (1 - G) * S(V). g, v: [B, T, D] -> [B, T, D]. One kernel
 * where the backend implements FUSION_BLEND, else the composite.
 */
export function fusionBlend(g: Tensor3D, v: Tensor3D, shifts: readonly number[]): Tensor3D {
  return FUSION_BLEND.run({ g, v }, { shifts: [...shifts] });
}
