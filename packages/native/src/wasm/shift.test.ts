import { describe, it } from 'vitest';
import { type Tensor, tf } from '@shiftmix/core';
import { FUSION_BLEND, FUSION_BLEND_GRAD, fusionBlend, GROUP_SHIFT, GROUP_SHIFT_GRAD, groupShift, HSM_AB, HSM_AB_GRAD, hsmAbMix } from '@shiftmix/core/kernels';
import { expectClose, onBoth, withGrads } from './parity.test-util.js';

// The shift mixers' native kernels under wasm against their composites on cpu, over
// uneven channel groups and shifts at and beyond the sequence length.

const cases = [
  { shape: [1, 1, 1], shifts: [1] },
  { shape: [2, 5, 4], shifts: [0, 1] },
  { shape: [2, 7, 10], shifts: [1, 3, 9] },
  { shape: [3, 9, 13], shifts: [2, 4, 6, 7, 8] },
  { shape: [12, 64, 128], shifts: [1, 2, 3, 4, 5, 6, 7] },
];

describe('native shift kernels under wasm', () => {
  // A shift past every position makes the composite a constant, whose gradient tfjs refuses to take.
  const reaching = cases.filter(({ shape, shifts }) => Math.min(...shifts) < shape[1]);
  it.each(reaching)('the group shift over $shape with shifts $shifts matches the composite', async ({ shape, shifts }) => {
    const f = withGrads([shape], (x) => groupShift(x as tf.Tensor3D, shifts));
    const [expected, actual] = await onBoth(f, [GROUP_SHIFT.name, GROUP_SHIFT_GRAD.name]);
    expectClose(actual, expected);
  });

  it.each(cases)('hsm-ab over $shape with shifts $shifts matches the composite', async ({ shape, shifts }) => {
    const d = shape[2];
    const f = withGrads([shape, [d], [d]], (u, a, b) => hsmAbMix(u as tf.Tensor3D, a as tf.Tensor1D, b as tf.Tensor1D, shifts));
    const [expected, actual] = await onBoth(f, [HSM_AB.name, HSM_AB_GRAD.name]);
    expectClose(actual, expected);
  });

  it.each(cases)('the fusion blend over $shape with shifts $shifts matches the composite', async ({ shape, shifts }) => {
    // A gate in (0, 1), as the sigmoid gives it.
    const f = withGrads([shape, shape], (g: Tensor, v) => fusionBlend(tf.sigmoid(g) as tf.Tensor3D, v as tf.Tensor3D, shifts));
    const [expected, actual] = await onBoth(f, [FUSION_BLEND.name, FUSION_BLEND_GRAD.name]);
    expectClose(actual, expected);
  });
});
