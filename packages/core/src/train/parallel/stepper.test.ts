import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../backend.js';
import { TextDataset } from '../../data/dataset.js';
import { ShiftmixModel } from '../../model/model.js';
import { toyShift } from '../../model/toy-mixers.test-util.js';
import { registerMixer, unregisterMixer } from '../../registry.js';
import { patternIds } from '../stand-ins.test-util.js';
import { train } from '../trainer.js';
import { ParallelStepper, shardRows } from './stepper.js';
import { resolveRecipe } from '../recipe.js';
import { Rng } from '../../rng.js';
import { flatLayout, writeFlat } from './flat.js';

// Data-parallel steps against one thread. The workers build their replicas from the
// shipped mixer packages (core does not depend on them: they load by name, built).
async function registerPackage(name: string): Promise<void> {
  const mod = (await import(/* @vite-ignore */ name)) as { register(): void };
  mod.register();
}

const data = new TextDataset(patternIds(6000, 13));
const config = { vocabSize: 13, dim: 16, heads: 2, contextLength: 12, layers: 'hsm-ab,softmax-attention,hsm-ab', dropout: 0, seed: 3 };
// A batch of 5 splits 3 + 2: shards of unequal size weigh by the targets they score.
const recipe = { steps: 6, batch: 5, evalEvery: 3, evalBatches: 2, warmup: 2, lr: 1e-2, seed: 9 };

async function run(workers: number) {
  const model = ShiftmixModel.create(config);
  const losses: number[] = [];
  const summary = await train({ model, data, recipe, workers, onProgress: (e) => losses.push(e.trainLoss) });
  const weights = [...model.weights().values()].flatMap((v) => Array.from(v.dataSync()));
  model.dispose();
  return { losses, summary, weights };
}

describe('ParallelStepper', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
    await registerPackage('@shiftmix/mixer-hsm-ab');
    await registerPackage('@shiftmix/mixer-softmax-attention');
  });
  afterAll(() => {
    unregisterMixer('hsm-ab');
    unregisterMixer('softmax-attention');
  });

  it('splits a batch into near-equal row ranges, the first ones larger', () => {
    expect(shardRows(5, 2)).toEqual([
      [0, 3],
      [3, 2],
    ]);
    expect(shardRows(12, 3)).toEqual([
      [0, 4],
      [4, 4],
      [8, 4],
    ]);
  });

  it('trains to the losses and weights of one thread, up to float rounding', async () => {
    const one = await run(1);
    const two = await run(2);
    expect(two.summary.workers).toBe(2);
    expect(two.losses).toHaveLength(6);
    two.losses.forEach((l, i) => expect(l).toBeCloseTo(one.losses[i], 5));
    expect(two.summary.valLoss).toBeCloseTo(one.summary.valLoss, 5);
    let worst = 0;
    two.weights.forEach((w, i) => (worst = Math.max(worst, Math.abs(w - one.weights[i]))));
    expect(worst).toBeLessThan(1e-5);
    // The runs changed the weights: equal results are not two untouched models.
    expect(one.losses[5]).toBeLessThan(one.losses[0]);
  });

  it("keeps every replica's weights equal to this thread's, bit for bit, from moments it was given", async () => {
    const model = ShiftmixModel.create(config);
    const r = resolveRecipe(recipe);
    const stepper = await ParallelStepper.create(model, r, { workers: 2 });
    const rng = new Rng(4);
    try {
      for (let step = 1; step <= 4; step++) await stepper.step(data.sampleBatch('train', r.batch, config.contextLength, rng), step);
      const layout = flatLayout(model.weights());
      const mine = new Float32Array(layout.size);
      writeFlat(layout, model.weights(), mine);
      const [theirs] = await stepper.replicaWeights();
      expect(Array.from(theirs)).toEqual(Array.from(mine));
      expect(stepper.optimizer.step).toBe(4);
    } finally {
      await stepper.close();
      stepper.optimizer.dispose();
      model.dispose();
    }
  });

  it('refuses more workers than rows, and a mixer no module is known to register', async () => {
    const model = ShiftmixModel.create(config);
    await expect(ParallelStepper.create(model, resolveRecipe(recipe), { workers: 6 })).rejects.toThrow(
      /workers 6 must be a whole number from 2 to the batch size 5/,
    );
    model.dispose();
    registerMixer(toyShift);
    const toy = ShiftmixModel.create({ ...config, layers: 'toy-shift*2' });
    await expect(ParallelStepper.create(toy, resolveRecipe(recipe), { workers: 2 })).rejects.toThrow(/which module registers mixer "toy-shift"/);
    toy.dispose();
    unregisterMixer('toy-shift');
  });

  it("reports a worker's failure to load a module", async () => {
    const model = ShiftmixModel.create(config);
    const attempt = ParallelStepper.create(model, resolveRecipe(recipe), { workers: 2, modules: ['./no-such-mixer.js'] });
    await expect(attempt).rejects.toThrow(/a training worker failed: .*no-such-mixer\.js/);
    model.dispose();
  });
});
