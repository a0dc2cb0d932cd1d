/// <reference types="@webgpu/types" />
import { ShiftmixError, tf } from '@shiftmix/core';
import { webGpuBackend, webGpuDevice } from '../backend.js';
import { activeGpu, adapterIdentity, checkSameAdapter, timeRuns, wholeNumber } from '../tuning.js';
import { DEEP_K_TILES, MATMUL_TILES, SUBGROUP_TILES, matMulTuning, runMatMul, setPreferredTiles, tilesFor } from './kernel.js';
import { tileIsValid, type MatMulShape, type MatMulTile } from './program.js';

/** One tile's time per product in a tuning run. */
export interface MatMulTileTiming {
  tile: MatMulTile;
  ms: number;
}

/** What tuneMatMulTiles measured: plain JSON, to save and hand to applyMatMulTuning later. */
export interface MatMulTuningResult {
  /** The adapter it was measured on (see adapterIdentity). */
  adapter: string;
  /** Side of the square product that was timed. */
  size: number;
  /** 'gpu': timestamp queries around each product; 'wall': the clock around the drained queue. */
  clock: 'gpu' | 'wall';
  /** Fastest first. */
  timings: MatMulTileTiming[];
}

export interface TuneMatMulOptions {
  /** Side of the square product timed. Default 2048 on a hardware adapter, 256 on a software one. */
  size?: number;
  /** Products timed per tile, after three that compile its pipeline. Default 10. */
  reps?: number;
  /** Tiles to time. Default: MATMUL_TILES, DEEP_K_TILES and SUBGROUP_TILES, those this device can run. */
  candidates?: MatMulTile[];
}

/**
 * Times every candidate tile of the register-tiled matmul on the active adapter with one
 * square product, then makes the fastest-first order this device's preference (the
 * default order was measured on one H100 and need not suit another GPU). Returns what it
 * measured; pass that to applyMatMulTuning in a later run to skip the timing.
 */
export async function tuneMatMulTiles(options: TuneMatMulOptions = {}): Promise<MatMulTuningResult> {
  const { device, report } = activeGpu('tuneMatMulTiles');
  const size = wholeNumber('tuneMatMulTiles', 'size', options.size ?? (report.software ? 256 : 2048), 16);
  const reps = wholeNumber('tuneMatMulTiles', 'reps', options.reps ?? 10, 1);
  const tiles = tilesFor(device.limits, options.candidates ?? [...MATMUL_TILES, ...DEEP_K_TILES, ...SUBGROUP_TILES], device.features);
  if (!tiles.length) {
    throw new ShiftmixError(
      `tuneMatMulTiles: none of the candidate tiles fits this adapter's limits`,
      'Pass candidates with fewer threads or less workgroup memory',
      'E_INPUT',
    );
  }
  const backend = webGpuBackend()!;
  const shape: MatMulShape = { batch: 1, m: size, n: size, k: size, transposeA: false, transposeB: false, broadcastA: false, broadcastB: false, outer: [] };
  const [a, b] = [tf.randomNormal([size, size], 0, 1, 'float32', 1), tf.randomNormal([size, size], 0, 1, 'float32', 2)];
  const timestamps = device.features.has('timestamp-query');
  const forced = matMulTuning.forceTile;
  const timings: MatMulTileTiming[] = [];
  try {
    for (const tile of tiles) {
      matMulTuning.forceTile = tile;
      // Straight to the kernel: the size thresholds that send small products to tfjs do not apply.
      const run = () => {
        const out = runMatMul(backend, a, b, shape);
        if (out) backend.disposeData(out.dataId);
      };
      timings.push({ tile, ms: await timeRuns(run, reps, timestamps) });
    }
  } finally {
    matMulTuning.forceTile = forced;
    tf.dispose([a, b]);
  }
  timings.sort((x, y) => x.ms - y.ms);
  const result: MatMulTuningResult = { adapter: adapterIdentity(report), size, clock: timestamps ? 'gpu' : 'wall', timings };
  setPreferredTiles(
    device,
    timings.map((t) => t.tile),
  );
  return result;
}

/**
 * Makes a saved tuneMatMulTiles result this device's tile preference. Refused when it was
 * measured on another adapter, or when it is not such a result (a damaged file, say).
 */
export function applyMatMulTuning(result: MatMulTuningResult): void {
  const { device, report } = activeGpu('applyMatMulTuning');
  const tiles = Array.isArray(result?.timings) ? result.timings.map((t) => t?.tile) : [];
  const valid =
    tiles.length > 0 &&
    tiles.every((t) => t && [t.bm, t.bn, t.bk, t.tm, t.tn].every(Number.isInteger) && [undefined, true, false].includes(t.subgroups) && tileIsValid(t));
  if (!valid || typeof result.adapter !== 'string') {
    throw new ShiftmixError(
      'the matmul tuning is not a tuneMatMulTiles result: it lacks the adapter or a list of valid tiles',
      'Run tuneMatMulTiles again and save what it returns',
      'E_INPUT',
    );
  }
  checkSameAdapter('matmul tuning', result.adapter, report, 'tuneMatMulTiles');
  const usable = tilesFor(device.limits, tiles, device.features);
  if (!usable.length) {
    throw new ShiftmixError("none of the tuned tiles fits this device's limits", 'Run tuneMatMulTiles on this adapter', 'E_INPUT');
  }
  setPreferredTiles(device, usable);
}

/** Back to the default tile order on the active device. */
export function clearMatMulTuning(): void {
  const device = webGpuDevice();
  if (device) setPreferredTiles(device, undefined);
}
