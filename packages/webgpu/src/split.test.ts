import { tf, type Tensor } from '@shiftmix/core';
import { biasGelu, biasGeluReference } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { bindingTuning, matMulStats } from './index.js';
import { expectClose, normal } from './test-utils.js';

// Tensors past the device's largest storage binding (128 MiB on the null device and in
// browsers by default) are bound in ranges. The limit is lowered here to 64 KiB, so small
// tensors take the same paths: every result must equal the whole-binding run's.
const LIMIT = 64 * 1024;

useBackend('webgpu');
afterEach(() => {
  delete bindingTuning.maxBytes;
});

/** fn's results with the device's own limit, then with the lowered one. */
async function wholeAndSplit(fn: () => Tensor[]): Promise<[Tensor[], Tensor[]]> {
  const whole = fn();
  bindingTuning.maxBytes = LIMIT;
  const split = fn();
  delete bindingTuning.maxBytes;
  return [whole, split];
}

describe('bindings past the device limit', () => {
  // A [R, F] FFN activation of 300 x 160 floats (188 KiB): three ranges at 64 KiB.
  const [R, D, F] = [300, 24, 160];

  it('split every matmul of an FFN step along M or K and give the same products', async () => {
    const [x, w1, dy, w2] = [normal([R, D], 1), normal([D, F], 2), normal([R, D], 3), normal([F, D], 4)];
    const h = normal([R, F], 5);
    const before = matMulStats.split;
    const [whole, split] = await wholeAndSplit(() => [
      tf.matMul(x, w1), // C [R, F] past the limit: along M
      tf.matMul(h, w2), // A [R, F]: along M
      tf.matMul(dy, w2, false, true), // C [R, F], B transposed: along M
      tf.matMul(h, dy, true, false), // A^T with A [R, F]: along K, summed
      tf.matMul(x, h, true, false), // B [R, F]: along K, summed
    ]);
    expect(matMulStats.split - before).toBe(5);
    for (const [i, got] of split.entries()) await expectClose(got, whole[i], 1e-5, `product ${i}`);
  });

  it('split bias + GELU and its gradient along rows, the bias gradient summed over every range', async () => {
    // 240 KiB of rows: four ranges forward, five backward (1024-row ranges keep the partial sums aligned).
    const [rows, width] = [5000, 12];
    const [x, b, w] = [normal([rows, width], 6), normal([width], 7), normal([rows, width], 8)];
    const loss = (xx: Tensor, bb: Tensor) => tf.sum(tf.mul(biasGelu(xx, bb), w));
    const [whole, split] = await wholeAndSplit(() => [biasGelu(x, b), ...tf.grads(loss)([x, b])]);
    for (const [i, got] of split.entries()) await expectClose(got, whole[i], 1e-5, ['y', 'dx', 'db'][i]);
    await expectClose(whole[0], biasGeluReference(x, b), 1e-5, 'y vs reference');
  });
});
