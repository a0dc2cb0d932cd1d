import { isShiftmixError, tf, type Tensor } from '@shiftmix/core';
import { HSM_AB } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { normal } from './test-utils.js';

useBackend('webgpu');

function fused(u: Tensor, a: Tensor, b: Tensor, shifts: number[]): Tensor {
  return tf.engine().runKernel(HSM_AB.name, { u, a, b }, { shifts }) as Tensor;
}

// Its forward and gradients against the composite, case by case, are parity/mix-checks.ts's.
describe('ShiftmixHsmAb on webgpu', () => {
  it('computes the shifted term itself, not only what the composite computes', async () => {
    // Independent of the composite: a = 0, b = 1 gives S(U); check it by indexing.
    const [batch, time, dim] = [2, 5, 6];
    const u = normal([batch, time, dim], 5);
    const y = (await fused(u, tf.zeros([dim]), tf.ones([dim]), [1, 3]).array()) as number[][][];
    const x = (await u.array()) as number[][][];
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < time; t++) {
        for (let c = 0; c < dim; c++) {
          const s = c < 3 ? 1 : 3;
          expect(y[b][t][c]).toBeCloseTo(t >= s ? x[b][t - s][c] : 0, 6);
        }
      }
    }
  });

  it('rejects bad shifts and shapes with a ShiftmixError', () => {
    const u = tf.zeros([1, 4, 3]);
    const v = tf.zeros([3]);
    const attempt = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(isShiftmixError(attempt(() => fused(u, v, v, [])))).toBe(true);
    expect(isShiftmixError(attempt(() => fused(u, v, v, [1, 2, 3, 4])))).toBe(true);
    expect(isShiftmixError(attempt(() => fused(u, tf.zeros([4]), v, [1])))).toBe(true);
  });
});
