/// <reference types="@webgpu/types" />
import { ShiftmixError } from '@shiftmix/core';
import { headLayout, type HeadLayout } from './wgsl.js';

/**
 * Block sizes of the three attention kernels. Each thread owns a 4 x 4 block of the
 * score tile (4 rows strided by rows/4, 4 columns strided by cols/4), so a kernel with
 * tile rows x cols runs (rows / 4) * (cols / 4) threads.
 * - forward: bq queries per workgroup, bk keys per step;
 * - dK/dV: bk keys per workgroup, bq queries per step;
 * - dQ: bq queries per workgroup, bk keys per step.
 */
export interface AttentionTiles {
  forward: { bq: number; bk: number };
  keyGrad: { bk: number; bq: number };
  queryGrad: { bq: number; bk: number };
}

const VEC4 = 16;

/** vec4 columns a thread row of `tx` threads covers: NC * TX >= HD4. */
export function columnSlots(layout: HeadLayout, tx: number): number {
  return Math.ceil(layout.hd4 / tx) * tx;
}
const F32 = 4;

/** Workgroup bytes of each kernel for a head layout (see the programs' declarations). */
export function attentionStorage(layout: HeadLayout, tiles: AttentionTiles): { forward: number; keyGrad: number; queryGrad: number } {
  const row = layout.s4 * VEC4;
  // Arrays read by output column (tx + TX * n) carry NC * TX extra slots past their last row.
  const pad = (cols: number) => columnSlots(layout, cols / 4) * VEC4;
  const { forward: f, keyGrad: g, queryGrad: q } = tiles;
  return {
    forward: (f.bq + 2 * f.bk) * row + pad(f.bk) + f.bk * (f.bq + 1) * F32 + f.bq * (f.bk / 4) * F32,
    keyGrad: (2 * g.bk + 2 * g.bq) * row + pad(g.bq) * 2 + 2 * g.bk * (g.bq + 1) * F32 + 2 * g.bq * F32,
    queryGrad: (2 * q.bq + 2 * q.bk) * row + pad(q.bk) + q.bk * (q.bq + 1) * F32,
  };
}

const FORWARD = [
  { bq: 64, bk: 32 },
  { bq: 32, bk: 32 },
  { bq: 32, bk: 16 },
  { bq: 16, bk: 16 },
  { bq: 16, bk: 8 },
  { bq: 8, bk: 8 },
];
// The 8-wide blocks only serve wide heads (hd > 120) on devices with 32 KiB of workgroup memory.
const KEY_GRAD = [
  { bk: 32, bq: 32 },
  { bk: 32, bq: 16 },
  { bk: 16, bq: 16 },
  { bk: 16, bq: 8 },
  { bk: 8, bq: 8 },
];
const QUERY_GRAD = [
  { bq: 64, bk: 16 },
  { bq: 32, bk: 16 },
  { bq: 16, bk: 16 },
  { bq: 16, bk: 8 },
  { bq: 8, bk: 8 },
];

/** Overrides for benchmark sweeps; undefined fields are chosen from the limits. */
export const attentionTuning: { tiles?: Partial<AttentionTiles> } = {};

/**
 * The largest blocks whose workgroup memory and thread count fit the device, per
 * kernel. Throws a ShiftmixError when even 8 x 8 blocks do not fit (a very wide head).
 */
export function chooseAttentionTiles(hd: number, limits: GPUSupportedLimits): AttentionTiles {
  const layout = headLayout(hd);
  const fits = (kind: keyof AttentionTiles, tile: { bq: number; bk: number }) => {
    const full = { forward: tile, keyGrad: tile, queryGrad: tile, [kind]: tile } as AttentionTiles;
    const threads = (tile.bq / 4) * (tile.bk / 4);
    return attentionStorage(layout, full)[kind] <= limits.maxComputeWorkgroupStorageSize && threads <= limits.maxComputeInvocationsPerWorkgroup;
  };
  const pick = <K extends keyof AttentionTiles>(kind: K, list: { bq: number; bk: number }[]) => {
    const forced = attentionTuning.tiles?.[kind];
    const found = forced ?? list.find((tile) => fits(kind, tile));
    if (!found) {
      throw new ShiftmixError(
        `fused attention with head dim ${hd} needs more workgroup memory than this device's ${limits.maxComputeWorkgroupStorageSize} bytes`,
        'Use more heads (a smaller head dim), or the wasm backend',
        'E_SHAPE',
      );
    }
    return found as AttentionTiles[K];
  };
  return { forward: pick('forward', FORWARD), keyGrad: pick('keyGrad', KEY_GRAD), queryGrad: pick('queryGrad', QUERY_GRAD) };
}
