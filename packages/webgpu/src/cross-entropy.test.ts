import { crossEntropy, selectBackend, ShiftmixError, tf, type Tensor, type Tensor1D, type Tensor2D } from '@shiftmix/core';
import {
  CROSS_ENTROPY,
  CROSS_ENTROPY_CASES,
  CROSS_ENTROPY_GRAD,
  crossEntropyComposite,
  crossEntropySeed,
  crossEntropyTensors,
  describeCrossEntropyCase,
  raggedCase,
  type CrossEntropyCase,
} from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropyTuning } from './index.js';
import { expectClose } from './test-utils.js';

type Result = { loss: Float32Array; grad: Float32Array };

const folding = raggedCase(300, 65);
const allIgnored: CrossEntropyCase = { rows: 7, vocab: 65, spread: 8, targets: Array(7).fill(-1) };
const outOfRange: CrossEntropyCase = { rows: 4, vocab: 11, spread: 8, targets: [2, 11, -1, 5] };

/** Loss and dlogits with dy = 2.5 (so the gradient's scaling by dy is checked too). */
async function lossAndGrad(fn: (l: Tensor2D, t: Tensor1D) => tf.Scalar, c: CrossEntropyCase, seed: number): Promise<Result> {
  const { logits, targets } = crossEntropyTensors(c, seed);
  const { value, grads } = tf.valueAndGrads((l: Tensor) => tf.mul(fn(l as Tensor2D, targets), 2.5))([logits]);
  const result = { loss: (await value.data()) as Float32Array, grad: (await grads[0].data()) as Float32Array };
  tf.dispose([logits, targets, value, grads[0]]);
  return result;
}

function expectArraysClose(actual: Float32Array, expected: Float32Array, tol: number, label: string): Promise<void> {
  return expectClose(tf.tensor(actual), tf.tensor(expected), tol, label);
}

const everyCase = [folding, allIgnored, outOfRange];
const cpu = new Map<CrossEntropyCase, Result>();
const cpuOfParityCases: Result[] = [];

// The references are computed on cpu first; the rest of the file runs on webgpu.
beforeAll(async () => {
  await selectBackend('cpu');
  for (const [i, c] of everyCase.entries()) cpu.set(c, await lossAndGrad(crossEntropyComposite, c, i + 1));
  for (const [i, c] of CROSS_ENTROPY_CASES.entries()) cpuOfParityCases.push(await lossAndGrad(crossEntropyComposite, c, crossEntropySeed(i)));
});
// Registered after the references above, so it selects webgpu once they are computed.
useBackend('webgpu');

