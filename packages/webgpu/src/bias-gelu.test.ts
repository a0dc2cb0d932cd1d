import { gelu, tf, type Tensor } from '@shiftmix/core';
import { BIAS_GELU, biasGelu } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { expectClose, normal } from './test-utils.js';

useBackend('webgpu');

function fused(x: Tensor, b: Tensor): Tensor {
  return tf.engine().runKernel(BIAS_GELU.name, { x, b }) as Tensor;
}

// gelu(x + b), dx and db against the reference, case by case, are parity/norm-checks.ts's.
describe('ShiftmixBiasGelu on webgpu', () => {
  it('stays finite and saturates for large |x + b| (gelu -> x or 0, slope -> 1 or 0)', async () => {
    const x = tf.tensor2d([[-60, -20, 20, 60]]);
    const b = tf.zeros([4]);
    const y = await fused(x, b).data();
    expect(Array.from(y)).toEqual([-0, -0, 20, 60].map((v) => expect.closeTo(v, 5)));
    const [dx] = tf.grads((a: Tensor) => tf.sum(fused(a, b)))([x]);
    expect(Array.from(await dx.data())).toEqual([0, 0, 1, 1].map((v) => expect.closeTo(v, 5)));
  });

  it("is what core's biasGelu runs on webgpu, with core's gelu values", async () => {
    const x = normal([3, 8], 4);
    const b = normal([8], 5);
    const profile = await tf.profile(() => biasGelu(x, b));
    expect(profile.kernelNames).toEqual([BIAS_GELU.name]);
    await expectClose(biasGelu(x, b), gelu(tf.add(x, b)), 1e-5, 'core');
  });
});
