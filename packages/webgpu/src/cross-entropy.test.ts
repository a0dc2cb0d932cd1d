import { crossEntropy, selectBackend, ShiftmixError, tf, type Tensor, type Tensor1D, type Tensor2D } from '@shiftmix/core';
import { crossEntropyComposite } from '@shiftmix/core/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CROSS_ENTROPY_GRAD_KERNEL, CROSS_ENTROPY_KERNEL, crossEntropyTuning } from './index.js';
import { expectClose } from './test-utils.js';

type Case = { rows: number; vocab: number; spread: number; targets: number[] };
type Result = { loss: Float32Array; grad: Float32Array };

/** Deterministic logits in [-spread/2, spread/2) from an LCG, so every backend gets the same numbers. */
function logitValues(size: number, spread: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * spread;
  });
}

/** Every third target ignored (-1 or -100), the others spread over [0, V). */
function targetValues(rows: number, vocab: number): number[] {
  return Array.from({ length: rows }, (_, n) => (n % 3 === 1 ? (n % 2 ? -1 : -100) : (n * 7919 + 13) % vocab));
}

const cases: Case[] = [];
for (const rows of [1, 7, 300]) {
  for (const vocab of [1, 3, 65, 1000, 5000]) {
    if (rows * vocab <= 300_000) cases.push({ rows, vocab, spread: 8, targets: targetValues(rows, vocab) });
  }
}
const allIgnored: Case = { rows: 7, vocab: 65, spread: 8, targets: Array(7).fill(-1) };
// Logits 1e4 apart; rows 0 and 2 target their own maximum, where the loss is tiny.
const extreme: Case = { rows: 5, vocab: 300, spread: 1e4, targets: [0, 17, 0, -1, 299] };
const outOfRange: Case = { rows: 4, vocab: 11, spread: 8, targets: [2, 11, -1, 5] };

function tensorsOf(c: Case, seed: number): { logits: Tensor2D; targets: Tensor1D } {
  const values = logitValues(c.rows * c.vocab, c.spread, seed);
  if (c === extreme) [0, 2].forEach((n) => (values[n * c.vocab] = (c.spread / 2) * (1 + n)));
  return { logits: tf.tensor2d(values, [c.rows, c.vocab]), targets: tf.tensor1d(c.targets, 'int32') };
}

/** Loss and dlogits with dy = 2.5 (so the gradient's scaling by dy is checked too). */
async function lossAndGrad(fn: (l: Tensor2D, t: Tensor1D) => tf.Scalar, c: Case, seed: number): Promise<Result> {
  const { logits, targets } = tensorsOf(c, seed);
  const { value, grads } = tf.valueAndGrads((l: Tensor) => tf.mul(fn(l as Tensor2D, targets), 2.5))([logits]);
  const result = { loss: (await value.data()) as Float32Array, grad: (await grads[0].data()) as Float32Array };
  tf.dispose([logits, targets, value, grads[0]]);
  return result;
}

function expectArraysClose(actual: Float32Array, expected: Float32Array, tol: number, label: string): Promise<void> {
  return expectClose(tf.tensor(actual), tf.tensor(expected), tol, label);
}

const everyCase = [...cases, allIgnored, extreme, outOfRange];
const cpu = new Map<Case, Result>();

// The references are computed on cpu first; the rest of the file runs on webgpu.
beforeAll(async () => {
  await selectBackend('cpu');
  for (const [i, c] of everyCase.entries()) cpu.set(c, await lossAndGrad(crossEntropyComposite, c, i + 1));
  // No adapter is a failure, not a skip: CI installs Mesa so that these kernels really run.
  expect((await selectBackend('webgpu')).backend).toBe('webgpu');
});

afterAll(async () => {
  await selectBackend('cpu');
});

describe('ShiftmixCrossEntropy on webgpu', () => {
  it('gives the loss and dlogits of the composite path (webgpu) and of cpu on ragged shapes', async () => {
    for (const c of [...cases, extreme]) {
      const seed = everyCase.indexOf(c) + 1;
      const label = `N ${c.rows}, V ${c.vocab}, spread ${c.spread}`;
      const fused = await lossAndGrad(crossEntropy, c, seed);
      const composite = await lossAndGrad(crossEntropyComposite, c, seed);
      const reference = cpu.get(c)!;
      expect(Number.isFinite(fused.loss[0]) && fused.grad.every(Number.isFinite), `${label}: finite`).toBe(true);
      await expectArraysClose(fused.loss, composite.loss, 1e-5, `${label} loss vs webgpu composite`);
      await expectArraysClose(fused.loss, reference.loss, 1e-5, `${label} loss vs cpu`);
      await expectArraysClose(fused.grad, composite.grad, 1e-5, `${label} dlogits vs webgpu composite`);
      await expectArraysClose(fused.grad, reference.grad, 1e-5, `${label} dlogits vs cpu`);
    }
  });

  it('folds rows past the dispatch limit into y, with the same results', async () => {
    const c = cases.find((k) => k.rows === 300 && k.vocab === 65)!;
    const seed = everyCase.indexOf(c) + 1;
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
    const { logits, targets } = tensorsOf(cases[3], 5);
    const profile = await tf.profile(() => tf.grad((l: Tensor) => crossEntropy(l as Tensor2D, targets))(logits));
    expect(profile.kernelNames).toContain(CROSS_ENTROPY_KERNEL);
    expect(profile.kernelNames).toContain(CROSS_ENTROPY_GRAD_KERNEL);
    expect(profile.kernelNames).not.toContain('LogSoftmax');
    expect(profile.kernelNames).not.toContain('GatherV2');
    tf.dispose([logits, targets]);
  });

  it('recomputes the statistics when the gradient kernel gets none, with the same result', async () => {
    const c = cases.find((k) => k.rows === 7 && k.vocab === 1000)!;
    const { logits, targets } = tensorsOf(c, 3);
    const dy = tf.scalar(1.5);
    const direct = tf.engine().runKernel(CROSS_ENTROPY_GRAD_KERNEL, { dy, logits, targets }) as Tensor;
    const [taped] = tf.grads((l: Tensor) => tf.mul(crossEntropy(l as Tensor2D, targets), 1.5))([logits]);
    await expectClose(direct, taped, 1e-6, 'dlogits without saved stats');
    tf.dispose([logits, targets, dy, direct, taped]);
  });

  it('frees its statistics: no tensors or GPU bytes left after forward, backward and an untaped forward', async () => {
    const { logits, targets } = tensorsOf(cases[5], 4);
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
    expect(() => tf.engine().runKernel(CROSS_ENTROPY_KERNEL, { logits, targets: tf.zeros([3]) })).toThrow(ShiftmixError);
    expect(() => tf.engine().runKernel(CROSS_ENTROPY_KERNEL, { logits, targets: tf.zeros([2], 'int32') })).toThrow(ShiftmixError);
    expect(() => crossEntropy(logits as Tensor2D, tf.zeros([2], 'int32') as Tensor1D)).toThrow(ShiftmixError);
  });
});
