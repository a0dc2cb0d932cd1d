import { tf, type Tensor, type Tensor1D, type Tensor3D } from '@shiftmix/core';
import { FUSION_BLEND, FUSION_BLEND_GRAD, fusionBlendReference, HSM_AB, HSM_AB_GRAD, hsmAbMixReference } from '@shiftmix/core/kernels';
import { kernelTuning } from '@shiftmix/webgpu';
import { calibratedReps, gbPerSecond, gpuTimeMs, settledPassGpuMs, timeLoop, type Timing } from './measure.js';

// The (a,b) mix's backward launch shape, which the sweep varies.
const backwardTuning = (): Record<string, number> => kernelTuning(HSM_AB_GRAD.name)!;

export type Shape = [number, number, number];

export interface OpResult {
  op: 'hsm-ab' | 'fusion-blend';
  shape: Shape;
  shifts: number[];
  /** Bytes an ideal forward + backward moves: every full-size tensor read or written once. */
  idealBytes: number;
  forward: Timing;
  backward: Timing;
  /** Forward then backward kernel, dispatched directly. */
  fusedKernels: Timing;
  /** tf.grads through the fused kernels (what training runs). */
  fusedGrads: Timing;
  /** tf.grads through the composite tfjs ops. */
  compositeGrads: Timing;
  achievedGBs: number;
  /** idealBytes over the GPU time of the fused kernels (timestamp queries). */
  achievedGpuGBs?: number;
  /** max |fused - composite| / (1 + max |composite|) over the output and every gradient. */
  maxRelativeError: number;
}

/** Worst relative difference between fused and composite results (same inputs). */
async function parity(fused: Tensor[], composite: Tensor[]): Promise<number> {
  let worst = 0;
  for (let i = 0; i < fused.length; i++) {
    const scale = (await tf.max(tf.abs(composite[i])).data())[0];
    const diff = (await tf.max(tf.abs(tf.sub(fused[i], composite[i]))).data())[0];
    worst = Math.max(worst, diff / (1 + scale));
  }
  tf.dispose([...fused, ...composite]);
  return worst;
}

function run(name: string, inputs: Record<string, Tensor>, shifts: number[]): Tensor | Tensor[] {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, { shifts }) as Tensor | Tensor[];
}

async function measure(body: () => void, budgetMs: number, gpuReps = 20): Promise<Timing> {
  const timing = await timeLoop(body, await calibratedReps(body, budgetMs));
  return { ...timing, gpuMs: (await settledPassGpuMs(body, gpuReps)) ?? (await gpuTimeMs(body, gpuReps)) };
}

/** Fused vs composite (a,b) mix, forward and backward, at one shape. */
export async function benchHsmAb(shape: Shape, shifts: number[], budgetMs: number): Promise<OpResult> {
  const [batch, time, dim] = shape;
  const u = tf.randomNormal(shape, 0, 1, 'float32', 1) as Tensor3D;
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 2) as Tensor3D;
  const a = tf.randomNormal([dim], 1, 0.1, 'float32', 3) as Tensor1D;
  const b = tf.randomNormal([dim], 1, 0.1, 'float32', 4) as Tensor1D;
  const forward = () => tf.dispose(run(HSM_AB.name, { u, a, b }, shifts));
  const backward = () => tf.dispose(run(HSM_AB_GRAD.name, { dy, u, a, b }, shifts));
  const fusedGrads = tf.grads((x: Tensor, p: Tensor, q: Tensor) => run(HSM_AB.name, { u: x, a: p, b: q }, shifts) as Tensor);
  const compositeGrads = tf.grads((x: Tensor, p: Tensor, q: Tensor) => hsmAbMixReference(x as Tensor3D, p as Tensor1D, q as Tensor1D, shifts));
  const n = batch * time * dim;
  const result: OpResult = {
    op: 'hsm-ab',
    shape,
    shifts,
    idealBytes: 4 * (5 * n + 4 * dim),
    forward: await measure(forward, budgetMs),
    backward: await measure(backward, budgetMs),
    fusedKernels: await measure(() => (forward(), backward()), budgetMs),
    fusedGrads: await measure(() => tf.dispose(fusedGrads([u, a, b], dy)), budgetMs),
    compositeGrads: await measure(() => tf.dispose(compositeGrads([u, a, b], dy)), budgetMs, 2),
    achievedGBs: 0,
    maxRelativeError: await parity(
      [run(HSM_AB.name, { u, a, b }, shifts) as Tensor, ...fusedGrads([u, a, b], dy)],
      [hsmAbMixReference(u, a, b, shifts), ...compositeGrads([u, a, b], dy)],
    ),
  };
  result.achievedGBs = gbPerSecond(result.idealBytes, result.fusedKernels.ms);
  if (result.fusedKernels.gpuMs) result.achievedGpuGBs = gbPerSecond(result.idealBytes, result.fusedKernels.gpuMs);
  tf.dispose([u, dy, a, b]);
  return result;
}

