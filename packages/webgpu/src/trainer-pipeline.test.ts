import { registerMixer, ShiftmixModel, TextDataset, tf, train, type ProgressEvent, type TrainingData } from '@shiftmix/core';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { abTestMixer } from './test-mixers.js';

registerMixer(abTestMixer('webgpu-pipeline-ab'));

const VOCAB = 9;
const ids = Int32Array.from({ length: 3000 }, (_, i) => (i * 5 + ((i * i) % 7)) % VOCAB);
const data = new TextDataset(ids);
const recipe = { steps: 7, batch: 3, evalEvery: 3, evalBatches: 1, warmup: 2, lr: 2e-2, minLr: 1e-3, clip: 1, seed: 4 };

/**
 * The data, with the targets of training batch `poisonAt` (in the order batches are drawn,
 * which is step order) past the vocabulary: that step's loss is NaN on the device, in an
 * eager step and a replayed one alike.
 */
function poisoned(poisonAt: number): TrainingData {
  let calls = 0;
  return {
    sampleBatch(split, batch, ctx, rng) {
      const b = data.sampleBatch(split, batch, ctx, rng);
      if (++calls !== poisonAt) return b;
      b.y.dispose();
      return { x: b.x, y: tf.fill([batch, ctx], VOCAB, 'int32') as tf.Tensor2D };
    },
    fixedBatches: (...args) => data.fixedBatches(...args),
  };
}

async function run(pipeline: boolean, poisonAt = -1, plan = true) {
  const model = ShiftmixModel.create({ vocabSize: VOCAB, dim: 12, heads: 2, contextLength: 8, layers: 'webgpu-pipeline-ab*2', dropout: 0.2, seed: 3 });
  const events: ProgressEvent[] = [];
  let summary: Awaited<ReturnType<typeof train>> | undefined;
  let error: unknown;
  try {
    summary = await train({ model, data: poisoned(poisonAt), recipe, pipeline, plan, onProgress: (e) => events.push(e) });
  } catch (caught) {
    error = caught;
  }
  const weights = new Map<string, number[]>();
  for (const [name, w] of model.weights()) weights.set(name, Array.from(await w.data()));
  model.dispose();
  const metrics = events.map(({ step, trainLoss, valLoss, lr, gradNorm }) => ({ step, trainLoss, valLoss, lr, gradNorm }));
  return { summary, error, weights, metrics };
}

useBackend('webgpu');

describe('train() with steps pipelined on webgpu', () => {
  it('gives the losses, evaluations and weights of steps taken one at a time, and of eager steps', async () => {
    const sequential = await run(false);
    const pipelined = await run(true);
    const eager = await run(true, -1, false);
    expect(sequential.summary?.pipelined).toBe(false);
    expect(pipelined.summary?.pipelined).toBe(true);
    expect(pipelined.summary?.stepKind).toBe('compiled');
    expect(eager.summary?.stepKind).toBe('eager');
    for (const other of [pipelined, eager]) {
      expect(other.metrics).toEqual(sequential.metrics);
      for (const [name, want] of sequential.weights) expect(other.weights.get(name), name).toEqual(want);
    }
    expect(pipelined.metrics.filter((m) => m.valLoss !== undefined).map((m) => m.step)).toEqual([3, 6, 7]);
    // The run trained: the comparison would prove nothing otherwise.
    expect(new Set(sequential.metrics.map((m) => m.trainLoss)).size).toBeGreaterThan(1);
  });

  // Step 4 follows an evaluation, so its successor is queued only once step 4 is; step 5's
  // successor is queued while step 4 is still being processed, which is when step 5's
  // result may already have arrived. Step 4 is the first replayed step (compiled there),
  // step 5 runs compiled.
  for (const poisonAt of [4, 5]) {
    it(`stops at a step that is not finite (step ${poisonAt}) without applying the step queued behind it`, async () => {
      const sequential = await run(false, poisonAt);
      const pipelined = await run(true, poisonAt);
      const eager = await run(true, poisonAt, false);
      for (const outcome of [sequential, pipelined, eager]) {
        expect((outcome.error as Error | undefined)?.message).toMatch(new RegExp(`training diverged at step ${poisonAt}: the loss is NaN`));
        expect(outcome.metrics.map((m) => m.step)).toEqual(Array.from({ length: poisonAt - 1 }, (_, i) => i + 1));
      }
      for (const other of [pipelined, eager]) for (const [name, want] of sequential.weights) expect(other.weights.get(name), name).toEqual(want);
    });
  }
});
