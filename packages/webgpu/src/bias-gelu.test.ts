import { biasGelu, gelu, selectBackend, tf, type Tensor } from '@shiftmix/core';
import { biasGeluReference } from '@shiftmix/core/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIAS_GELU_KERNEL, biasGeluTuning } from './index.js';
import { expectClose, normal } from './test-utils.js';

// No adapter is a failure, not a skip: CI installs Mesa so that these kernels really run.
beforeAll(async () => {
  const info = await selectBackend('webgpu');
  expect(info.backend).toBe('webgpu');
});

function fused(x: Tensor, b: Tensor): Tensor {
  return tf.engine().runKernel(BIAS_GELU_KERNEL, { x, b }) as Tensor;
}

const chunk = biasGeluTuning.rowsPerThread * biasGeluTuning.lanes;
// Row counts off the backward's chunk; H = 1, 3, 5 take the scalar path, the others vec4;
// 4 * 32 + 12 channels spill past one workgroup's columns.
const shapes: number[][] = [
  [2, 7, 1],
  [3, 5, 3],
  [chunk + 9, 5],
  [2, 9, 384],
  [3, 1000],
  [2, chunk, 4 * biasGeluTuning.columnsPerWorkgroup + 12],
];

describe('ShiftmixBiasGelu on webgpu', () => {
  for (const shape of shapes) {
    it(`matches gelu(x + b) and its dx, db: ${JSON.stringify(shape)}`, async () => {
      const dim = shape[shape.length - 1];
      const x = tf.mul(normal(shape, 1), 2);
      const b = normal([dim], 2);
      const w = normal(shape, 3); // makes dy differ per element
      await expectClose(fused(x, b), biasGeluReference(x, b), 1e-5, 'forward');
      const loss = (f: typeof fused) => (a: Tensor, c: Tensor) => tf.sum(tf.mul(f(a, c), w));
      const got = tf.grads(loss(fused))([x, b]);
      const want = tf.grads(loss(biasGeluReference))([x, b]);
      await expectClose(got[0], want[0], 1e-5, 'dx');
      await expectClose(got[1], want[1], 1e-5, 'db');
      // db is the column sum of dx (b is broadcast over the rows), whatever the composite says.
      await expectClose(got[1], tf.sum(got[0].reshape([-1, dim]), 0), 1e-5, 'db = sum of dx');
      tf.dispose([x, b, w, ...got, ...want]);
    });
  }

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
    expect(profile.kernelNames).toEqual([BIAS_GELU_KERNEL]);
    await expectClose(biasGelu(x, b), gelu(tf.add(x, b)), 1e-5, 'core');
  });
});
