import { tf, type Tensor } from '@shiftmix/core';
import {
  DEEP_K_TILES,
  MATMUL_TILES,
  SUBGROUP_TILES,
  matMulStats,
  matMulTuning,
  tilesFor,
  webGpuDevice,
  type MatMulTile,
  type MatMulTuningResult,
} from '@shiftmix/webgpu';
import { calibratedReps, settledPassGpuMs, timeLoop } from './measure.js';

export interface MatMulCase {
  label: string;
  m: number;
  n: number;
  k: number;
  transposeA?: boolean;
  transposeB?: boolean;
}

export interface MatMulResult extends MatMulCase {
  /** 'shiftmix' (chosen tile), 'tfjs', or a forced tile 'bm x bn x bk / tm x tn'. */
  impl: string;
  /** Wall time per product, back to back, GPU drained at both ends. */
  ms: number;
  enqueueMs: number;
  /** GPU time per product from timestamps around back-to-back products in one pass. */
  gpuMs?: number;
  /** From gpuMs when there is one, else from ms. */
  tflops: number;
  /** max |shiftmix - tfjs| / max |tfjs| on this product. */
  relativeDiff?: number;
}

export function squareCases(sizes: number[]): MatMulCase[] {
  return sizes.map((n) => ({ label: `${n}^3`, m: n, n, k: n }));
}

/** The products of a training step of the lm-char recipe (B 64, T 256, D 384, vocab 65). */
export const MODEL_CASES: MatMulCase[] = [
  { label: 'qkv X W', m: 16384, n: 1152, k: 384 },
  { label: 'ffn up', m: 16384, n: 1536, k: 384 },
  { label: 'ffn down', m: 16384, n: 384, k: 1536 },
  { label: 'ffn dW (X^T dY)', m: 384, n: 1536, k: 16384, transposeA: true },
  { label: 'ffn dX (dY W^T)', m: 16384, n: 384, k: 1536, transposeB: true },
  { label: 'lm head X E^T', m: 16384, n: 65, k: 384, transposeB: true },
];

export const tileLabel = (t: MatMulTile) => `${t.bm}x${t.bn}x${t.bk}/${t.tm}x${t.tn}${t.subgroups ? '/sg' : ''}`;

function operands(c: MatMulCase): [Tensor, Tensor] {
  const a = tf.randomNormal(c.transposeA ? [c.k, c.m] : [c.m, c.k], 0, 1, 'float32', 1);
  const b = tf.randomNormal(c.transposeB ? [c.n, c.k] : [c.k, c.n], 0, 1, 'float32', 2);
  return [a, b];
}

async function relativeDiff(c: MatMulCase, a: Tensor, b: Tensor): Promise<number> {
  const product = () => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, c.transposeA, c.transposeB);
  matMulTuning.enabled = false;
  const want = product();
  matMulTuning.enabled = true;
  const got = product();
  const [diff, scale] = await Promise.all([tf.max(tf.abs(tf.sub(got, want))).data(), tf.max(tf.abs(want)).data()]);
  tf.dispose([got, want]);
  return diff[0] / scale[0];
}

type ProductTiming = { ms: number; enqueueMs: number; gpuMs?: number };

async function timeProduct(c: MatMulCase, a: Tensor, b: Tensor, budgetMs: number): Promise<ProductTiming> {
  const body = () => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, c.transposeA, c.transposeB).dispose();
  const reps = await calibratedReps(body, budgetMs, 200);
  const wall = await timeLoop(body, reps);
  return { ...wall, gpuMs: await settledPassGpuMs(body, Math.min(reps, 50)) };
}

/**
 * Times each product with the shiftmix kernel and with tfjs-backend-webgpu's own
 * (same run, same operands), and with every candidate tile when `sweepTiles`.
 */
export async function benchMatMul(cases: MatMulCase[], budgetMs: number, sweepTiles: MatMulCase[] = []): Promise<MatMulResult[]> {
  const results: MatMulResult[] = [];
  const flops = (c: MatMulCase) => 2 * c.m * c.n * c.k;
  const record = (c: MatMulCase, impl: string, t: ProductTiming, extra: Partial<MatMulResult> = {}) => {
    const result = { ...c, impl, ...t, tflops: flops(c) / ((t.gpuMs ?? t.ms) * 1e-3) / 1e12, ...extra };
    results.push(result);
    const gpu = t.gpuMs === undefined ? '' : `, GPU ${t.gpuMs.toFixed(3)} ms`;
    const diff = result.relativeDiff === undefined ? '' : `, vs tfjs ${result.relativeDiff.toExponential(1)}`;
    console.log(`  ${c.label.padEnd(18)} ${impl.padEnd(18)} ${result.tflops.toFixed(2).padStart(7)} TFLOP/s (wall ${t.ms.toFixed(3)} ms${gpu}${diff})`);
  };
  for (const c of cases) {
    const [a, b] = operands(c);
    const diff = await relativeDiff(c, a, b);
    const before = matMulStats.fast;
    const fast = await timeProduct(c, a, b, budgetMs);
    const impl = matMulStats.fast > before ? 'shiftmix' : 'shiftmix (fell back)';
    record(c, impl, fast, { relativeDiff: diff });
    matMulTuning.enabled = false;
    record(c, 'tfjs', await timeProduct(c, a, b, budgetMs));
    matMulTuning.enabled = true;
    tf.dispose([a, b]);
  }
  for (const c of sweepTiles) {
    const [a, b] = operands(c);
    const device = webGpuDevice()!;
    for (const tile of tilesFor(device.limits, [...MATMUL_TILES, ...DEEP_K_TILES, ...SUBGROUP_TILES], device.features)) {
      matMulTuning.forceTile = tile;
      record(c, tileLabel(tile), await timeProduct(c, a, b, budgetMs), { relativeDiff: await relativeDiff(c, a, b) });
    }
    matMulTuning.forceTile = undefined;
    tf.dispose([a, b]);
  }
  return results;
}

/** Prints a tuneMatMulTiles result: each tile's time and rate, fastest first. */
export function printMatMulTuning(result: MatMulTuningResult): void {
  const flops = 2 * result.size ** 3;
  console.log(`matmul tiles tuned at ${result.size}^3 (${result.clock} clock), fastest first:`);
  for (const { tile, ms } of result.timings)
    console.log(`  ${tileLabel(tile).padEnd(16)} ${ms.toFixed(3)} ms  ${(flops / (ms * 1e-3) / 1e12).toFixed(2)} TFLOP/s`);
}
