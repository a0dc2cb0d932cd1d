import { causalAttention, isShiftmixError, tf, type Tensor } from '@shiftmix/core';
import { causalAttentionComposite } from '@shiftmix/core/kernels';
import { afterEach, describe, expect, it } from 'vitest';
import { webGpuDevice, webGpuInfo } from '../backend.js';
import { expectClose, normal, useAttentionKernels } from '../test-utils.js';
import { adapterIdentity } from '../tuning.js';
import {
  ATTENTION_BLOCKS,
  EXTRA_ATTENTION_BLOCKS,
  applyAttentionTuning,
  attentionBlockFits,
  attentionTuning,
  chooseAttentionTiles,
  clearAttentionTuning,
  tuneAttentionTiles,
  type AttentionTiles,
  type AttentionTuningResult,
} from './index.js';

useAttentionKernels();
afterEach(() => clearAttentionTuning());

const KINDS = ['forward', 'keyGrad', 'queryGrad'] as const;
const HD = 8;

/** Fused forward and gradients against the composite, with the device's current blocks. */
async function expectParity(shape: [number, number, number, number]): Promise<void> {
  const [q, k, v] = [1, 2, 3].map((seed) => normal(shape, seed));
  const weights = normal(shape, 4);
  const loss = (f: (q: Tensor, k: Tensor, v: Tensor) => Tensor) => (a: Tensor, b: Tensor, c: Tensor) => tf.sum(tf.mul(f(a, b, c), weights));
  const fused = (a: Tensor, b: Tensor, c: Tensor) => causalAttention(a, b, c, { training: false });
  const composite = (a: Tensor, b: Tensor, c: Tensor) => causalAttentionComposite(a, b, c, { training: false });
  await expectClose(fused(q, k, v), composite(q, k, v), 2e-5, 'O');
  const [got, want] = [tf.grads(loss(fused))([q, k, v]), tf.grads(loss(composite))([q, k, v])];
  for (const [i, name] of ['dQ', 'dK', 'dV'].entries()) await expectClose(got[i], want[i], 5e-5, name);
  tf.dispose([q, k, v, weights, ...got, ...want]);
}

const label = (b: { bq: number; bk: number }) => `${b.bq}x${b.bk}`;

describe('attention block tuning on webgpu', () => {
  it('times every block that fits, per kernel, and makes the fastest of each the choice for that head width', async () => {
    const device = webGpuDevice()!;
    const result = await tuneAttentionTiles({ headDim: HD, length: 40, heads: 2, reps: 1 });
    for (const kind of KINDS) {
      const fitting = [...ATTENTION_BLOCKS[kind], ...EXTRA_ATTENTION_BLOCKS[kind]].filter((b) => attentionBlockFits(kind, b, HD, device.limits));
      expect(result.timings[kind].map((t) => label(t.block)).sort()).toEqual(fitting.map(label).sort());
      const times = result.timings[kind].map((t) => t.ms);
      expect(times.every((ms) => ms > 0)).toBe(true);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(result.tiles[kind]).toEqual(result.timings[kind][0].block);
    }
    expect(result).toMatchObject({ adapter: adapterIdentity(webGpuInfo()!.report), headDim: HD, length: 40, heads: 2 });
    expect(chooseAttentionTiles(HD, device.limits, device)).toEqual(result.tiles);
    // Other head widths, and callers that name no device, keep the default blocks.
    expect(chooseAttentionTiles(16, device.limits, device)).toEqual(chooseAttentionTiles(16, device.limits));
    clearAttentionTuning();
    expect(chooseAttentionTiles(HD, device.limits, device)).toEqual(chooseAttentionTiles(HD, device.limits));
  });

  // The tuner may pick any of these, so each must compute what the composite does.
  for (const kind of KINDS) {
    for (const block of EXTRA_ATTENTION_BLOCKS[kind]) {
      it(`computes the composite's forward and gradients with the ${kind} block ${label(block)}`, async () => {
        attentionTuning.tiles = { [kind]: block } as Partial<AttentionTiles>;
        await expectParity([1, 2, 83, 12]);
        await expectParity([2, 1, 29, 10]);
      });
    }
  }

  it('applies a saved result on the same adapter, and the attention then matches the composite', async () => {
    const device = webGpuDevice()!;
    const tiles: AttentionTiles = { forward: { bq: 16, bk: 16 }, keyGrad: { bk: 16, bq: 8 }, queryGrad: { bq: 16, bk: 8 } };
    const saved = JSON.parse(
      JSON.stringify({ adapter: adapterIdentity(webGpuInfo()!.report), headDim: HD, length: 1024, heads: 24, clock: 'gpu', timings: {}, tiles }),
    );
    applyAttentionTuning(saved);
    expect(chooseAttentionTiles(HD, device.limits, device)).toEqual(tiles);
    await expectParity([2, 1, 37, HD]);
  });

  it("refuses another adapter's result, a block that does not fit, and what is not a tuning", () => {
    const adapter = adapterIdentity(webGpuInfo()!.report);
    const tiles: AttentionTiles = { forward: { bq: 16, bk: 16 }, keyGrad: { bk: 16, bq: 16 }, queryGrad: { bq: 16, bk: 16 } };
    const base = { adapter, headDim: HD, length: 64, heads: 2, clock: 'wall' as const, timings: { forward: [], keyGrad: [], queryGrad: [] } };
    const attempt = (result: unknown) => {
      try {
        applyAttentionTuning(result as AttentionTuningResult);
      } catch (error) {
        return error as Error;
      }
      return undefined;
    };
    const other = attempt({ ...base, adapter: 'NVIDIA | hopper | H100 | vulkan', tiles });
    expect(isShiftmixError(other) && /measured on "NVIDIA \| hopper \| H100 \| vulkan", but this adapter is/.test(other.message)).toBe(true);
    const huge = attempt({ ...base, tiles: { ...tiles, forward: { bq: 512, bk: 512 } } });
    expect(isShiftmixError(huge) && /the tuned forward block does not fit/.test(huge.message)).toBe(true);
    for (const damaged of [{ ...base, tiles: { ...tiles, keyGrad: { bk: 6, bq: 16 } } }, { ...base, tiles: undefined }, null]) {
      const error = attempt(damaged);
      expect(isShiftmixError(error) && /not a tuneAttentionTiles result/.test(error.message)).toBe(true);
    }
    const device = webGpuDevice()!;
    expect(chooseAttentionTiles(HD, device.limits, device)).toEqual(chooseAttentionTiles(HD, device.limits));
  });

  it('names a bad option', async () => {
    await expect(tuneAttentionTiles({ headDim: 0 })).rejects.toThrow(/headDim 0 is not a whole number >= 1/);
    await expect(tuneAttentionTiles({ headDim: 8, length: 2.5 })).rejects.toThrow(/length 2.5 is not a whole number >= 1/);
  });
});
