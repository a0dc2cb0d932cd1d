import { dropout, fusionBlend, hsmAbMix, tf, type Tensor, type Tensor1D, type Tensor3D } from '@shiftmix/core';
import {
  DROPOUT_KERNEL,
  FUSION_BLEND_GRAD_KERNEL,
  FUSION_BLEND_KERNEL,
  HSM_AB_GRAD_KERNEL,
  HSM_AB_KERNEL,
  dropoutHash,
  dropoutScale,
  dropoutThreshold,
  fusionBlendReference,
  hsmAbMixReference,
} from '@shiftmix/core/kernels';
import { hsmAbTuning } from '../hsm-ab.js';
import { gradPairs, normal, type ParityCheck } from './compare.js';

type Shape3 = [number, number, number];

const rowsPerWorkgroup = hsmAbTuning.rowsPerThread * hsmAbTuning.lanes;
// vec4 and scalar paths, groups across vec4 lanes, shifts
// beyond T (the last: every one), T and D off the workgroup tiles.
const hsmCases: { shape: Shape3; shifts: number[] }[] = [
  { shape: [2, 9, 8], shifts: [3] },
  { shape: [2, 11, 20], shifts: [1, 4, 7] },
  { shape: [3, 13, 7], shifts: [2, 5, 40] },
  { shape: [2, rowsPerWorkgroup + 5, 4 * hsmAbTuning.columnsPerWorkgroup + 12], shifts: [1, 2, 3, 9, 70] },
  { shape: [1, 6, 9], shifts: [6, 11] },
];

const blendCases: { shape: Shape3; shifts: number[] }[] = [
  { shape: [2, 7, 8], shifts: [2] },
  { shape: [2, 10, 28], shifts: [1, 3, 12] },
  { shape: [3, 97, 5], shifts: [4, 1] },
];

const hsmAb = (shape: Shape3, shifts: number[]): ParityCheck => ({
  name: `hsm-ab ${JSON.stringify(shape)} shifts ${shifts}`,
  kernels: [HSM_AB_KERNEL, HSM_AB_GRAD_KERNEL],
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
});

const blend = (shape: Shape3, shifts: number[]): ParityCheck => ({
  name: `fusion-blend ${JSON.stringify(shape)} shifts ${shifts}`,
  kernels: [FUSION_BLEND_KERNEL, FUSION_BLEND_GRAD_KERNEL],
  run() {
    const [g, v] = [tf.sigmoid(normal(shape, 11)), normal(shape, 12)];
    const fused = (x: Tensor, y: Tensor) => fusionBlend(x as Tensor3D, y as Tensor3D, shifts);
    const reference = (x: Tensor, y: Tensor) => fusionBlendReference(x as Tensor3D, y as Tensor3D, shifts);
    return [
      { what: 'forward', got: fused(g, v), want: reference(g, v), tol: 1e-6 },
      ...gradPairs(['dG', 'dV'], [1e-6, 1e-6], fused, reference, [g, v], normal(shape, 13)),
    ];
  },
});

/** mask(i) * scale, the JS reference of the dropout hash: what an input of ones becomes. */
function hashMask(size: number, rate: number, seed: number): Tensor {
  const threshold = dropoutThreshold(rate);
  const scale = dropoutScale(rate);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => (dropoutHash(seed, i) >= threshold ? scale : 0)));
}

// [2, 8, 12]: the vec4 path; [3, 5, 7]: the scalar path. The kernel multiplies x by the
// f32 scale once, as the reference does, so both are exact (tolerance 0).
const dropoutCheck = (shape: number[], rate: number, seed: number): ParityCheck => ({
  name: `dropout ${JSON.stringify(shape)} rate ${rate} seed ${seed}`,
  kernels: [DROPOUT_KERNEL],
  run() {
    const x = tf.add(tf.abs(normal(shape, 1)), 0.5);
    const mask = hashMask(x.size, rate, seed).reshape(shape);
    const w = normal(shape, 3);
    const [dx] = tf.grads((t: Tensor) => tf.sum(tf.mul(dropout(t, rate, true, seed), w)))([x]);
    return [
      { what: 'forward vs the JS hash', got: dropout(x, rate, true, seed), want: tf.mul(x, mask), tol: 0 },
      { what: 'dx vs the JS hash', got: dx, want: tf.mul(w, mask), tol: 0 },
    ];
  },
});

export const mixChecks: ParityCheck[] = [
  ...hsmCases.map((c) => hsmAb(c.shape, c.shifts)),
  ...blendCases.map((c) => blend(c.shape, c.shifts)),
  dropoutCheck([2, 8, 12], 0.3, 1234),
  dropoutCheck([3, 5, 7], 0.25, 99),
];
