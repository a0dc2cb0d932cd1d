import { CROSS_ENTROPY, CROSS_ENTROPY_GRAD } from '@shiftmix/core/kernels';
import { describe, expect, it } from 'vitest';
import { registerAbTestMixer } from './test-mixers.js';
import { cpuAndWebGpuRuns, expectSameModelRun } from './test-utils.js';

const layers = `${registerAbTestMixer('cross-entropy-test-ab')}*2`;
const [BATCH, TIME, VOCAB] = [3, 9, 37];
const row = (b: number) => Array.from({ length: TIME }, (_, t) => b * TIME + t);
const tokens = Array.from({ length: BATCH }, (_, b) => row(b).map((i) => (i * 11 + (i % 4)) % VOCAB));
// Some targets ignored, as MQAR's unqueried positions.
const targets = tokens.map((r, b) => r.map((tok, t) => (t % 4 === 2 ? -1 : (tok * 5 + b * TIME + t) % VOCAB)));
const config = { vocabSize: VOCAB, dim: 16, heads: 1, contextLength: 16, layers, ffn: 32, seed: 11 };

describe("a model's loss on webgpu through ShiftmixCrossEntropy", () => {
  it('gives the loss and every gradient of cpu within 1e-4', async () => {
    const { cpu, gpu } = await cpuAndWebGpuRuns(config, tokens, targets);
    expect(cpu.kernels).not.toContain(CROSS_ENTROPY.name);
    expect(gpu.kernels).toContain(CROSS_ENTROPY.name);
    expect(gpu.kernels).toContain(CROSS_ENTROPY_GRAD.name);
    await expectSameModelRun(gpu, cpu, 1e-4);
  });
});
