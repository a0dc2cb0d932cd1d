import { tf, type Tensor } from '@shiftmix/core';
import { FUSION_BLEND } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { normal } from './test-utils.js';

useBackend('webgpu');

function fused(g: Tensor, v: Tensor, shifts: number[]): Tensor {
  return tf.engine().runKernel(FUSION_BLEND.name, { g, v }, { shifts }) as Tensor;
}

// Its forward and gradients against the composite, case by case, are parity/mix-checks.ts's.
describe('ShiftmixFusionBlend on webgpu', () => {
  it('gives V where the gate is open and S(V) where it is shut, checked by indexing', async () => {
    const [time, dim] = [6, 4];
    const v = normal([1, time, dim], 14);
    // Channels 0-1 (shift 1) open, channels 2-3 (shift 2) shut.
    const g = tf.tile(tf.tensor3d([1, 1, 0, 0], [1, 1, dim]), [1, time, 1]);
    const y = (await fused(g, v, [1, 2]).array()) as number[][][];
    const x = (await v.array()) as number[][][];
    for (let t = 0; t < time; t++) {
      for (let c = 0; c < dim; c++) {
        const want = c < 2 ? x[0][t][c] : t >= 2 ? x[0][t - 2][c] : 0;
        expect(y[0][t][c]).toBeCloseTo(want, 6);
      }
    }
  });
});
