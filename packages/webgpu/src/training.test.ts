import {
  createShiftRing,
  readShiftRing,
  registerMixer,
  selectBackend,
  ShiftmixModel,
  tf,
  writeShiftRing,
  type MixerSpec,
  type Tensor2D,
  type Tensor3D,
} from '@shiftmix/core';
import { FUSION_BLEND, FUSION_BLEND_GRAD, fusionBlend, HSM_AB, HSM_AB_GRAD } from '@shiftmix/core/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { abTestMixer } from './test-mixers.js';

// Two shift mixers written against core's ops only: core dispatches hsmAbMix / fusionBlend
// to the fused kernels on webgpu and to the composite path on cpu, which is what this test compares.
const abMixer = abTestMixer('webgpu-test-ab');

const blendMixer: MixerSpec<Record<string, never>> = {
  specificationVersion: 1,
  name: 'webgpu-test-blend',
  description: 'test mixer: G * U + (1 - G) * S(U) with G = sigmoid(U W), through fusionBlend',
  shiftBased: true,
  defaults: {},
  validate: () => ({}),
  paramCount: (ctx) => ctx.dim * ctx.dim,
  create(ctx) {
    const w = tf.variable(tf.tidy(() => ctx.init.normal([ctx.dim, ctx.dim], 0.5)));
    const gate = (u: tf.Tensor) => tf.sigmoid(tf.matMul(u.reshape([-1, ctx.dim]), w).reshape(u.shape));
    return {
      weights: { w },
      forward: (u: Tensor3D) => tf.tidy(() => fusionBlend(gate(u) as Tensor3D, u, ctx.shifts)),
      initState: (batch) => ({ position: 0, tensors: { ring: createShiftRing(batch, ctx.dim, ctx.shifts) } }),
      step(u: Tensor2D, state) {
        const ring = state.tensors.ring as Tensor3D;
        const y = tf.tidy(() => {
          const g = gate(u);
          return tf.add(tf.mul(g, u), tf.mul(tf.sub(1, g), readShiftRing(ring, ctx.shifts))) as Tensor2D;
        });
        return { y, state: { position: state.position + 1, tensors: { ring: writeShiftRing(ring, u) } } };
      },
      dispose: () => w.dispose(),
    };
  },
};

registerMixer(abMixer);
registerMixer(blendMixer);

const [BATCH, TIME, VOCAB] = [3, 13, 11];
const tokens = Array.from({ length: BATCH * TIME }, (_, i) => (i * 7 + (i % 5)) % VOCAB);
const targets = tokens.map((t, i) => (t + i) % VOCAB);

/** Runs `steps` Adam steps of a tiny two-mixer stack on `backend`; returns the losses. */
async function train(backend: 'cpu' | 'webgpu', steps: number, onStep?: (step: number) => void): Promise<{ losses: number[]; kernels: string[] }> {
  await selectBackend(backend);
  const model = ShiftmixModel.create({
    vocabSize: VOCAB,
    dim: 20,
    heads: 1,
    contextLength: 16,
    layers: 'webgpu-test-ab,webgpu-test-blend,webgpu-test-ab',
    ffn: 32,
    seed: 5,
  });
  const optimizer = tf.train.adam(0.02);
  const x = tf.tensor2d(tokens, [BATCH, TIME], 'int32');
  const y = tf.tensor2d(targets, [BATCH, TIME], 'int32');
  const variables = [...model.weights().values()];
  const losses: number[] = [];
  const step = () => optimizer.minimize(() => model.loss(x, y, { training: true }), true, variables) as tf.Scalar;
  const profile = await tf.profile(async () => {
    const loss = step();
    losses.push((await loss.data())[0]);
    loss.dispose();
  });
  for (let i = 1; i < steps; i++) {
    const loss = step();
    losses.push((await loss.data())[0]);
    loss.dispose();
    onStep?.(i);
  }
  optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
  return { losses, kernels: profile.kernelNames };
}

describe('training on webgpu', () => {
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it('gives the losses of cpu within float tolerance, through the fused kernels', async () => {
    const cpu = await train('cpu', 5);
    const gpu = await train('webgpu', 5);
    expect(cpu.kernels).not.toContain(HSM_AB.name);
    for (const name of [HSM_AB.name, HSM_AB_GRAD.name, FUSION_BLEND.name, FUSION_BLEND_GRAD.name]) {
      expect(gpu.kernels).toContain(name);
    }
    expect(cpu.losses[4]).toBeLessThan(cpu.losses[0]); // it learns, so the comparison means something
    gpu.losses.forEach((loss, i) => expect(Math.abs(loss - cpu.losses[i]), `step ${i}: ${loss} vs ${cpu.losses[i]}`).toBeLessThan(2e-5));
  });

  it('keeps tensors and GPU memory flat over many steps', async () => {
    const snapshots: { numTensors: number; numBytes: number; numBytesInGPU: number }[] = [];
    await train('webgpu', 25, (step) => {
      if (step === 4 || step === 24) {
        const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
        snapshots.push({ numTensors: memory.numTensors, numBytes: memory.numBytes, numBytesInGPU: memory.numBytesInGPU });
      }
    });
    expect(snapshots[1]).toEqual(snapshots[0]);
  });
});
