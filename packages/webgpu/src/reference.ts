import { channelGroups, shiftTime, tf, type Tensor1D, type Tensor3D } from '@shiftmix/core';

/**
 * Composite references of the fused kernels, built from plain tfjs ops (autodiffed by
 * tfjs on any backend). The parity tests and the GPU benchmark compare against them.
 */

/** The per-group shift S: channel group g of `x` delayed by shifts[g]. x: [B, T, D]. */
export function groupShiftComposite(x: Tensor3D, shifts: readonly number[]): Tensor3D {
  const [b, t, d] = x.shape;
  if (shifts.length === 1) return shiftTime(x, shifts[0]);
  return tf.tidy(() => {
    const parts = channelGroups(d, shifts.length)
      .map((group, g) => ({ ...group, shift: shifts[g] }))
      .filter((group) => group.size > 0)
      .map(({ start, size, shift }) => shiftTime(x.slice([0, 0, start], [b, t, size]) as Tensor3D, shift));
    return tf.concat(parts, 2) as Tensor3D;
  });
}

/** Y = a * U + b * S(U). u: [B, T, D], a, b: [D]. */
export function hsmAbComposite(u: Tensor3D, a: Tensor1D, b: Tensor1D, shifts: readonly number[]): Tensor3D {
  return tf.tidy(() => tf.add(tf.mul(u, a), tf.mul(groupShiftComposite(u, shifts), b)) as Tensor3D);
}

/** G * V + (1 - G) * S(V). g, v: [B, T, D]. */
export function fusionBlendComposite(g: Tensor3D, v: Tensor3D, shifts: readonly number[]): Tensor3D {
  return tf.tidy(() => {
    const shifted = groupShiftComposite(v, shifts);
    return tf.add(tf.mul(g, v), tf.mul(tf.sub(1, g), shifted)) as Tensor3D;
  });
}
