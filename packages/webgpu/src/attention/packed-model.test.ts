import { linear, packedCausalAttention, registerMixer, tf, type MixerSpec, type Tensor3D } from '@shiftmix/core';
import { PACKED_ATTENTION, PACKED_ATTENTION_GRAD } from '@shiftmix/core/kernels';
import { describe, expect, it } from 'vitest';
import { cpuAndWebGpuRuns, expectSameModelRun } from '../test-utils.js';

// GPT attention written against core's ops only (the mixer packages are not this
// package's dependencies): qkv projection, packedCausalAttention, output projection, as
// softmax-attention runs it without RoPE. Biases start nonzero so their gradients differ.
const attentionMixer: MixerSpec<{ window: number | null }> = {
  specificationVersion: 1,
  name: 'webgpu-test-packed-attention',
  description: 'test mixer: causal attention through packedCausalAttention',
  shiftBased: false,
  defaults: { window: null },
  validate: (config) => ({ window: (config as { window?: number | null })?.window ?? null }),
  paramCount: (ctx) => 4 * ctx.dim * ctx.dim + 4 * ctx.dim,
  create(ctx, config) {
    const d = ctx.dim;
    const weights = {
      wqkv: tf.variable(ctx.init.normal([d, 3 * d], 0.3)),
      bqkv: tf.variable(ctx.init.normal([3 * d], 0.1)),
      wo: tf.variable(ctx.init.normal([d, d], 0.3)),
      bo: tf.variable(ctx.init.normal([d], 0.1)),
    };
    return {
      weights,
      forward: (u: Tensor3D) =>
        tf.tidy(() => {
          const merged = packedCausalAttention(linear(u, weights.wqkv, weights.bqkv), ctx.heads, { window: config.window, training: false }); // [B, T, D]
          return linear(merged, weights.wo, weights.bo) as Tensor3D;
        }),
      initState: () => ({ position: 0, tensors: {} }),
      step: (u, state) => ({ y: u, state }),
      dispose: () => tf.dispose(Object.values(weights)),
    };
  },
};
registerMixer(attentionMixer);

const [BATCH, TIME, VOCAB] = [2, 13, 17];
const tokens = Array.from({ length: BATCH }, (_, b) => Array.from({ length: TIME }, (_, t) => (b * 7 + t * 5 + (t % 3)) % VOCAB));
const targets = tokens.map((row, b) => row.map((x, t) => (x * 3 + b + t) % VOCAB));

describe('a GPT on webgpu through the packed attention kernel', () => {
  it.each([
    ['hd 8, full causal', { dim: 24, heads: 3, window: null }],
    ['hd 5, window 4', { dim: 10, heads: 2, window: 4 }],
  ])('gives the loss and every gradient of the composite path on cpu within 1e-4 (%s)', async (_, { dim, heads, window }) => {
    const config = {
      vocabSize: VOCAB,
      dim,
      heads,
      contextLength: 16,
      layers: 'webgpu-test-packed-attention*2',
      mixers: { 'webgpu-test-packed-attention': { window } },
      ffn: 2 * dim,
      seed: 5,
    };
    const { cpu, gpu } = await cpuAndWebGpuRuns(config, tokens, targets);
    expect(cpu.kernels).not.toContain(PACKED_ATTENTION.name);
    expect(gpu.kernels).toContain(PACKED_ATTENTION.name);
    expect(gpu.kernels).toContain(PACKED_ATTENTION_GRAD.name);
    // No head split or merge is left on the fused path.
    for (const name of ['SplitV', 'Transpose', 'Concat']) expect(gpu.kernels, name).not.toContain(name);
    await expectSameModelRun(gpu, cpu, 1e-4);
  });
});
