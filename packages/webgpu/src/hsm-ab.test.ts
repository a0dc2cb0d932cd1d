import { isShiftmixError, selectBackend, tf, type Tensor, type Tensor1D, type Tensor3D } from '@shiftmix/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HSM_AB_KERNEL, hsmAbComposite, hsmAbTuning } from './index.js';
import { expectClose, normal } from './test-utils.js';

// No adapter is a failure, not a skip: CI installs Mesa so that these kernels really run.
beforeAll(async () => {
  const info = await selectBackend('webgpu');
  expect(info.backend).toBe('webgpu');
});

function fused(u: Tensor, a: Tensor, b: Tensor, shifts: number[]): Tensor {
  return tf.engine().runKernel(HSM_AB_KERNEL, { u, a, b }, { shifts }) as Tensor;
}

const rowsPerWorkgroup = hsmAbTuning.rowsPerThread * hsmAbTuning.lanes;
const cases: { name: string; shape: [number, number, number]; shifts: number[] }[] = [
  { name: 'one group, vec4 path', shape: [2, 9, 8], shifts: [3] },
  { name: 'groups straddling vec4 lanes', shape: [2, 11, 20], shifts: [1, 4, 7] },
  { name: 'odd D (scalar path), a shift beyond T', shape: [3, 13, 7], shifts: [2, 5, 40] },
  { name: 'T and D off the workgroup tiles', shape: [2, rowsPerWorkgroup + 5, 4 * hsmAbTuning.columnsPerWorkgroup + 12], shifts: [1, 2, 3, 9, 70] },
  { name: 'every shift beyond T', shape: [1, 6, 9], shifts: [6, 11] },
];

describe('ShiftmixHsmAb on webgpu', () => {
  for (const { name, shape, shifts } of cases) {
    it(`matches the composite forward and gradients: ${name} ${JSON.stringify(shape)} shifts ${shifts}`, async () => {
      const dim = shape[2];
      const u = normal(shape, 1) as Tensor3D;
      const a = normal([dim], 2) as Tensor1D;
      const b = normal([dim], 3) as Tensor1D;
      const weights = normal(shape, 4); // makes dY differ per element

      await expectClose(fused(u, a, b, shifts), hsmAbComposite(u, a, b, shifts), 1e-6, 'forward');

      const loss = (mix: (u: Tensor, a: Tensor, b: Tensor) => Tensor) => (x: Tensor, p: Tensor, q: Tensor) => tf.sum(tf.mul(mix(x, p, q), weights));
      const got = tf.grads(loss((x, p, q) => fused(x, p, q, shifts)))([u, a, b]);
      const want = tf.grads(loss((x, p, q) => hsmAbComposite(x as Tensor3D, p as Tensor1D, q as Tensor1D, shifts)))([u, a, b]);
      await expectClose(got[0], want[0], 1e-6, 'dU');
      await expectClose(got[1], want[1], 1e-5, 'da');
      await expectClose(got[2], want[2], 1e-5, 'db');
      tf.dispose([u, a, b, weights, ...got, ...want]);
    });
  }

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
