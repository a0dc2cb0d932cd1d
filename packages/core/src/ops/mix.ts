import { tf, type Tensor, type Tensor1D, type Tensor3D } from '../tf.js';
import { groupShiftReference } from './shift.js';

/** tfjs kernel name of the fused (a,b) mix; inputs {u, a, b}, attrs {shifts}. */
export const HSM_AB_KERNEL = 'ShiftmixHsmAb';
/** tfjs kernel name of the fused learned-fusion blend; inputs {g, v}, attrs {shifts}. */
export const FUSION_BLEND_KERNEL = 'ShiftmixFusionBlend';

/**
 * True when the active backend has a kernel registered under `name`. Fused kernels (and
 * their gradients) are registered by backend packages such as @shiftmix/webgpu; core only
 * ships the composite reference, so every backend works without them.
 */
export function hasFusedKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

function runFused(name: string, inputs: Record<string, Tensor>, shifts: readonly number[]): Tensor3D {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, { shifts: [...shifts] }) as Tensor3D;
}

/** Composite reference of `hsmAbMix`, never dispatched to a fused kernel. */
export function hsmAbMixReference(u: Tensor3D, a: Tensor1D, b: Tensor1D, shifts: readonly number[]): Tensor3D {
  return tf.tidy(() => tf.add(tf.mul(u, a), tf.mul(groupShiftReference(u, shifts), b)) as Tensor3D);
}

/**
 * The (a,b) mix Y = a * U + b * S(U). u: [B, T, D], a, b: [D] -> [B, T, D].
 * Runs the fused kernel when the backend has one, else the composite (autodiffed by tfjs).
 */
export function hsmAbMix(u: Tensor3D, a: Tensor1D, b: Tensor1D, shifts: readonly number[]): Tensor3D {
  if (hasFusedKernel(HSM_AB_KERNEL)) return runFused(HSM_AB_KERNEL, { u, a, b }, shifts);
  return hsmAbMixReference(u, a, b, shifts);
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
  if (hasFusedKernel(FUSION_BLEND_KERNEL)) return runFused(FUSION_BLEND_KERNEL, { g, v }, shifts);
  return fusionBlendReference(g, v, shifts);
}
