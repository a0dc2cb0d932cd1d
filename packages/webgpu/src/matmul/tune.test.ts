import { isShiftmixError, tf } from '@shiftmix/core';
import { useBackend } from '@shiftmix/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { webGpuDevice, webGpuInfo } from '../backend.js';
import { expectClose, normal } from '../test-utils.js';
import { adapterIdentity } from '../tuning.js';
import {
  applyMatMulTuning,
  chooseTile,
  clearMatMulTuning,
  DEEP_K_TILES,
  MATMUL_TILES,
  SUBGROUP_TILES,
  matMulStats,
  matMulTuning,
  preferredTiles,
  tilesFor,
  tuneMatMulTiles,
  type MatMulShape,
  type MatMulTuningResult,
} from './index.js';

useBackend('webgpu');

const defaults = { ...matMulTuning };
afterEach(() => {
  clearMatMulTuning();
  Object.assign(matMulTuning, defaults);
});

const square = (n: number): MatMulShape => ({ batch: 1, m: n, n, k: n, transposeA: false, transposeB: false, broadcastA: false, broadcastB: false, outer: [] });
const label = (t: { bm: number; bn: number; bk: number }) => `${t.bm}x${t.bn}x${t.bk}`;
const caught = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  return undefined;
};

describe('matmul tile tuning on webgpu', () => {
  it('times every candidate this device runs and makes the fastest first its preference', async () => {
    const device = webGpuDevice()!;
    const result = await tuneMatMulTiles({ size: 48, reps: 2 });
    const candidates = tilesFor(device.limits, [...MATMUL_TILES, ...DEEP_K_TILES, ...SUBGROUP_TILES], device.features);
    expect(result.timings.map((t) => label(t.tile)).sort()).toEqual(candidates.map(label).sort());
    const times = result.timings.map((t) => t.ms);
    expect(times.every((ms) => ms > 0)).toBe(true);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(result).toMatchObject({ adapter: adapterIdentity(webGpuInfo()!.report), size: 48 });
    expect(result.clock).toBe(device.features.has('timestamp-query') ? 'gpu' : 'wall');
    expect(preferredTiles(device)).toEqual(result.timings.map((t) => t.tile));
    // The fastest tile is chosen wherever it fills the GPU.
    matMulTuning.minWorkgroups = 1;
    expect(chooseTile(square(512), device.limits, preferredTiles(device))).toEqual(result.timings[0].tile);
    expect(matMulTuning.forceTile).toBeUndefined();
  });

  it('leaves products as they were: the tuned kernel still matches tfjs', async () => {
    await tuneMatMulTiles({ size: 32, reps: 1 });
    Object.assign(matMulTuning, { minRows: 1, minColumns: 1, minBlocks: 0 });
    const [a, b] = [normal([70, 37], 1), normal([37, 90], 2)];
    const before = matMulStats.fast;
    const got = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
    expect(matMulStats.fast).toBeGreaterThan(before);
    matMulTuning.enabled = false;
    const want = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
    await expectClose(got, want, 1e-5, 'C');
    tf.dispose([a, b, got, want]);
  });

  it('applies a saved result on the same adapter, and clearMatMulTuning restores the default order', () => {
    const device = webGpuDevice()!;
    const reversed = [...tilesFor(device.limits)].reverse();
    const saved: MatMulTuningResult = JSON.parse(
      JSON.stringify({ adapter: adapterIdentity(webGpuInfo()!.report), size: 2048, clock: 'gpu', timings: reversed.map((tile, i) => ({ tile, ms: i + 1 })) }),
    );
    applyMatMulTuning(saved);
    expect(preferredTiles(device)).toEqual(reversed);
    clearMatMulTuning();
    expect(preferredTiles(device)).toBe(MATMUL_TILES);
  });

  it("refuses another adapter's result and one that is not a tuning", () => {
    const timings = [{ tile: MATMUL_TILES[0], ms: 1 }];
    const other = caught(() => applyMatMulTuning({ adapter: 'NVIDIA | hopper | H100 | vulkan', size: 2048, clock: 'gpu', timings }));
    expect(isShiftmixError(other) && /measured on "NVIDIA \| hopper \| H100 \| vulkan", but this adapter is/.test(other.message)).toBe(true);
    const adapter = adapterIdentity(webGpuInfo()!.report);
    for (const damaged of [{ adapter, timings: [] }, { adapter, timings: [{ tile: { bm: 64, bn: 128, bk: 16, tm: 3, tn: 8 }, ms: 1 }] }, null]) {
      const error = caught(() => applyMatMulTuning(damaged as unknown as MatMulTuningResult));
      expect(isShiftmixError(error) && /not a tuneMatMulTiles result/.test(error.message)).toBe(true);
    }
    expect(preferredTiles(webGpuDevice()!)).toBe(MATMUL_TILES);
  });

  it('names a bad size or repetition count', async () => {
    await expect(tuneMatMulTiles({ size: 8 })).rejects.toThrow(/size 8 is not a whole number >= 16/);
    await expect(tuneMatMulTiles({ reps: 0.5 })).rejects.toThrow(/reps 0.5 is not a whole number >= 1/);
  });
});

describe('chooseTile', () => {
  it('takes the first tile in the order that gives enough workgroups, else the one giving the most', () => {
    const limits = webGpuDevice()!.limits;
    const order = tilesFor(limits);
    matMulTuning.minWorkgroups = 4;
    // 256 x 256: 64 x 128 gives 8 workgroups, 128 x 128 gives 4, 32 x 32 gives 64.
    expect(label(chooseTile(square(256), limits, order)!)).toBe(label(order[0]));
    matMulTuning.minWorkgroups = 10_000;
    const smallest = order.reduce((a, b) => (a.bm * a.bn <= b.bm * b.bn ? a : b));
    expect(chooseTile(square(256), limits, [...order].reverse())).toEqual(smallest);
    expect(chooseTile(square(256), limits, order)).toEqual(smallest);
  });
});
