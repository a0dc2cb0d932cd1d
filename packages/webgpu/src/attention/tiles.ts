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

/**
 * Blocks per kernel, largest first: without a tuning the largest that fits is used. The
 * 8-wide blocks only serve wide heads (hd > 120) on devices with 32 KiB of workgroup memory.
 */
export const ATTENTION_BLOCKS: { [K in keyof AttentionTiles]: AttentionTiles[K][] } = {
  forward: [
    { bq: 64, bk: 32 },
    { bq: 32, bk: 32 },
    { bq: 32, bk: 16 },
    { bq: 16, bk: 16 },
    { bq: 16, bk: 8 },
    { bq: 8, bk: 8 },
  ],
  keyGrad: [
    { bk: 32, bq: 32 },
    { bk: 32, bq: 16 },
    { bk: 16, bq: 16 },
    { bk: 16, bq: 8 },
    { bk: 8, bq: 8 },
  ],
  queryGrad: [
    { bq: 64, bk: 16 },
    { bq: 32, bk: 16 },
    { bq: 16, bk: 16 },
    { bq: 16, bk: 8 },
    { bq: 8, bk: 8 },
  ],
};

/** Other shapes tuneAttentionTiles times besides ATTENTION_BLOCKS (never a default). */
export const EXTRA_ATTENTION_BLOCKS: { [K in keyof AttentionTiles]: AttentionTiles[K][] } = {
  forward: [{ bq: 64, bk: 16 }],
  keyGrad: [{ bk: 64, bq: 16 }],
  queryGrad: [{ bq: 32, bk: 32 }],
};

/** Overrides for benchmark sweeps and tests; undefined fields are chosen as below. */
export const attentionTuning: { tiles?: Partial<AttentionTiles> } = {};

// Per device and head width: the blocks tuneAttentionTiles measured fastest.
const tuned = new WeakMap<object, Map<number, AttentionTiles>>();

/** Makes `tiles` the choice for head width `hd` on `device`; undefined forgets it. */
export function setTunedAttentionTiles(device: object, hd: number, tiles: AttentionTiles | undefined): void {
  let byWidth = tuned.get(device);
  if (!byWidth) tuned.set(device, (byWidth = new Map()));
  if (tiles) byWidth.set(hd, tiles);
  else byWidth.delete(hd);
}

/** Forgets every tuning of `device`. */
export function clearTunedAttentionTiles(device: object): void {
  tuned.delete(device);
}

/** Whether `tile` fits the limits as the `kind` kernel's block, for heads of width hd. */
export function attentionBlockFits(kind: keyof AttentionTiles, tile: { bq: number; bk: number }, hd: number, limits: GPUSupportedLimits): boolean {
  const full = { forward: tile, keyGrad: tile, queryGrad: tile, [kind]: tile } as AttentionTiles;
  const threads = (tile.bq / 4) * (tile.bk / 4);
  return attentionStorage(headLayout(hd), full)[kind] <= limits.maxComputeWorkgroupStorageSize && threads <= limits.maxComputeInvocationsPerWorkgroup;
}

/**
 * The blocks of each kernel: attentionTuning's override, else the tuned choice for this
 * device and head width, else the largest that fits the device's workgroup memory and
 * thread count. Throws a ShiftmixError when even 8 x 8 blocks do not fit (a very wide head).
 */
export function chooseAttentionTiles(hd: number, limits: GPUSupportedLimits, device?: object): AttentionTiles {
  const tunedTiles = device ? tuned.get(device)?.get(hd) : undefined;
  const pick = <K extends keyof AttentionTiles>(kind: K): AttentionTiles[K] => {
    const found = attentionTuning.tiles?.[kind] ?? tunedTiles?.[kind] ?? ATTENTION_BLOCKS[kind].find((tile) => attentionBlockFits(kind, tile, hd, limits));
    if (!found) {
      throw new ShiftmixError(
        `fused attention with head dim ${hd} needs more workgroup memory than this device's ${limits.maxComputeWorkgroupStorageSize} bytes`,
        'Use more heads (a smaller head dim), or the wasm backend',
        'E_SHAPE',
      );
    }
    return found;
  };
  return { forward: pick('forward'), keyGrad: pick('keyGrad'), queryGrad: pick('queryGrad') };
}
