import { layerNorm, ShiftmixError, tf, type Tensor } from '@shiftmix/core';
import { ADD_LAYER_NORM, addLayerNorm, LAYER_NORM, LAYER_NORM_GRAD, layerNormReference } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { layerNormTuning } from './index.js';
import { expectClose, normal } from './test-utils.js';

useBackend('webgpu');

function fusedLayerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return tf.engine().runKernel(LAYER_NORM.name, { x, gamma, beta }, { eps }) as Tensor;
}

function fusedAddLayerNorm(x: Tensor, h: Tensor, gamma: Tensor, beta: Tensor): Tensor[] {
  return tf.engine().runKernel(ADD_LAYER_NORM.name, { x, h, gamma, beta }, { eps: 1e-5 }) as Tensor[];
}

/** Inputs with a per-row offset and spread, so mean and variance both matter. */
function rowsOf(shape: number[], seed: number): Tensor {
  const rows = shape.slice(0, -1);
  return tf.add(tf.mul(normal(shape, seed), tf.add(tf.abs(normal([...rows, 1], seed + 1)), 0.5)), normal([...rows, 1], seed + 2));
}

const chunk = layerNormTuning.rowsPerWorkgroup;

// Forward and gradients against the composite, case by case, are parity/norm-checks.ts's.
describe('ShiftmixLayerNorm on webgpu', () => {
  it('has dgamma = sum of dy * xhat and dbeta = sum of dy over rows, by plain loops', async () => {
    const [rows, dim] = [2 * chunk + 5, 6];
    const x = rowsOf([rows, dim], 7);
    const dy = normal([rows, dim], 8);
    const [, dgamma, dbeta] = tf.engine().runKernel(LAYER_NORM_GRAD.name, { dy, x, gamma: tf.ones([dim]) }, { eps: 1e-5 }) as Tensor[];
    const [xs, gs] = [await x.data(), await dy.data()];
    const wantGamma = new Float64Array(dim);
    const wantBeta = new Float64Array(dim);
    for (let r = 0; r < rows; r++) {
      const row = Array.from(xs.subarray(r * dim, (r + 1) * dim));
      const mean = row.reduce((a, b) => a + b, 0) / dim;
      const rstd = 1 / Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / dim + 1e-5);
      for (let c = 0; c < dim; c++) {
        wantGamma[c] += gs[r * dim + c] * (row[c] - mean) * rstd;
        wantBeta[c] += gs[r * dim + c];
      }
    }
    await expectClose(dgamma, tf.tensor1d(Array.from(wantGamma)), 1e-5, 'dgamma');
    await expectClose(dbeta, tf.tensor1d(Array.from(wantBeta)), 1e-5, 'dbeta');
  });

  it("is what core's layerNorm runs on webgpu, eps included", async () => {
    const x = rowsOf([3, 8], 9);
    const [gamma, beta] = [normal([8], 10), normal([8], 11)];
    await expectClose(layerNorm(x, gamma, beta, 0.1), layerNormReference(x, gamma, beta, 0.1), 1e-5, 'eps 0.1');
    const profile = await tf.profile(() => layerNorm(x, gamma, beta));
    expect(profile.kernelNames).toEqual([LAYER_NORM.name]);
  });

  it('rejects gamma of the wrong length and int32 input with a ShiftmixError', () => {
    const v = tf.ones([4]);
    expect(() => fusedLayerNorm(tf.ones([2, 4]), tf.ones([3]), tf.ones([3]))).toThrow(ShiftmixError);
    expect(() => fusedLayerNorm(tf.ones([2, 4], 'int32'), v, v)).toThrow(ShiftmixError);
  });
});

// Its outputs and gradients against the composite, case by case, are parity/norm-checks.ts's.
describe('ShiftmixAddLayerNorm on webgpu', () => {
  const composite = (x: Tensor, h: Tensor, g: Tensor, b: Tensor): Tensor[] => {
    const sum = tf.add(x, h);
    return [sum, layerNormReference(sum, g, b)];
  };

  it('gives x and h separate gradients when only the normed output is used, and when x is h', async () => {
    const x = rowsOf([4, 6], 18);
    const [gamma, beta, w] = [normal([6], 19), normal([6], 20), normal([4, 6], 21)];
    const normedOnly = (f: typeof composite) => (a: Tensor, b: Tensor) => tf.sum(tf.mul(f(a, b, gamma, beta)[1], w));
    const got = tf.grads(normedOnly(fusedAddLayerNorm))([x, tf.mul(x, 0.5)]);
    const want = tf.grads(normedOnly(composite))([x, tf.mul(x, 0.5)]);
    await expectClose(got[0], want[0], 1e-5, 'dx');
    await expectClose(got[1], want[1], 1e-5, 'dh');
    const same = (f: typeof composite) => (a: Tensor) => {
      const [sum, normed] = f(a, a, gamma, beta);
      return tf.add(tf.sum(sum), tf.sum(tf.mul(normed, w)));
    };
    await expectClose(tf.grad(same(fusedAddLayerNorm))(x), tf.grad(same(composite))(x), 1e-5, 'd(x, x)');
  });

  it("is what core's addLayerNorm runs on webgpu", async () => {
    const [x, h] = [rowsOf([2, 3, 8], 22), normal([2, 3, 8], 23)];
    const [gamma, beta] = [normal([8], 24), normal([8], 25)];
    const profile = await tf.profile(() => {
      const { sum, normed } = addLayerNorm(x, h, gamma, beta);
      return [sum, normed];
    });
    expect(profile.kernelNames).toEqual([ADD_LAYER_NORM.name]);
  });
});
