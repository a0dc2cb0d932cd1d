import { expect } from 'vitest';
import { loadNative } from '../index.js';
import { Rng, selectBackend, type Tensor, tf } from '@shiftmix/core';

// Shared by the parity tests of the wasm backend's native kernels: each runs a function on
// the pure-JS cpu backend (the composite reference) and on wasm (the kernels).

export function values(size: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: size }, () => (rng.next() * 2 - 1) * scale);
}

/** Runs f on cpu (the reference) and on wasm (the kernels `kernels` must run there). */
export async function onBoth(f: () => Float32Array[], kernels: string[]): Promise<[Float32Array[], Float32Array[]]> {
  await selectBackend('cpu');
  const expected = f();
  await selectBackend('wasm');
  // Without the built addon the kernels below are missing; say why first.
  expect(loadNative().reason).toBeUndefined();
  const names = (await tf.profile(f)).kernels.map((k) => k.name);
  for (const k of kernels) expect(names).toContain(k);
  return [expected, f()];
}

export function expectClose(actual: Float32Array[], expected: Float32Array[], tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a.length).toBe(expected[i].length);
    // Relative to the largest expected value, and absolute below 1.
    let scale = 1;
    for (const e of expected[i]) scale = Math.max(scale, Math.abs(e));
    for (let j = 0; j < a.length; j++) {
      if (Number.isNaN(expected[i][j])) expect(a[j]).toBeNaN();
      else expect(Math.abs(a[j] - expected[i][j]) / scale).toBeLessThan(tolerance);
    }
  });
}

/** Output and the gradients of sum(f(inputs) * weights) with respect to every input. */
export function withGrads(shapes: number[][], f: (...xs: Tensor[]) => Tensor): () => Float32Array[] {
  return () =>
    tf.tidy(() => {
      const inputs = shapes.map((s, i) => tf.tensor(values(tf.util.sizeFromShape(s), i + 1, 2), s));
      const y = f(...inputs);
      const w = tf.tensor(values(y.size, 99), y.shape);
      const grads = tf.grads((...xs: Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(inputs);
      return [y, ...grads].map((t) => t.dataSync() as Float32Array);
    });
}
