import { tf, type Tensor } from '@shiftmix/core';
import { globalNorm } from '@shiftmix/core/tooling';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { webGpuDevice } from './index.js';
import { expectClose, normal } from './test-utils.js';

useBackend('webgpu');

/** The sum added up one tensor at a time, on the CPU. */
async function naiveSum(tensors: Tensor[]): Promise<Float32Array> {
  const values = await Promise.all(tensors.map((t) => t.data()));
  const sum = new Float32Array(values[0].length);
  for (const v of values) for (let i = 0; i < sum.length; i++) sum[i] += v[i];
  return sum;
}

describe('AddN on webgpu', () => {
  const limit = () => webGpuDevice()!.limits.maxStorageBuffersPerShaderStage;

  for (const extra of [0, 1, 5]) {
    it(`sums more tensors than a program can bind (limit + ${extra} inputs)`, async () => {
      const count = limit() + extra;
      const tensors = Array.from({ length: count }, (_, i) => normal([3, 5], i + 1));
      const got = tf.addN(tensors);
      const want = tf.tensor(await naiveSum(tensors), [3, 5]);
      await expectClose(got, want, 1e-6, `${count} inputs`);
      tf.dispose([...tensors, got, want]);
    });
  }

  it('sums a few tensors through tfjs’s own program and leaks no tensors', async () => {
    const tensors = [1, 2, 3].map((seed) => normal([4, 7], seed));
    const before = tf.memory().numTensors;
    const got = tf.addN(tensors);
    expect(tf.memory().numTensors).toBe(before + 1);
    await expectClose(got, tf.tensor(await naiveSum(tensors), [4, 7]), 1e-6);
    tf.dispose([...tensors, got]);
  });

  it('gives core’s globalNorm over many gradients', async () => {
    const grads = Array.from({ length: 3 * limit() }, (_, i) => normal([2 + (i % 3), 4], 100 + i));
    const norm = globalNorm(grads);
    const values = await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>));
    const want = Math.sqrt(values.reduce((sum, v) => sum + Array.from(v).reduce((s, x) => s + x * x, 0), 0));
    expect(Math.abs((await norm.data())[0] - want)).toBeLessThan(1e-4 * want);
    tf.dispose([...grads, norm]);
  });
});
