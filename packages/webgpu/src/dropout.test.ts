import { dropout, ShiftmixError, tf, type Tensor } from '@shiftmix/core';
import { DROPOUT } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { dropoutHash, dropoutScale, dropoutThreshold } from './index.js';
import { normal } from './test-utils.js';

useBackend('webgpu');

function run(x: Tensor, rate: number, seed: number): Tensor {
  return tf.engine().runKernel(DROPOUT.name, { x }, { rate, seed }) as Tensor;
}

/** Mask from the JS reference of the hash: 1 where element i is kept. */
function referenceMask(size: number, rate: number, seed: number): Uint8Array {
  const threshold = dropoutThreshold(rate);
  return Uint8Array.from({ length: size }, (_, i) => (dropoutHash(seed, i) >= threshold ? 1 : 0));
}

// That it keeps exactly the JS hash's elements, scaled, is parity/mix-checks.ts's.
describe('ShiftmixDropout on webgpu', () => {
  it('keeps about 1 - rate of a large tensor, the same mask for a seed, another for another seed', async () => {
    const size = 1 << 16;
    const x = tf.ones([size]);
    for (const rate of [0.1, 0.5, 0.9]) {
      const kept = (await run(x, rate, 7).data()).filter((v) => v !== 0).length / size;
      // Binomial standard deviation at n = 65536 is at most 0.002; allow 5 of them.
      expect(Math.abs(kept - (1 - rate)), `rate ${rate}`).toBeLessThan(0.01);
    }
    const [a, b, c] = await Promise.all([run(x, 0.5, 7).data(), run(x, 0.5, 7).data(), run(x, 0.5, 8).data()]);
    expect(Array.from(a)).toEqual(Array.from(b));
    const differ = a.filter((v, i) => (v === 0) !== (c[i] === 0)).length / size;
    expect(Math.abs(differ - 0.5)).toBeLessThan(0.02); // independent masks disagree half the time
  });

  it("has gradient mask * scale * dy, through core's dropout", async () => {
    const shape = [2, 6, 8];
    const rate = 0.25;
    const x = normal(shape, 2);
    const w = normal(shape, 3); // dy = w
    const [dx] = tf.grads((t: Tensor) => tf.sum(tf.mul(dropout(t, rate, true, 99), w)))([x]);
    const [got, ws] = await Promise.all([dx.data(), w.data()]);
    const mask = referenceMask(ws.length, rate, 99);
    const scale = dropoutScale(rate);
    // + 0 folds the -0 of a dropped negative dy into 0.
    for (let i = 0; i < ws.length; i++) expect(got[i] + 0, `element ${i}`).toBe(mask[i] ? Math.fround(ws[i] * scale) : 0);
  });

  it("is what core's dropout runs on webgpu", async () => {
    const x = normal([4, 4, 4], 4);
    expect(Array.from(await dropout(x, 0.4, true, 5).data())).toEqual(Array.from(await run(x, 0.4, 5).data()));
  });

  it('rejects a rate outside [0, 1) and int32 input with a ShiftmixError', () => {
    expect(() => run(tf.ones([4]), 1, 1)).toThrow(ShiftmixError);
    expect(() => run(tf.ones([4], 'int32'), 0.5, 1)).toThrow(ShiftmixError);
  });
});
