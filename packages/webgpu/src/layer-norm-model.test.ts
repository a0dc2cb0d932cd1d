import { ADD_LAYER_NORM, BIAS_GELU, BIAS_GELU_GRAD, LAYER_NORM, LAYER_NORM_GRAD } from '@shiftmix/core/kernels';
import { describe, expect, it } from 'vitest';
import { registerAbTestMixer } from './test-mixers.js';
import { cpuAndWebGpuRuns, expectSameModelRun } from './test-utils.js';

const layers = `${registerAbTestMixer('webgpu-test-ln-ab')}*2`;
const [BATCH, TIME, VOCAB] = [2, 11, 13];
const tokens = Array.from({ length: BATCH }, (_, b) => Array.from({ length: TIME }, (_, t) => ((b * TIME + t) * 5 + ((b * TIME + t) % 3)) % VOCAB));
const targets = tokens.map((r, b) => r.map((tok, t) => (tok + 2 * (b * TIME + t)) % VOCAB));
// D = 20 takes the vec4 paths of the layer norms; FFN width 30 the scalar path of biasGelu.
const config = { vocabSize: VOCAB, dim: 20, heads: 1, contextLength: 16, layers, ffn: 30, seed: 3 };

describe('a model on webgpu with the fused layer norms and bias-GELU', () => {
  it('gives the loss and every gradient of the composite path on cpu', async () => {
    const { cpu, gpu } = await cpuAndWebGpuRuns(config, tokens, targets);
    for (const name of [LAYER_NORM.name, ADD_LAYER_NORM.name, BIAS_GELU.name, LAYER_NORM_GRAD.name, BIAS_GELU_GRAD.name]) {
      expect(gpu.kernels, name).toContain(name);
      expect(cpu.kernels, name).not.toContain(name);
    }
    await expectSameModelRun(gpu, cpu, 1e-4);
  });
});
