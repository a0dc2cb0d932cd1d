import { tf, type Tensor } from '@shiftmix/core';
import { useBackend } from '@shiftmix/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, normal } from '../test-utils.js';
import { matMulStats, matMulTuning, registerMatMulKernels } from './index.js';

useBackend('webgpu');
beforeAll(() => registerMatMulKernels());

afterEach(() => {
  matMulTuning.enabled = true;
  matMulTuning.forceTile = undefined;
  Object.assign(matMulTuning, defaults);
});

const defaults = { ...matMulTuning };

/** Lets the kernel take the small products these tests use. */
function takeSmallProducts(): void {
  matMulTuning.minRows = 1;
  matMulTuning.minColumns = 1;
  matMulTuning.minBlocks = 0;
}

/** Runs fn with the register-tiled kernel (checking that it ran) or with tfjs's own. */
function withKernel<T>(fast: boolean, fn: () => T): T {
  matMulTuning.enabled = fast;
  const before = matMulStats.fast;
  const out = fn();
  if (fast) expect(matMulStats.fast, 'the register-tiled kernel ran').toBeGreaterThan(before);
  matMulTuning.enabled = true;
  return out;
}

function naive(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));
}

// Every transpose, forward and gradients, with each tile against tfjs's matmul is
// parity/matmul-checks.ts's.
describe('register-tiled matmul on webgpu', () => {
  it('equals a naive product (ragged M, N, K)', async () => {
    takeSmallProducts();
    const a = normal([37, 19], 1);
    const b = normal([19, 45], 2);
    const got = withKernel(true, () => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D));
    const want = tf.tensor2d(naive((await a.array()) as number[][], (await b.array()) as number[][]));
    await expectClose(got, want, 1e-5, 'C');
  });

  it('broadcasts a shared operand over the batch and keeps the batch dims', async () => {
    takeSmallProducts();
    const a = normal([2, 3, 33, 20], 6);
    const b = normal([20, 44], 7); // N % 4 == 0: the vec4 store path
    const got = withKernel(true, () => tf.matMul(a as tf.Tensor4D, b as tf.Tensor2D as unknown as tf.Tensor4D));
    const want = withKernel(false, () => tf.matMul(a as tf.Tensor4D, b as tf.Tensor2D as unknown as tf.Tensor4D));
    expect(got.shape).toEqual([2, 3, 33, 44]);
    await expectClose(got, want, 1e-5, 'C');
    const shared = normal([1, 44, 20], 8);
    const left = withKernel(true, () => tf.matMul(shared as tf.Tensor3D, normal([5, 20, 36], 9) as tf.Tensor3D));
    const right = withKernel(false, () => tf.matMul(shared as tf.Tensor3D, normal([5, 20, 36], 9) as tf.Tensor3D));
    await expectClose(left, right, 1e-5, 'shared A');
  });

  it('fuses bias and activations like tfjs (_FusedMatMul), with gradients', async () => {
    takeSmallProducts();
    const a = normal([41, 23], 10);
    const b = normal([23, 34], 11);
    const bias = normal([34], 12);
    for (const activation of ['linear', 'relu', 'elu', 'sigmoid', 'leakyrelu'] as const) {
      const run = () => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation, leakyreluAlpha: 0.1 });
      await expectClose(withKernel(true, run), withKernel(false, run), 1e-5, activation);
    }
    const loss = (x: Tensor, y: Tensor, c: Tensor) =>
      tf.sum(tf.square(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: c, activation: 'relu' })));
    const got = withKernel(true, () => tf.grads(loss)([a, b, bias]));
    const want = withKernel(false, () => tf.grads(loss)([a, b, bias]));
    for (let i = 0; i < 3; i++) await expectClose(got[i], want[i], 1e-4, `grad ${i}`);
  });

  it('leaves small products and int32 to tfjs', async () => {
    const before = { ...matMulStats };
    const c = tf.matMul(tf.ones([4, 8]), tf.ones([8, 3]));
    const d = tf.matMul(tf.ones([40, 40], 'int32'), tf.ones([40, 40], 'int32'));
    expect(Array.from(await c.data()).every((x) => x === 8)).toBe(true);
    expect(Array.from(await d.data()).every((x) => x === 40)).toBe(true);
    expect(matMulStats.fast).toBe(before.fast);
    expect(matMulStats.tfjs).toBe(before.tfjs + 2);
  });
});
