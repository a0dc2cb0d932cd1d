import { selectBackend, tf, type Tensor, type Tensor3D } from '@shiftmix/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUSION_BLEND_KERNEL, fusionBlendComposite } from './index.js';
import { expectClose, normal } from './test-utils.js';

// No adapter is a failure, not a skip: CI installs Mesa so that these kernels really run.
beforeAll(async () => {
  expect((await selectBackend('webgpu')).backend).toBe('webgpu');
});

function fused(g: Tensor, v: Tensor, shifts: number[]): Tensor {
  return tf.engine().runKernel(FUSION_BLEND_KERNEL, { g, v }, { shifts }) as Tensor;
}

const cases: { name: string; shape: [number, number, number]; shifts: number[] }[] = [
  { name: 'one group, vec4 path', shape: [2, 7, 8], shifts: [2] },
  { name: 'groups straddling vec4 lanes, a shift beyond T', shape: [2, 10, 28], shifts: [1, 3, 12] },
  { name: 'odd D (scalar path), T off the workgroup', shape: [3, 97, 5], shifts: [4, 1] },
];

describe('ShiftmixFusionBlend on webgpu', () => {
  for (const { name, shape, shifts } of cases) {
    it(`matches the composite forward and gradients: ${name} ${JSON.stringify(shape)} shifts ${shifts}`, async () => {
      const g = tf.sigmoid(normal(shape, 11)) as Tensor3D;
      const v = normal(shape, 12) as Tensor3D;
      const weights = normal(shape, 13);

      await expectClose(fused(g, v, shifts), fusionBlendComposite(g, v, shifts), 1e-6, 'forward');

      const loss = (blend: (g: Tensor, v: Tensor) => Tensor) => (x: Tensor, y: Tensor) => tf.sum(tf.mul(blend(x, y), weights));
      const got = tf.grads(loss((x, y) => fused(x, y, shifts)))([g, v]);
      const want = tf.grads(loss((x, y) => fusionBlendComposite(x as Tensor3D, y as Tensor3D, shifts)))([g, v]);
      await expectClose(got[0], want[0], 1e-6, 'dG');
      await expectClose(got[1], want[1], 1e-6, 'dV');
      tf.dispose([g, v, weights, ...got, ...want]);
    });
  }

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
