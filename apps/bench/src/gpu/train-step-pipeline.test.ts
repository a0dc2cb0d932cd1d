import { readFileSync } from 'node:fs';
import { selectBackend, tf } from '@shiftmix/core';
import { useBackend } from '@shiftmix/core/testing';
import '@shiftmix/webgpu';
import { describe, expect, it } from 'vitest';
import { LM_CHAR_MODELS, TrainStepRunner, timeTrainSteps } from './train-step-core.js';

const text = readFileSync(new URL('../../../../benchmarks/data/tinyshakespeare.txt', import.meta.url), 'utf8').slice(0, 20_000);
const options = { layers: LM_CHAR_MODELS.hybrid, text, dim: 12, heads: 2, contextLength: 8, dropout: 0.2, batch: 2, recipe: { warmup: 1 } };

useBackend('webgpu');

describe('pipelined training steps on webgpu', () => {
  it('give the losses and weights of steps taken one after another', async () => {
    const run = async (pipeline: boolean) => {
      const runner = new TrainStepRunner(options);
      const timing = await timeTrainSteps(runner, 1, 4, { pipeline });
      const weights = new Map<string, Float32Array>();
      for (const [name, w] of runner.model.weights()) weights.set(name, (await w.data()) as Float32Array);
      await runner.dispose();
      return { timing, weights };
    };
    const sequential = await run(false);
    const pipelined = await run(true);
    expect(sequential.timing.pipelined).toBe(false);
    expect(pipelined.timing.pipelined).toBe(true);
    expect(pipelined.timing.losses).toEqual(sequential.timing.losses);
    for (const [name, want] of sequential.weights) expect(Array.from(pipelined.weights.get(name)!), name).toEqual(Array.from(want));
    // The steps trained: the losses moved.
    expect(new Set(sequential.timing.losses).size).toBeGreaterThan(1);
  });

  it('falls back to one step at a time where the update waits for the readback', async () => {
    await selectBackend('cpu');
    const runner = new TrainStepRunner(options);
    expect(runner.canPipeline).toBe(false);
    expect((await timeTrainSteps(runner, 0, 2, { pipeline: true })).pipelined).toBe(false);
    await runner.dispose();
    expect(tf.getBackend()).toBe('cpu');
  });
});
