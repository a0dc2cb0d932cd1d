import { causalAttention, tf, type Tensor } from '@shiftmix/core';
import { ATTENTION, causalAttentionComposite } from '@shiftmix/core/kernels';
import { describe, expect, it } from 'vitest';
import { attentionKeepMask, expectClose, normal, useAttentionKernels } from '../test-utils.js';
import { attentionStorage, chooseAttentionTiles } from './index.js';
import { headLayout } from './wgsl.js';

useAttentionKernels();

interface Attrs {
  window?: number;
  dropoutRate?: number;
  seed?: number;
}

function fused(q: Tensor, k: Tensor, v: Tensor, attrs: Attrs = {}): Tensor {
  const hd = q.shape[3]!;
  const full = { window: attrs.window ?? 0, dropoutRate: attrs.dropoutRate ?? 0, seed: attrs.seed ?? 0, scale: 1 / Math.sqrt(hd) };
  return tf.engine().runKernel(ATTENTION.name, { q, k, v }, full) as Tensor;
}

// Forward and gradients against the composite, case by case, are parity/attention-checks.ts's.
describe('flash attention on webgpu', () => {
  it('is what core dispatches causalAttention to', () => {
    expect(ATTENTION.implementedOn()).toBe(true);
  });

  // That forward and backward apply this mask is parity/attention-checks.ts's dropout case.
  it('keeps about 1 - rate of the probabilities, and another seed gives another mask', async () => {
    const shape: [number, number, number, number] = [1, 2, 23, 8];
    const [rate, seed] = [0.3, 1234567];
    const keep = attentionKeepMask(shape, rate, seed);
    const kept = (await tf.greater(keep, 0).sum().data())[0] / keep.size;
    expect(kept).toBeGreaterThan(0.6);
    expect(kept).toBeLessThan(0.8);
    const other = fused(normal(shape, 1), normal(shape, 2), normal(shape, 3), { dropoutRate: rate, seed: seed + 1 });
    const first = fused(normal(shape, 1), normal(shape, 2), normal(shape, 3), { dropoutRate: rate, seed });
    expect((await tf.max(tf.abs(tf.sub(other, first))).data())[0]).toBeGreaterThan(1e-3);
  });

  it('picks blocks within the device limits and refuses a head too wide for any', () => {
    const limits = { maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 256 } as GPUSupportedLimits;
    for (const hd of [8, 64, 130]) {
      const use = attentionStorage(headLayout(hd), chooseAttentionTiles(hd, limits));
      for (const bytes of Object.values(use)) expect(bytes).toBeLessThanOrEqual(32768);
    }
    expect(() => chooseAttentionTiles(2000, limits)).toThrow(/workgroup memory/);
  });

  it('keeps no tensors after a gradient step and runs through causalAttention', async () => {
    const shape: [number, number, number, number] = [1, 2, 19, 8];
    const [q, k, v] = [5, 6, 7].map((seed) => normal(shape, seed));
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: Tensor, b: Tensor, c: Tensor) => tf.sum(causalAttention(a, b, c, { training: true })))([q, k, v]);
    tf.dispose(grads);
    const y = causalAttention(q, k, v, { training: false });
    const reference = causalAttentionComposite(q, k, v, { training: false });
    await expectClose(y, reference, 2e-5, 'O');
    tf.dispose([y, reference]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
