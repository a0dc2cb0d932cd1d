import { selectBackend, ShiftmixModel, tf } from '@shiftmix/core';
import { afterAll, describe, expect, it } from 'vitest';
import { CROSS_ENTROPY_GRAD_KERNEL, CROSS_ENTROPY_KERNEL } from './index.js';
import { registerAbTestMixer } from './test-mixers.js';
import { expectClose } from './test-utils.js';

registerAbTestMixer('cross-entropy-test-ab');

const [BATCH, TIME, VOCAB] = [3, 9, 37];
const tokens = Array.from({ length: BATCH * TIME }, (_, i) => (i * 11 + (i % 4)) % VOCAB);
// Some targets ignored, as MQAR's unqueried positions.
const targets = tokens.map((t, i) => (i % 4 === 2 ? -1 : (t * 5 + i) % VOCAB));

/** Loss and every weight's gradient of a fresh model (same seed on every backend), with the kernels it ran. */
type Values = { shape: number[]; values: Float32Array };

async function lossAndGrads(backend: 'cpu' | 'webgpu'): Promise<{ loss: number; grads: Map<string, Values>; kernels: string[] }> {
  await selectBackend(backend);
  const model = ShiftmixModel.create({ vocabSize: VOCAB, dim: 16, heads: 1, contextLength: 16, layers: 'cross-entropy-test-ab*2', ffn: 32, seed: 11 });
  const x = tf.tensor2d(tokens, [BATCH, TIME], 'int32');
  const y = tf.tensor2d(targets, [BATCH, TIME], 'int32');
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
  const profile = await tf.profile(() => {
    result = tf.variableGrads(() => model.loss(x, y, { training: false }), [...model.weights().values()]);
  });
  const { value, grads } = result!;
  const loss = (await value.data())[0];
  // Gradients move to cpu as plain arrays, so they outlive the backend switch.
  const byName = new Map<string, Values>();
  for (const [name, variable] of model.weights()) {
    const g = grads[variable.name];
    byName.set(name, { shape: g.shape, values: (await g.data()) as Float32Array });
  }
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  return { loss, grads: byName, kernels: profile.kernelNames };
}

describe('a model\'s loss on webgpu through ShiftmixCrossEntropy', () => {
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it('gives the loss and every gradient of cpu within 1e-4', async () => {
    const cpu = await lossAndGrads('cpu');
    const gpu = await lossAndGrads('webgpu');
    expect(cpu.kernels).not.toContain(CROSS_ENTROPY_KERNEL);
    expect(gpu.kernels).toContain(CROSS_ENTROPY_KERNEL);
    expect(gpu.kernels).toContain(CROSS_ENTROPY_GRAD_KERNEL);
    expect(Math.abs(gpu.loss - cpu.loss), `${gpu.loss} vs ${cpu.loss}`).toBeLessThan(1e-4);
    expect([...gpu.grads.keys()]).toEqual([...cpu.grads.keys()]);
    for (const [name, expected] of cpu.grads) {
      const got = gpu.grads.get(name)!;
      await expectClose(tf.tensor(got.values, got.shape), tf.tensor(expected.values, expected.shape), 1e-4, name);
    }
  });
});
