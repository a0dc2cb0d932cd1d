import { causalAttention, tf, type Tensor } from '@shiftmix/core';
import { SHIFTMIX_ATTENTION_KERNEL, causalAttentionComposite, hasFusedAttention } from '@shiftmix/core/kernels';
import { describe, expect, it } from 'vitest';
import { attentionKeepMask, expectClose, maskedAttention, normal, useAttentionKernels } from '../test-utils.js';
import { attentionStorage, attentionTuning, chooseAttentionTiles } from './index.js';
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
  return tf.engine().runKernel(SHIFTMIX_ATTENTION_KERNEL, { q, k, v }, full) as Tensor;
}

async function expectParity(shape: [number, number, number, number], attrs: Attrs, reference: (q: Tensor, k: Tensor, v: Tensor) => Tensor): Promise<void> {
  const [q, k, v] = [1, 2, 3].map((seed) => normal(shape, seed));
  const weights = normal(shape, 4); // makes dO differ per element
  await expectClose(fused(q, k, v, attrs), reference(q, k, v), 2e-5, 'O');
  const loss = (f: (q: Tensor, k: Tensor, v: Tensor) => Tensor) => (a: Tensor, b: Tensor, c: Tensor) => tf.sum(tf.mul(f(a, b, c), weights));
  const got = tf.grads(loss((a, b, c) => fused(a, b, c, attrs)))([q, k, v]);
  const want = tf.grads(loss(reference))([q, k, v]);
  for (const [i, name] of ['dQ', 'dK', 'dV'].entries()) await expectClose(got[i], want[i], 5e-5, name);
  tf.dispose([q, k, v, weights, ...got, ...want]);
}

const cases: { name: string; shape: [number, number, number, number]; window?: number; tiles?: boolean }[] = [
  { name: 'full causal, several key blocks', shape: [1, 2, 37, 16] },
  { name: 'hd not a multiple of 4 (scalar rows)', shape: [2, 1, 21, 10] },
  { name: 'sliding window', shape: [1, 2, 45, 8], window: 7 },
  { name: 'window wider than T', shape: [1, 1, 9, 12], window: 64 },
  { name: 'T smaller than a block', shape: [2, 2, 5, 4] },
  { name: '16 x 16 blocks, window across blocks', shape: [1, 1, 70, 20], window: 19, tiles: true },
  { name: 'wide head (the 8-wide blocks on 32 KiB devices)', shape: [1, 1, 13, 130] },
];

describe('flash attention on webgpu', () => {
  it('is what core dispatches causalAttention to', () => {
    expect(hasFusedAttention()).toBe(true);
  });

  for (const { name, shape, window, tiles } of cases) {
    it(`matches the composite forward and gradients: ${name} ${JSON.stringify(shape)}${window ? ` window ${window}` : ''}`, async () => {
      if (tiles) attentionTuning.tiles = { forward: { bq: 16, bk: 16 }, keyGrad: { bk: 16, bq: 16 }, queryGrad: { bq: 16, bk: 16 } };
      await expectParity(shape, { window }, (q, k, v) => causalAttentionComposite(q, k, v, { window, training: false }));
    });
  }

  it('applies the counter-based dropout mask in forward and backward', async () => {
    const shape: [number, number, number, number] = [1, 2, 23, 8];
    const [rate, seed] = [0.3, 1234567];
    const keep = attentionKeepMask(shape, rate, seed);
    const kept = (await tf.greater(keep, 0).sum().data())[0] / keep.size;
    expect(kept).toBeGreaterThan(0.6);
    expect(kept).toBeLessThan(0.8);
    await expectParity(shape, { dropoutRate: rate, seed, window: 11 }, (q, k, v) => maskedAttention(q, k, v, 11, keep));
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
