import { readFileSync } from 'node:fs';
import { CharTokenizer, ShiftmixModel, TextDataset, selectBackend, tf, train } from '@shiftmix/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LM_CHAR_MODELS, TrainStepRunner, registerLmCharMixers, timeTrainSteps } from './train-step-core.js';

const text = readFileSync(new URL('../../../../benchmarks/data/tinyshakespeare.txt', import.meta.url), 'utf8').slice(0, 20_000);
const shape = { dim: 12, heads: 2, contextLength: 8, dropout: 0.2 };
const recipe = { steps: 3, warmup: 1, batch: 2, evalEvery: 3, evalBatches: 1 };

beforeAll(async () => {
  await selectBackend('cpu');
  registerLmCharMixers();
});

describe('TrainStepRunner', () => {
  it('steps the weights exactly as core’s trainer does (same batches, dropout, AdamW, clip)', async () => {
    const layers = LM_CHAR_MODELS.hybrid;
    const runner = new TrainStepRunner({ layers, text, ...shape, batch: recipe.batch, recipe });
    const runnerLosses: number[] = [];
    for (let i = 0; i < recipe.steps; i++) runnerLosses.push((await runner.step()).loss);

    const tokenizer = CharTokenizer.fromText(text);
    const model = ShiftmixModel.create({ vocabSize: tokenizer.vocabSize, layers, ...shape, ffn: 'match' });
    const trainerLosses: number[] = [];
    await train({ model, data: new TextDataset(tokenizer.encode(text)), recipe, onProgress: (e) => trainerLosses.push(e.trainLoss) });

    expect(runnerLosses).toEqual(trainerLosses);
    const got = runner.model.weights();
    for (const [name, w] of model.weights()) {
      const [a, b] = [await got.get(name)!.data(), await w.data()];
      expect(Array.from(a), name).toEqual(Array.from(b));
    }
    // A step must change the weights, or the comparison above proves nothing.
    const fresh = ShiftmixModel.create({ vocabSize: tokenizer.vocabSize, layers, ...shape, ffn: 'match' });
    const before = await fresh.weights().get('wte')!.data();
    expect(Array.from(await model.weights().get('wte')!.data())).not.toEqual(Array.from(before));
    await runner.dispose();
    model.dispose();
    fresh.dispose();
  });

  it('times steps after warm-up and frees what each step allocates', async () => {
    const runner = new TrainStepRunner({ layers: LM_CHAR_MODELS['hsm-ab'], text, ...shape, batch: 2, recipe: { warmup: 1 } });
    await runner.step();
    const tensors = tf.memory().numTensors;
    const timing = await timeTrainSteps(runner, 1, 3);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(timing.losses).toHaveLength(3);
    expect(timing.minMs).toBeLessThanOrEqual(timing.medianMs);
    expect(timing.medianMs).toBeLessThanOrEqual(timing.maxMs);
    // Every step's host share is its interval less a non-negative wait.
    expect(timing.waitMs).toBeGreaterThanOrEqual(0);
    expect(timing.hostMs).toBeGreaterThan(0);
    expect(timing.hostMs).toBeLessThanOrEqual(timing.maxMs);
    expect(timing.tokensPerSecond).toBeCloseTo((2 * shape.contextLength) / (timing.medianMs / 1e3), 6);
    await runner.dispose();
  });
});