/** Fused vs composite learned-fusion blend, forward and backward, at one shape. */
export async function benchFusionBlend(shape: Shape, shifts: number[], budgetMs: number): Promise<OpResult> {
  const g = tf.sigmoid(tf.randomNormal(shape, 0, 1, 'float32', 5)) as Tensor3D;
  const v = tf.randomNormal(shape, 0, 1, 'float32', 6) as Tensor3D;
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 7) as Tensor3D;
  const forward = () => tf.dispose(run(FUSION_BLEND.name, { g, v }, shifts));
  const backward = () => tf.dispose(run(FUSION_BLEND_GRAD.name, { dy, g, v }, shifts));
  const fusedGrads = tf.grads((x: Tensor, y: Tensor) => run(FUSION_BLEND.name, { g: x, v: y }, shifts) as Tensor);
  const compositeGrads = tf.grads((x: Tensor, y: Tensor) => fusionBlendReference(x as Tensor3D, y as Tensor3D, shifts));
  const n = shape[0] * shape[1] * shape[2];
  const result: OpResult = {
    op: 'fusion-blend',
    shape,
    shifts,
    idealBytes: 4 * 8 * n,
    forward: await measure(forward, budgetMs),
    backward: await measure(backward, budgetMs),
    fusedKernels: await measure(() => (forward(), backward()), budgetMs),
    fusedGrads: await measure(() => tf.dispose(fusedGrads([g, v], dy)), budgetMs),
    compositeGrads: await measure(() => tf.dispose(compositeGrads([g, v], dy)), budgetMs, 2),
    achievedGBs: 0,
    maxRelativeError: await parity(
      [run(FUSION_BLEND.name, { g, v }, shifts) as Tensor, ...fusedGrads([g, v], dy)],
      [fusionBlendReference(g, v, shifts), ...compositeGrads([g, v], dy)],
    ),
  };
  result.achievedGBs = gbPerSecond(result.idealBytes, result.fusedKernels.ms);
  if (result.fusedKernels.gpuMs) result.achievedGpuGBs = gbPerSecond(result.idealBytes, result.fusedKernels.gpuMs);
  tf.dispose([g, v, dy]);
  return result;
}

export interface TuningResult {
  rowsPerThread: number;
  lanes: number;
  columnsPerWorkgroup: number;
  /** GPU time when timestamp queries exist, else wall time. */
  backwardMs: number;
  backwardGBs: number;
}

/** Times the (a,b) backward kernel over launch shapes; leaves the shipped defaults in place. */
export async function sweepHsmAbBackward(shape: Shape, shifts: number[], budgetMs: number): Promise<TuningResult[]> {
  const defaults = { ...backwardTuning() };
  const u = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
  const a = tf.ones([shape[2]]);
  const results: TuningResult[] = [];
  const n = shape[0] * shape[1] * shape[2];
  for (const rowsPerThread of [4, 8, 16, 32, 64]) {
    for (const lanes of [1, 2, 4, 8]) {
      for (const columnsPerWorkgroup of [32, 64, 128]) {
        if (lanes * columnsPerWorkgroup > 256) continue;
        Object.assign(backwardTuning(), { rowsPerThread, lanes, columnsPerWorkgroup });
        const timing = await measure(() => tf.dispose(run(HSM_AB_GRAD.name, { dy, u, a, b: a }, shifts)), budgetMs);
        const ms = timing.gpuMs ?? timing.ms;
        results.push({ rowsPerThread, lanes, columnsPerWorkgroup, backwardMs: ms, backwardGBs: gbPerSecond(12 * n, ms) });
      }
    }
  }
  Object.assign(backwardTuning(), defaults);
  tf.dispose([u, dy, a]);
  return results.sort((x, y) => x.backwardMs - y.backwardMs);
}
