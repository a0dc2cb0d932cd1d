import { tf, type Tensor, type Tensor1D, type Tensor3D } from '../tf.js';
import { groupShiftReference } from './group-shift.js';
import { defineKernel, type FusedKernel } from './kernel.js';
import { gradPairs, normal, type ParityCheck } from './parity.js';

// The (a,b) mix of HSM, Y = a * U + b * S(U): the whole hsm-ab mixer without projections,
// in one pass over U forward and one over dY backward.

type ShiftAttrs = { shifts: number[] };

/** Composite reference of `hsmAbMix`. u: [B, T, D], a, b: [D] -> [B, T, D]. */
export function hsmAbMixReference(u: Tensor3D, a: Tensor1D, b: Tensor1D, shifts: readonly number[]): Tensor3D {
  return tf.tidy(() => tf.add(tf.mul(u, a), tf.mul(groupShiftReference(u, shifts), b)) as Tensor3D);
}

// Shapes: vec4 and scalar channels, groups across vec4 lanes, shifts beyond T (the third
// case's 40, and every shift of the last), and T and D off 64-row, 128-column tiles.
const CASES: { shape: [number, number, number]; shifts: number[] }[] = [
  { shape: [2, 9, 8], shifts: [3] },
  { shape: [2, 11, 20], shifts: [1, 4, 7] },
  { shape: [3, 13, 7], shifts: [2, 5, 40] },
  { shape: [2, 69, 140], shifts: [1, 2, 3, 9, 70] },
  { shape: [1, 6, 9], shifts: [6, 11] },
];

export const HSM_AB: FusedKernel<ShiftAttrs> = defineKernel<ShiftAttrs>({
  name: 'ShiftmixHsmAb',
  summary: 'the (a,b) mix a * U + b * S(U)',
  inputs: { u: 'float32 [B, T, D]', a: 'float32 [D]', b: 'float32 [D]' },
  attrs: { shifts: 'one per contiguous channel group' },
  outputs: { y: '[B, T, D]' },
  shapes: ({ u }) => [u],
  reference: ({ u, a, b }, { shifts }) => hsmAbMixReference(u as Tensor3D, a as Tensor1D, b as Tensor1D, shifts),
  backward: {
    name: 'ShiftmixHsmAbGrad',
    summary: 'dU = a dY + b S^T(dY), da = sum dY U, db = sum dY S(U) over batch and time',
    inputs: { dy: 'float32 [B, T, D]', u: 'float32 [B, T, D]', a: 'float32 [D]', b: 'float32 [D]' },
    outputs: { du: '[B, T, D]', da: '[D]', db: '[D]' },
    shapes: ({ u, a, b }) => [u, a, b],
  },
  gradient: {
    inputs: ['u', 'a', 'b'],
    backward: ([dy], { inputs: [u, a, b] }, attrs, backward) => {
      const [du, da, db] = backward.call<Tensor[]>({ dy, u, a, b }, attrs);
      return { u: () => du, a: () => da, b: () => db };
    },
  },
  checks: () =>
    CASES.map(({ shape, shifts }): ParityCheck => ({
      name: `hsm-ab ${JSON.stringify(shape)} shifts ${shifts}`,
      kernels: [HSM_AB.name, HSM_AB_GRAD.name],
      run() {
        const dim = shape[2];
        const [u, a, b] = [normal(shape, 1), normal([dim], 2), normal([dim], 3)];
        const fused = (x: Tensor, p: Tensor, q: Tensor) => hsmAbMix(x as Tensor3D, p as Tensor1D, q as Tensor1D, shifts);
        const reference = (x: Tensor, p: Tensor, q: Tensor) => hsmAbMixReference(x as Tensor3D, p as Tensor1D, q as Tensor1D, shifts);
        return [
          { what: 'forward', got: fused(u, a, b), want: reference(u, a, b), tol: 1e-6 },
          ...gradPairs(['dU', 'da', 'db'], [1e-6, 1e-5, 1e-5], fused, reference, [u, a, b], normal(shape, 4)),
        ];
      },
    })),
});

export const HSM_AB_GRAD: FusedKernel<ShiftAttrs> = HSM_AB.backward!;

/**
 * The (a,b) mix Y = a * U + b * S(U). u: [B, T, D], a, b: [D] -> [B, T, D]. One kernel
 * where the backend implements HSM_AB, else the composite (autodiffed by tfjs).
 */
export function hsmAbMix(u: Tensor3D, a: Tensor1D, b: Tensor1D, shifts: readonly number[]): Tensor3D {
  return HSM_AB.run({ u, a, b }, { shifts: [...shifts] });
}
