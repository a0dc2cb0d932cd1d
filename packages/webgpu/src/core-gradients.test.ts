import { layerNorm, tf, type Tensor } from '@shiftmix/core';
import { embed, sumAll } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { expectClose, normal } from './test-utils.js';

// Core's device-side gradients (layer norm's means, the loss sum, the one-hot embedding
// gradient) checked on webgpu against tfjs-core's own ops.
useBackend('webgpu');

describe('core gradients on webgpu', () => {
  it('layerNorm and sumAll have the gradients of the tf.moments / tf.sum composite', async () => {
    const dim = 12;
    const x = normal([2, 5, dim], 1);
    const gamma = normal([dim], 2);
    const beta = normal([dim], 3);
    const w = normal([2, 5, dim], 4);
    const reference = (a: Tensor, g: Tensor, b: Tensor) => {
      const { mean, variance } = tf.moments(a, 2, true);
      return tf.sum(tf.mul(tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b), w));
    };
    const got = tf.grads((a: Tensor, g: Tensor, b: Tensor) => sumAll(tf.mul(layerNorm(a, g, b), w)))([x, gamma, beta]);
    const want = tf.grads(reference)([x, gamma, beta]);
    for (let i = 0; i < 3; i++) await expectClose(got[i], want[i], 1e-5, `gradient ${i}`);
  });

  it("embed takes the one-hot gradient path and matches gather's gradient", async () => {
    const table = normal([9, 8], 5);
    const tokens = tf.tensor2d(
      [
        [0, 3, 3, 8],
        [8, 8, 1, 0],
      ],
      [2, 4],
      'int32',
    );
    const w = normal([2, 4, 8], 6);
    await expectClose(embed(table, tokens), tf.gather(table, tokens), 0, 'forward');
    const [got] = tf.grads((t: Tensor) => tf.sum(tf.mul(embed(t, tokens), w)))([table]);
    const [want] = tf.grads((t: Tensor) => tf.sum(tf.mul(tf.gather(t, tokens), w)))([table]);
    await expectClose(got, want, 1e-5, 'dTable');
    // gather's gradient runs UnsortedSegmentSum; embed's must not on this backend.
    const profile = await tf.profile(() => tf.grads((t: Tensor) => tf.sum(tf.mul(embed(t, tokens), w)))([table]));
    expect(profile.kernelNames).not.toContain('UnsortedSegmentSum');
    expect(profile.kernelNames).toContain('BatchMatMul');
  });
});
