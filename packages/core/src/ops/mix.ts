import { hasKernel, runFused } from '../kernels/dispatch.js';
import { FUSION_BLEND_KERNEL, HSM_AB_KERNEL } from '../kernels/names.js';
import { tf, type Tensor1D, type Tensor3D } from '../tf.js';
import { groupShiftReference } from './shift.js';

export { FUSION_BLEND_KERNEL, HSM_AB_KERNEL };

/** True when the active backend registers the fused kernel `name` (see kernels/table.ts). */
export const hasFusedKernel = hasKernel;

/** Composite reference of `hsmAbMix`, never dispatched to a fused kernel. */
export function hsmAbMixReference(u: Tensor3D, a: Tensor1D, b: Tensor1D, shifts: readonly number[]): Tensor3D {
  return tf.tidy(() => tf.add(tf.mul(u, a), tf.mul(groupShiftReference(u, shifts), b)) as Tensor3D);
}

/**
 * The (a,b) mix Y = a * U + b * S(U). u: [B, T, D], a, b: [D] -> [B, T, D].
 * Runs the fused kernel when the backend has one, else the composite (autodiffed by tfjs).
 */
export function hsmAbMix(u: Tensor3D, a: Tensor1D, b: Tensor1D, shifts: readonly number[]): Tensor3D {
  return runFused(HSM_AB_KERNEL, { u, a, b }, { shifts: [...shifts] }, () => hsmAbMixReference(u, a, b, shifts));
}

/** Composite reference of `fusionBlend`, never dispatched to a fused kernel. */
export function fusionBlendReference(g: Tensor3D, v: Tensor3D, shifts: readonly number[]): Tensor3D {
  return tf.tidy(() => {
    const shifted = groupShiftReference(v, shifts); // [B, T, D]
    // G * V + (1 - G) * S(V) = S(V) + G * (V - S(V)): one multiply fewer.
    return tf.add(shifted, tf.mul(g, tf.sub(v, shifted))) as Tensor3D;
  });
}

/**
 * Learned-fusion blend G * V + (1 - G) * S(V). g, v: [B, T, D] -> [B, T, D].
 * Runs the fused kernel when the backend has one, else the composite.
 */
export function fusionBlend(g: Tensor3D, v: Tensor3D, shifts: readonly number[]): Tensor3D {
  return runFused(FUSION_BLEND_KERNEL, { g, v }, { shifts: [...shifts] }, () => fusionBlendReference(g, v, shifts));
}
