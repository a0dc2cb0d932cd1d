/// <reference types="@webgpu/types" />
import { ShiftmixError, tf } from '@shiftmix/core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { maxBindingBytes, rowChunks, runProgram, type BufferRange } from '../runtime.js';
import { matMulStats } from './register.js';
import {
  MatMulProgram,
  PLAIN_EPILOGUE,
  tileIsValid,
  tileStorageBytes,
  tileThreads,
  type MatMulActivation,
  type MatMulEpilogue,
  type MatMulShape,
  type MatMulTile,
} from './program.js';

/**
 * When the register-tiled matmul takes a product instead of tfjs's own programs. Below
 * `minRows` rows or `minColumns` columns of C (decode steps, a small vocabulary's
 * logits, P V with one head's width) tfjs's programs measured as fast or faster on an
 * H100. `minWorkgroups`: the preferred tile is kept only while it still gives this many
 * workgroups (one per SM of an H100), else a smaller one is used, so mid-sized products
 * fill the GPU.
 */
export const matMulTuning = {
  enabled: true,
  minRows: 32,
  minColumns: 128,
  minWorkgroups: 132,
  /**
   * Products with fewer blocks of the preferred tile than this (long K, small output:
   * weight gradients such as X^T dY) stay with tfjs, whose program was faster there.
   */
  minBlocks: 96,
  /** Forces one tile (benchmark sweeps); undefined: chosen per shape and adapter. */
  forceTile: undefined as MatMulTile | undefined,
};

/**
 * Candidate tiles in their default order of preference (64 x 128 measured fastest at
 * 2048-4096 on an H100); tuneMatMulTiles reorders them for the adapter it runs on.
 */
