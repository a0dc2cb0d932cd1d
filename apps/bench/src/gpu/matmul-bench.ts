import { tf, type Tensor } from '@shiftmix/core';
import { MATMUL_TILES, matMulStats, matMulTuning, type MatMulTile } from '@shiftmix/webgpu';
import { calibratedReps, timeLoop } from './measure.js';

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
  ms: number;
  enqueueMs: number;
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

export const tileLabel = (t: MatMulTile) => `${t.bm}x${t.bn}x${t.bk}/${t.tm}x${t.tn}`;

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

async function timeProduct(c: MatMulCase, a: Tensor, b: Tensor, budgetMs: number): Promise<{ ms: number; enqueueMs: number }> {
  const body = () => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, c.transposeA, c.transposeB).dispose();
  const reps = await calibratedReps(body, budgetMs, 200);
  return timeLoop(body, reps);
}

/**
 * Times each product with the shiftmix kernel and with tfjs-backend-webgpu's own
 * (same run, same operands), and with every candidate tile when `sweepTiles`.
 */
export async function benchMatMul(cases: MatMulCase[], budgetMs: number, sweepTiles: MatMulCase[] = []): Promise<MatMulResult[]> {
  const results: MatMulResult[] = [];
  const flops = (c: MatMulCase) => 2 * c.m * c.n * c.k;
  const record = (c: MatMulCase, impl: string, t: { ms: number; enqueueMs: number }, extra: Partial<MatMulResult> = {}) => {
    const result = { ...c, impl, ms: t.ms, enqueueMs: t.enqueueMs, tflops: flops(c) / (t.ms * 1e-3) / 1e12, ...extra };
    results.push(result);
    console.log(`  ${c.label.padEnd(18)} ${impl.padEnd(18)} ${t.ms.toFixed(3).padStart(9)} ms ${result.tflops.toFixed(2).padStart(7)} TFLOP/s`);
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
    for (const tile of MATMUL_TILES) {
      matMulTuning.forceTile = tile;
      record(c, tileLabel(tile), await timeProduct(c, a, b, budgetMs));
    }
    matMulTuning.forceTile = undefined;
    tf.dispose([a, b]);
  }
  return results;
}
