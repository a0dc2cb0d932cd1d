import { tf, type Tensor } from '@shiftmix/core';
import { expect } from 'vitest';

/** Asserts max |actual - expected| <= tol * (1 + max |expected|), naming the worst index. */
export async function expectClose(actual: Tensor, expected: Tensor, tol = 1e-5, label = ''): Promise<void> {
  expect(actual.shape, `${label} shape`).toEqual(expected.shape);
  const [a, e] = await Promise.all([actual.data(), expected.data()]);
  let worst = 0;
  let at = -1;
  let scale = 0;
  for (let i = 0; i < e.length; i++) {
    scale = Math.max(scale, Math.abs(e[i]));
    const diff = Math.abs(a[i] - e[i]);
    if (!(diff <= worst)) {
      worst = diff;
      at = i;
    }
  }
  const limit = tol * (1 + scale);
  expect(worst, `${label} differs most at flat index ${at}: ${a[at]} vs ${e[at]}`).toBeLessThanOrEqual(limit);
}

/** A seeded normal tensor, the same numbers on every backend. */
export function normal(shape: number[], seed: number): Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}