export const MATMUL_TILES: MatMulTile[] = [
  { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8 },
  { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8 },
  { bm: 128, bn: 64, bk: 16, tm: 8, tn: 4 },
  { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  { bm: 32, bn: 32, bk: 16, tm: 4, tn: 4 },
];

/** Tiles with deeper k blocks (fewer barriers per multiply-add), timed when tuning. */
export const DEEP_K_TILES: MatMulTile[] = [
  { bm: 64, bn: 128, bk: 32, tm: 4, tn: 8 },
  { bm: 128, bn: 128, bk: 32, tm: 8, tn: 8 },
  { bm: 128, bn: 64, bk: 32, tm: 8, tn: 4 },
];

/**
 * The default tiles with A passed along each row of threads by subgroup shuffles (see
 * MatMulTile.subgroups), timed when tuning on a device with 'subgroups'. They trade
 * workgroup-memory reads for shuffles, which pays where workgroup memory is slow.
 */
export const SUBGROUP_TILES: MatMulTile[] = MATMUL_TILES.filter((t) => t.bk % (t.bn / t.tn) === 0).map((t) => ({ ...t, subgroups: true }));

// Per device: the order tuneMatMulTiles measured (fastest first), in place of MATMUL_TILES.
const tunedOrder = new WeakMap<object, MatMulTile[]>();

/** Makes `tiles` (fastest first) the preference order on `device`; undefined restores the default. */
export function setPreferredTiles(device: object, tiles: MatMulTile[] | undefined): void {
  if (tiles) tunedOrder.set(device, tiles);
  else tunedOrder.delete(device);
}

/** The preference order on `device`: a tuned one, else MATMUL_TILES. */
export function preferredTiles(device: object): MatMulTile[] {
  return tunedOrder.get(device) ?? MATMUL_TILES;
}

/**
 * Tiles of `candidates` this device can run: workgroup size and memory within its limits,
 * and, where `features` is given, subgroup tiles only with 'subgroups' among them.
 */
export function tilesFor(limits: GPUSupportedLimits, candidates: MatMulTile[] = MATMUL_TILES, features?: ReadonlySet<string>): MatMulTile[] {
  return candidates.filter(
    (tile) =>
      tileIsValid(tile) &&
      (!tile.subgroups || !features || features.has('subgroups')) &&
      tileThreads(tile) <= limits.maxComputeInvocationsPerWorkgroup &&
      tile.bn / tile.tn <= limits.maxComputeWorkgroupSizeX &&
      tile.bm / tile.tm <= limits.maxComputeWorkgroupSizeY &&
      tileStorageBytes(tile) <= limits.maxComputeWorkgroupStorageSize,
  );
}

/**
 * The tile for one product: the first in `order` that still gives minWorkgroups, else
 * the one that gives the most workgroups (the smallest), so mid-sized products fill the GPU.
 */
export function chooseTile(shape: MatMulShape, limits: GPUSupportedLimits, order: MatMulTile[] = MATMUL_TILES): MatMulTile | undefined {
  if (matMulTuning.forceTile) return matMulTuning.forceTile;
  const tiles = tilesFor(limits, order);
  const count = (t: MatMulTile) => shape.batch * Math.ceil(shape.m / t.bm) * Math.ceil(shape.n / t.bn);
  return (
    tiles.find((t) => count(t) >= matMulTuning.minWorkgroups) ??
    tiles.reduce<MatMulTile | undefined>((best, t) => (best && count(best) >= count(t) ? best : t), undefined)
  );
}

type TensorInfo = tf.TensorInfo;

/**
 * The product's shape, or undefined where this kernel leaves it to tfjs. `maxBinding`: a
 * product whose operands or C pass that many bytes is kept whatever its size, since only
 * this kernel binds them in parts.
 */
export function matMulShape(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, maxBinding = Infinity): MatMulShape | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const [ra, rb] = [a.shape.length, b.shape.length];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  // Only equal batches or one shared operand; other broadcasts keep tfjs's error path.
  const sameOuter = tf.util.arraysEqual(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (k !== kb || !(sameOuter || batchA === 1 || batchB === 1)) return undefined;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const large = 4 * batch * Math.max(m * k, k * n, m * n) > maxBinding;
  if (k < 1 || (!large && (m < matMulTuning.minRows || n < matMulTuning.minColumns))) return undefined;
  const [preferred] = MATMUL_TILES;
  if (!large && batch * Math.ceil(m / preferred.bm) * Math.ceil(n / preferred.bn) < matMulTuning.minBlocks) return undefined;
  return {
    batch,
    m,
    n,
    k,
    transposeA,
    transposeB,
    broadcastA: batchA === 1 && batchB > 1,
    broadcastB: batchB === 1 && batchA > 1,
    outer,
  };
}

/** Runs the product on the GPU; returns C shaped [...outer, M, N]. */
export function runMatMul(
  backend: WebGPUBackend,
  a: TensorInfo,
  b: TensorInfo,
  shape: MatMulShape,
  epilogue: MatMulEpilogue = PLAIN_EPILOGUE,
  bias?: TensorInfo,
): TensorInfo | undefined {
  const device = (backend as unknown as { device: GPUDevice }).device;
  const tile = chooseTile(shape, device.limits, preferredTiles(device));
  if (!tile) return undefined;
  if (tile.subgroups && !device.features.has('subgroups')) {
    throw new ShiftmixError(
      'a subgroup matmul tile was chosen, but this device has no subgroups',
      'Drop subgroup tiles from matMulTuning.forceTile or the applied tuning',
      'E_BACKEND',
    );
  }
  const out = backend.makeTensorInfo([...shape.outer, shape.m, shape.n], 'float32');
  const limit = maxBindingBytes(backend);
  const bytes = (rows: number, cols: number) => 4 * shape.batch * rows * cols;
  if (Math.max(bytes(shape.m, shape.k), bytes(shape.k, shape.n), bytes(shape.m, shape.n)) <= limit) {
    const program = new MatMulProgram(shape, tile, epilogue);
    runProgram(backend, program, bias ? [a, b, bias] : [a, b], [out], program.uniforms());
    return out;
  }
  if (runSplit(backend, a, b, bias, out, shape, tile, epilogue, limit)) {
    matMulStats.split++;
    return out;
  }
  backend.disposeData(out.dataId);
  return undefined;
}

/** Rows [start, end) of a row-major [rows, cols] tensor, as a binding range. */
function rows(info: TensorInfo, cols: number, [start, end]: [number, number]): BufferRange {
  return { info, offset: 4 * start * cols, size: 4 * (end - start) * cols };
}

/**
 * A product with an operand or C past the device's largest binding, in parts that each
 * bind within it: along M (rows of A and C) when A is not transposed, else along K (rows of
 * A^T's A and of B, each part added to C). Parts start on a multiple of 64 rows, which keeps
 * their offsets aligned. False where neither applies (batched products, a transposed B that
 * is too large, an activation over a split K): tfjs's kernel then takes it.
 */
function runSplit(
  backend: WebGPUBackend,
  a: TensorInfo,
  b: TensorInfo,
  bias: TensorInfo | undefined,
  out: TensorInfo,
  shape: MatMulShape,
  tile: MatMulTile,
  epilogue: MatMulEpilogue,
  limit: number,
): boolean {
  const { m, n, k, transposeA, transposeB } = shape;
  const fits = (r: number, c: number) => 4 * r * c <= limit;
  if (shape.batch !== 1) return false;
  const extra = bias ? [bias] : [];
  if (!transposeA && (transposeB ? fits(n, k) : fits(k, n))) {
    for (const part of rowChunks(m, 4 * Math.max(k, n), limit, 64)) {
      const program = new MatMulProgram({ ...shape, m: part[1] - part[0] }, tile, epilogue);
      runProgram(backend, program, [rows(a, k, part), b, ...extra], [rows(out, n, part)], program.uniforms());
    }
    return true;
  }
  if (transposeA && !transposeB && fits(m, n) && epilogue.activation === 'linear') {
    rowChunks(k, 4 * Math.max(m, n), limit, 64).forEach((part, i) => {
      // The bias goes in with the first part only: it is added once.
      const program = new MatMulProgram({ ...shape, k: part[1] - part[0] }, tile, i === 0 ? epilogue : PLAIN_EPILOGUE, i > 0);
      runProgram(backend, program, [rows(a, m, part), rows(b, n, part), ...(i === 0 ? extra : [])], [out], program.uniforms());
    });
    return true;
  }
  return false;
}

const FUSED_ACTIVATIONS = new Set<string>(['linear', 'relu', 'relu6', 'sigmoid', 'elu', 'leakyrelu']);

/** The epilogue of a _FusedMatMul call, or undefined where it is left to tfjs (prelu, odd bias). */
export function fusedEpilogue(attrs: tf.NamedAttrMap, n: number, bias?: TensorInfo, prelu?: TensorInfo): MatMulEpilogue | undefined {
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  if (prelu || !FUSED_ACTIVATIONS.has(activation)) return undefined;
  let kind: MatMulEpilogue['bias'] = 'none';
  if (bias) {
    if (bias.dtype !== 'float32') return undefined;
    const size = tf.util.sizeFromShape(bias.shape);
    if (size === 1) kind = 'scalar';
    else if (size === n && bias.shape[bias.shape.length - 1] === n) kind = 'vector';
    else return undefined;
  }
  return { bias: kind, activation: activation as MatMulActivation, leakyreluAlpha: Number(attrs.leakyreluAlpha ?? 0) };
}
