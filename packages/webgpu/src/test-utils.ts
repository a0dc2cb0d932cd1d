import { ShiftmixModel, selectBackend, tf, type ModelConfig, type Tensor } from '@shiftmix/core';
import { tensorDifference } from '@shiftmix/core/tooling';
import { useBackend } from '@shiftmix/core/testing';
import { afterEach, expect } from 'vitest';
import { attentionDropoutKeep } from './attention/dropout.js';
import { attentionTuning } from './attention/index.js';
import './kernels.js';

/** Asserts max |actual - expected| <= tol * (1 + max |expected|), naming the worst index (core's tensorDifference). */
export async function expectClose(actual: Tensor, expected: Tensor, tol = 1e-5, label = ''): Promise<void> {
  expect(actual.shape, `${label} shape`).toEqual(expected.shape);
  const d = await tensorDifference(actual, expected);
  expect(d.worst, `${label} differs most at flat index ${d.at}: ${d.actualValue} vs ${d.expectedValue}`).toBeLessThanOrEqual(tol * (1 + d.scale));
}

/** A seeded normal tensor, the same numbers on every backend. */
export function normal(shape: number[], seed: number): Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** The fused attention kernels' dropout mask, scaled by 1 / (1 - rate), as [B, H, T, T]. */
export function attentionKeepMask(shape: number[], rate: number, seed: number): Tensor {
  const [b, h, t] = shape;
  const values = new Float32Array(b * h * t * t);
  for (let bh = 0; bh < b * h; bh++) {
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < t; j++) values[(bh * t + i) * t + j] = attentionDropoutKeep(seed, bh, i, j, t, rate) ? 1 / (1 - rate) : 0;
    }
  }
  return tf.tensor4d(values, [b, h, t, t]);
}

export interface ModelRun {
  loss: number;
  /** Each weight's gradient by name, as plain arrays (they outlive a backend switch). */
  grads: Map<string, { shape: number[]; values: Float32Array }>;
  /** The kernels the step ran. */
  kernels: string[];
}

/** Loss and every weight's gradient of a fresh model (same seed on every backend) on `backend`, not training. */
async function modelLossAndGrads(
  backend: 'cpu' | 'webgpu',
  config: Partial<ModelConfig> & { vocabSize: number },
  tokens: number[][],
  targets: number[][],
): Promise<ModelRun> {
  await selectBackend(backend);
  const model = ShiftmixModel.create(config);
  const x = tf.tensor2d(tokens, undefined, 'int32');
  const y = tf.tensor2d(targets, undefined, 'int32');
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
  const profile = await tf.profile(() => {
    result = tf.variableGrads(() => model.loss(x, y, { training: false }), [...model.weights().values()]);
  });
  const { value, grads } = result!;
  const loss = (await value.data())[0];
  const byName: ModelRun['grads'] = new Map();
  for (const [name, variable] of model.weights()) {
    const g = grads[variable.name];
    byName.set(name, { shape: g.shape, values: (await g.data()) as Float32Array });
  }
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  return { loss, grads: byName, kernels: profile.kernelNames };
}

/**
 * The same fresh model's loss and gradients on cpu (the composite path), then on webgpu,
 * with the kernels each ran; cpu is selected again after.
 */
export async function cpuAndWebGpuRuns(
  config: Partial<ModelConfig> & { vocabSize: number },
  tokens: number[][],
  targets: number[][],
): Promise<{ cpu: ModelRun; gpu: ModelRun }> {
  try {
    const cpu = await modelLossAndGrads('cpu', config, tokens, targets);
    const gpu = await modelLossAndGrads('webgpu', config, tokens, targets);
    return { cpu, gpu };
  } finally {
    await selectBackend('cpu');
  }
}

/** Asserts the same loss and gradients (each weight nonzero on `want`) within tol. */
export async function expectSameModelRun(got: ModelRun, want: ModelRun, tol = 1e-4): Promise<void> {
  expect(Math.abs(got.loss - want.loss), `loss ${got.loss} vs ${want.loss}`).toBeLessThan(tol);
  expect([...got.grads.keys()]).toEqual([...want.grads.keys()]);
  for (const [name, w] of want.grads) {
    const g = got.grads.get(name)!;
    expect(
      w.values.some((x) => x !== 0),
      `${name} has a gradient`,
    ).toBe(true);
    const [a, b] = [tf.tensor(g.values, g.shape), tf.tensor(w.values, w.shape)];
    await expectClose(a, b, tol, name);
    tf.dispose([a, b]);
  }
}

/**
 * A test file's webgpu backend with the fused kernels implemented (no adapter is a
 * failure, not a skip: CI installs Mesa so that they really run), and tiles forced by a
 * test reset after it.
 */
export function useAttentionKernels(): void {
  useBackend('webgpu');
  afterEach(() => {
    attentionTuning.tiles = undefined;
  });
}
