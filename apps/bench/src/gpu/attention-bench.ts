/// <reference types="@webgpu/types" />
import { causalAttention, tf, type Tensor } from '@shiftmix/core';
import { causalAttentionComposite } from '@shiftmix/core/kernels';
import { matMulTuning, type AttentionTuningResult } from '@shiftmix/webgpu';
import { calibratedReps, gpuTimeMs, timeLoop } from './measure.js';

export interface AttentionShape {
  batch: number;
  heads: number;
  headDim: number;
}

export interface AttentionResult extends AttentionShape {
  length: number;
  fusedForwardMs: number;
  fusedStepMs: number;
  /** Forward + backward through the composite tfjs ops; undefined when skipped (memory). */
  compositeStepMs?: number;
  /** The same with tfjs-backend-webgpu's own matmul instead of the shiftmix one. */
  compositeTfjsStepMs?: number;
  /** GPU time of the kernels of one fused step and one composite step (timestamp queries). */
  fusedStepGpuMs?: number;
  compositeStepGpuMs?: number;
  /** Useful causal FLOPs per second of the fused forward, and of forward + backward (3.5x the forward's). */
  forwardTflops: number;
  stepTflops: number;
  speedup?: number;
}

export interface AttentionParity {
  length: number;
  output: number;
  gradients: number;
}

type Attend = (q: Tensor, k: Tensor, v: Tensor) => Tensor;
const fused: Attend = (q, k, v) => causalAttention(q, k, v, { training: false });
const composite: Attend = (q, k, v) => causalAttentionComposite(q, k, v, { training: false });

function inputs(shape: AttentionShape, length: number): Tensor[] {
  const dims = [shape.batch, shape.heads, length, shape.headDim];
  return [1, 2, 3, 4].map((seed) => tf.randomNormal(dims, 0, 1, 'float32', seed));
}

/** Forward + backward of sum(attend(q, k, v) * w): dO is a full tensor, as in training. */
function step(attend: Attend, [q, k, v, w]: Tensor[]): () => void {
  const grads = tf.grads((a: Tensor, b: Tensor, c: Tensor) => tf.sum(tf.mul(attend(a, b, c), w)));
  return () => tf.dispose(grads([q, k, v]));
}

async function timed(body: () => void, budgetMs: number): Promise<number> {
  return (await timeLoop(body, await calibratedReps(body, budgetMs, 100))).ms;
}

async function maxRelative(a: Tensor, b: Tensor): Promise<number> {
  const [diff, scale] = await Promise.all([tf.max(tf.abs(tf.sub(a, b))).data(), tf.max(tf.abs(b)).data()]);
  return diff[0] / scale[0];
}

/** Fused vs composite on the GPU: the largest relative difference of O and of dQ, dK, dV. */
export async function attentionParity(shape: AttentionShape, length: number): Promise<AttentionParity> {
  const [q, k, v, w] = inputs(shape, length);
  const output = await maxRelative(fused(q, k, v), composite(q, k, v));
  const loss = (attend: Attend) => (a: Tensor, b: Tensor, c: Tensor) => tf.sum(tf.mul(attend(a, b, c), w));
  const got = tf.grads(loss(fused))([q, k, v]);
  const want = tf.grads(loss(composite))([q, k, v]);
  let gradients = 0;
  for (let i = 0; i < 3; i++) gradients = Math.max(gradients, await maxRelative(got[i], want[i]));
  tf.dispose([q, k, v, w, ...got, ...want]);
  return { length, output, gradients };
}

/**
 * Times fused forward, fused forward + backward and composite forward + backward per
 * sequence length, by the wall clock and (steps) by GPU timestamps; the composite also
 * with tfjs's own matmul at the `tfjsBaseline` lengths. The composite is skipped where
 * its [B, H, T, T] scores would exceed `compositeLimitBytes`.
 */
export async function benchAttention(
  shape: AttentionShape,
  lengths: number[],
  budgetMs: number,
  tfjsBaseline: number[] = [2048],
  compositeLimitBytes = 2 ** 32,
): Promise<AttentionResult[]> {
  const results: AttentionResult[] = [];
  for (const length of lengths) {
    const tensors = inputs(shape, length);
    const [q, k, v] = tensors;
    const fusedForwardMs = await timed(() => fused(q, k, v).dispose(), budgetMs);
    const fusedStepMs = await timed(step(fused, tensors), budgetMs);
    const fusedStepGpuMs = await gpuTimeMs(step(fused, tensors), 2);
    const scoreBytes = shape.batch * shape.heads * length * length * 4;
    const fits = scoreBytes <= compositeLimitBytes;
    const compositeStepMs = fits ? await timed(step(composite, tensors), budgetMs) : undefined;
    const compositeStepGpuMs = fits ? await gpuTimeMs(step(composite, tensors), 2) : undefined;
    matMulTuning.enabled = false;
    const compositeTfjsStepMs = fits && tfjsBaseline.includes(length) ? await timed(step(composite, tensors), budgetMs) : undefined;
    matMulTuning.enabled = true;
    tf.dispose(tensors);
    const forwardFlops = 2 * shape.batch * shape.heads * length * length * shape.headDim;
    const result: AttentionResult = {
      ...shape,
      length,
      fusedForwardMs,
      fusedStepMs,
      compositeStepMs,
      compositeTfjsStepMs,
      fusedStepGpuMs,
      compositeStepGpuMs,
      forwardTflops: forwardFlops / (fusedForwardMs * 1e-3) / 1e12,
      stepTflops: (3.5 * forwardFlops) / (fusedStepMs * 1e-3) / 1e12,
      speedup: compositeStepMs === undefined ? undefined : compositeStepMs / fusedStepMs,
    };
    results.push(result);
    const gpu = (ms?: number) => (ms === undefined ? '' : `, GPU ${ms.toFixed(3)} ms`);
    const tfjs = compositeTfjsStepMs === undefined ? '' : `; with tfjs matmul ${compositeTfjsStepMs.toFixed(3)} ms`;
    const comp =
      compositeStepMs === undefined
        ? 'skipped'
        : `${compositeStepMs.toFixed(3)} ms${gpu(compositeStepGpuMs)} (x${result.speedup!.toFixed(2)} wall${compositeStepGpuMs && fusedStepGpuMs ? `, x${(compositeStepGpuMs / fusedStepGpuMs).toFixed(2)} GPU` : ''})${tfjs}`;
    console.log(
      `  T ${String(length).padStart(5)}: fused fwd ${fusedForwardMs.toFixed(3)} ms (${result.forwardTflops.toFixed(2)} TFLOP/s); fwd+bwd ${fusedStepMs.toFixed(3)} ms${gpu(fusedStepGpuMs)}; composite fwd+bwd ${comp}`,
    );
  }
  return results;
}

/** Prints a tuneAttentionTiles result: each kernel's blocks, fastest first. */
export function printAttentionTuning(result: AttentionTuningResult): void {
  console.log(`attention blocks tuned at T ${result.length}, ${result.heads} heads of ${result.headDim} (${result.clock} clock), fastest first:`);
  for (const kind of ['forward', 'keyGrad', 'queryGrad'] as const) {
    // Blocks read rows x columns of the kernel's workgroup: keys x queries for dK/dV.
    const label = ({ bq, bk }: { bq: number; bk: number }) => (kind === 'keyGrad' ? `${bk}x${bq}` : `${bq}x${bk}`);
    console.log(`  ${kind.padEnd(9)} ${result.timings[kind].map(({ block, ms }) => `${label(block)} ${ms.toFixed(3)} ms`).join(', ')}`);
  }
}