describe('ShiftmixCrossEntropy on webgpu', () => {
  // Against the composite on webgpu, the same cases are parity/cross-entropy-checks.ts's.
  it('gives the loss and dlogits of the composite on cpu for every parity case', async () => {
    for (const [i, c] of CROSS_ENTROPY_CASES.entries()) {
      const label = describeCrossEntropyCase(c);
      const fused = await lossAndGrad(crossEntropy, c, crossEntropySeed(i));
      expect(Number.isFinite(fused.loss[0]) && fused.grad.every(Number.isFinite), `${label}: finite`).toBe(true);
      await expectArraysClose(fused.loss, cpuOfParityCases[i].loss, 1e-5, `${label} loss vs cpu`);
      await expectArraysClose(fused.grad, cpuOfParityCases[i].grad, 1e-5, `${label} dlogits vs cpu`);
    }
  });

  it('folds rows past the dispatch limit into y, with the same results', async () => {
    const [c, seed] = [folding, everyCase.indexOf(folding) + 1];
    const limit = crossEntropyTuning.maxGroupsX;
    crossEntropyTuning.maxGroupsX = 64; // 300 rows: a [64, 5] grid whose last 20 workgroups have no row
    try {
      const folded = await lossAndGrad(crossEntropy, c, seed);
      await expectArraysClose(folded.loss, cpu.get(c)!.loss, 1e-5, 'folded loss vs cpu');
      await expectArraysClose(folded.grad, cpu.get(c)!.grad, 1e-5, 'folded dlogits vs cpu');
    } finally {
      crossEntropyTuning.maxGroupsX = limit;
    }
  });

  it('has loss 0 and zero gradients when every target is ignored, as the composite path', async () => {
    const fused = await lossAndGrad(crossEntropy, allIgnored, 99);
    for (const result of [fused, cpu.get(allIgnored)!]) {
      expect(Math.abs(result.loss[0])).toBe(0); // the composite path gives -0
      expect(result.grad.every((g) => g === 0)).toBe(true);
    }
  });

  it('makes the loss and every gradient NaN for a target >= V, as the composite path on webgpu and cpu', async () => {
    const seed = everyCase.indexOf(outOfRange) + 1;
    for (const [name, result] of [
      ['fused', await lossAndGrad(crossEntropy, outOfRange, seed)],
      ['webgpu composite', await lossAndGrad(crossEntropyComposite, outOfRange, seed)],
      ['cpu composite', cpu.get(outOfRange)!],
    ] as const) {
      expect(Number.isNaN(result.loss[0]), `${name} loss`).toBe(true);
      expect(result.grad.every(Number.isNaN), `${name} dlogits`).toBe(true);
    }
  });

  it('is what crossEntropy runs on webgpu, forward and backward, without the composite ops', async () => {
    const { logits, targets } = crossEntropyTensors(raggedCase(1, 1000), 5);
    const profile = await tf.profile(() => tf.grad((l: Tensor) => crossEntropy(l as Tensor2D, targets))(logits));
    expect(profile.kernelNames).toContain(CROSS_ENTROPY.name);
    expect(profile.kernelNames).toContain(CROSS_ENTROPY_GRAD.name);
    expect(profile.kernelNames).not.toContain('LogSoftmax');
    expect(profile.kernelNames).not.toContain('GatherV2');
    tf.dispose([logits, targets]);
  });

  it('recomputes the statistics when the gradient kernel gets none, with the same result', async () => {
    const { logits, targets } = crossEntropyTensors(raggedCase(7, 1000), 3);
    const dy = tf.scalar(1.5);
    const direct = tf.engine().runKernel(CROSS_ENTROPY_GRAD.name, { dy, logits, targets }) as Tensor;
    const [taped] = tf.grads((l: Tensor) => tf.mul(crossEntropy(l as Tensor2D, targets), 1.5))([logits]);
    await expectClose(direct, taped, 1e-6, 'dlogits without saved stats');
    tf.dispose([logits, targets, dy, direct, taped]);
  });

  it('frees its statistics: no tensors or GPU bytes left after forward, backward and an untaped forward', async () => {
    const { logits, targets } = crossEntropyTensors(raggedCase(7, 1), 4);
    const snapshot = () => {
      const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
      return { numTensors: memory.numTensors, numBytesInGPU: memory.numBytesInGPU };
    };
    const round = async () => {
      const [g] = tf.grads((l: Tensor) => crossEntropy(l as Tensor2D, targets))([logits]);
      const loss = crossEntropy(logits, targets);
      await Promise.all([g.data(), loss.data()]);
      tf.dispose([g, loss]);
    };
    await round(); // uploads logits and targets to the GPU
    const before = snapshot();
    for (let i = 0; i < 3; i++) await round();
    expect(snapshot()).toEqual(before);
    tf.dispose([logits, targets]);
  });

  it('rejects float targets and mismatched row counts with a ShiftmixError', () => {
    const logits = tf.zeros([3, 4]);
    expect(() => tf.engine().runKernel(CROSS_ENTROPY.name, { logits, targets: tf.zeros([3]) })).toThrow(ShiftmixError);
    expect(() => tf.engine().runKernel(CROSS_ENTROPY.name, { logits, targets: tf.zeros([2], 'int32') })).toThrow(ShiftmixError);
    expect(() => crossEntropy(logits as Tensor2D, tf.zeros([2], 'int32') as Tensor1D)).toThrow(ShiftmixError);
  });
});
