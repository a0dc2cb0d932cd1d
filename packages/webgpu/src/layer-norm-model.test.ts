import { selectBackend, ShiftmixModel, tf } from '@shiftmix/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ADD_LAYER_NORM_KERNEL, BIAS_GELU_GRAD_KERNEL, BIAS_GELU_KERNEL, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from './index.js';
import { registerAbTestMixer } from './test-mixers.js';

registerAbTestMixer('webgpu-test-ln-ab');

const [BATCH, TIME, VOCAB] = [2, 11, 13];
const tokens = Array.from({ length: BATCH * TIME }, (_, i) => (i * 5 + (i % 3)) % VOCAB);
const targets = tokens.map((t, i) => (t + 2 * i) % VOCAB);

/** Loss, every weight's gradient by name, and the kernels one step ran, on `backend`. */
async function lossAndGradients(backend: 'cpu' | 'webgpu'): Promise<{ loss: number; grads: Map<string, Float32Array>; kernels: string[] }> {
  await selectBackend(backend);
  // D = 20 takes the vec4 paths of the layer norms; FFN width 30 the scalar path of biasGelu.
  const model = ShiftmixModel.create({ vocabSize: VOCAB, dim: 20, heads: 1, contextLength: 16, layers: 'webgpu-test-ln-ab*2', ffn: 30, seed: 3 });
  const x = tf.tensor2d(tokens, [BATCH, TIME], 'int32');
  const y = tf.tensor2d(targets, [BATCH, TIME], 'int32');
  const weights = model.weights();
  const step = () => tf.variableGrads(() => model.loss(x, y, { training: false }), [...weights.values()]);
  let result: ReturnType<typeof step> | undefined;
  const profile = await tf.profile(() => {
    result = step();
    return [result.value, ...Object.values(result.grads)];
  });
  const { value, grads } = result!;
  const byName = new Map<string, Float32Array>();
  for (const [name, v] of weights) byName.set(name, (await grads[v.name].data()) as Float32Array);
  const loss = (await value.data())[0];
  tf.dispose([value, ...Object.values(grads), x, y]);
  model.dispose();
  return { loss, grads: byName, kernels: profile.kernelNames };
}

describe('a model on webgpu with the fused layer norms and bias-GELU', () => {
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it('gives the loss and every gradient of the composite path on cpu', async () => {
    const cpu = await lossAndGradients('cpu');
    const gpu = await lossAndGradients('webgpu');
    for (const name of [LAYER_NORM_KERNEL, ADD_LAYER_NORM_KERNEL, BIAS_GELU_KERNEL, LAYER_NORM_GRAD_KERNEL, BIAS_GELU_GRAD_KERNEL]) {
      expect(gpu.kernels, name).toContain(name);
      expect(cpu.kernels, name).not.toContain(name);
    }
    expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(1e-4);
    expect([...gpu.grads.keys()]).toEqual([...cpu.grads.keys()]);
    for (const [name, want] of cpu.grads) {
      const got = gpu.grads.get(name)!;
      const scale = Math.max(...want.map(Math.abs));
      const worst = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
      expect(worst, `${name}: max |webgpu - cpu| against max |cpu| = ${scale}`).toBeLessThan(1e-4 * scale);
      expect(want.some((g) => g !== 0), `${name} has a gradient`).toBe(true);
    }
  });
});
