import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { loadCheckpoint } from '../checkpoint/load.js';
import { TextDataset } from '../data/dataset.js';
import { CharTokenizer } from '../data/tokenizer.js';
import { ShiftmixModel } from '../model/model.js';
import { toyShift } from '../model/toy-mixers.test-util.js';
import { registerMixer, unregisterMixer } from '../registry.js';
import { tf } from '../tf.js';
import { parseMetrics } from './metrics.js';
import { resume } from './resume.js';
import { patternIds, TinyModel } from './stand-ins.test-util.js';
import { train } from './trainer.js';

let root: string;
const data = new TextDataset(patternIds(4000, 11));
const tinyConfig = { contextLength: 8, vocabSize: 11, dim: 6, dropout: 0.2, seed: 5 };
const weightsOf = (m: { weights(): Map<string, tf.Variable> }) => Object.fromEntries([...m.weights()].map(([n, v]) => [n, Array.from(v.dataSync())]));

describe('train', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
    registerMixer(toyShift);
    root = await mkdtemp(join(tmpdir(), 'shiftmix-train-'));
  });
  afterAll(async () => {
    unregisterMixer('toy-shift');
    await rm(root, { recursive: true, force: true });
  });

  it('resumes a stopped run exactly: same losses, learning rates and weights as a straight run', async () => {
    const config = { vocabSize: 11, dim: 8, heads: 2, contextLength: 8, layers: 'toy-shift*2', dropout: 0.2, seed: 11 };
    const recipe = { steps: 8, batch: 4, evalEvery: 3, evalBatches: 2, warmup: 2, lr: 1e-2, minLr: 1e-3, seed: 21 };
    const tokenizer = CharTokenizer.fromText('abcdefghijk');
    const straight = ShiftmixModel.create(config);
    const a = await train({ model: straight, data, recipe, tokenizer, outDir: join(root, 'straight') });
    expect(a.steps).toBe(8);

    const first = ShiftmixModel.create(config);
    const controller = new AbortController();
    const b1 = await train({
      model: first,
      data,
      recipe,
      tokenizer,
      outDir: join(root, 'split'),
      signal: controller.signal,
      onProgress: (e) => e.step === 4 && controller.abort(),
    });
    expect(b1).toMatchObject({ steps: 4, stopped: true });
    first.dispose();
    const b2 = await resume(join(root, 'split'), { data });
    expect(b2).toMatchObject({ steps: 8, stopped: false });

    const read = async (dir: string) =>
      parseMetrics(await readFile(join(root, dir, 'metrics.jsonl'), 'utf8')).map(({ step, trainLoss, valLoss, lr, gradNorm }) => ({
        step,
        trainLoss,
        valLoss,
        lr,
        gradNorm,
      }));
    const straightMetrics = await read('straight');
    expect(straightMetrics.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(straightMetrics.filter((r) => r.valLoss !== null).map((r) => r.step)).toEqual([3, 6, 8]);
    expect(await read('split')).toEqual(straightMetrics);
    expect(weightsOf(b2.model)).toEqual(weightsOf(straight));
    expect(b2.bestValLoss).toBe(a.bestValLoss);
    expect(b2.model.rng.state).toBe(straight.rng.state);

    // The final validation loss is the model's mean loss on the fixed validation batches.
    const batches = data.fixedBatches('val', 2, 4, 8, 2024);
    const direct = batches.map((batch) => tf.tidy(() => straight.loss(batch.x, batch.y, { training: false }).dataSync()[0]));
    expect(a.valLoss).toBeCloseTo((direct[0] + direct[1]) / 2, 6);
    tf.dispose(batches.flatMap((batch) => [batch.x, batch.y]));
    const best = await loadCheckpoint(join(root, 'straight', 'best'));
    expect(best.state.bestValLoss).toBe(a.bestValLoss);
    const resumedLast = await loadCheckpoint(join(root, 'split', 'last'));
    expect(resumedLast.state.step).toBe(8);
    expect(CharTokenizer.fromJSON(resumedLast.tokenizer).decode(Int32Array.from([10, 0]))).toBe('ka');
    resumedLast.model.dispose();
    best.model.dispose();

    // Extending a finished run trains only the new steps, at the schedule's floor.
    b2.model.dispose();
    const extended = await resume(join(root, 'split'), { data, steps: 10 });
    expect(extended).toMatchObject({ steps: 10, stopped: false });
    const lines = await read('split');
    expect(lines.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(lines.slice(0, 8)).toEqual(straightMetrics);
    expect(lines[9].lr).toBe(recipe.minLr);
    extended.model.dispose();
    straight.dispose();
  });

  it('stops on a non-finite loss with a clear error and keeps the last good checkpoint', async () => {
    const model = new TinyModel(tinyConfig);
    // Calls: steps 1, 2, evaluation, step 3, then step 4 gets NaN.
    model.poisonAtCall = 5;
    const outDir = join(root, 'diverged');
    const run = train({ model, data, recipe: { steps: 10, batch: 4, evalEvery: 2, evalBatches: 1, warmup: 1 }, outDir });
    await expect(run).rejects.toThrow(/training diverged at step 4: the loss is NaN.*last good checkpoint .*last\) was kept/);
    await expect(run).rejects.toMatchObject({ code: 'E_NONFINITE' });
    for (const v of model.weights().values()) expect(v.dataSync().every(Number.isFinite)).toBe(true);
    const last = await loadCheckpoint(join(outDir, 'last'), { createModel: (c) => new TinyModel(c as typeof tinyConfig), optimizer: true });
    expect(last.state.step).toBe(2);
    tf.dispose([...last.optimizer!.m.values(), ...last.optimizer!.v.values()]);
    last.model.dispose();
    model.dispose();
  });

  it('keeps the tensor count flat over many steps and frees everything at the end', async () => {
    const model = new TinyModel(tinyConfig);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const summary = await train({
      model,
      data,
      recipe: { steps: 40, batch: 8, evalEvery: 10, evalBatches: 2, warmup: 4, lr: 0.05, minLr: 0.005 },
      onProgress: () => counts.push(tf.memory().numTensors),
    });
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    // It learns the pattern: the bigram model's loss falls well below log(11) = 2.40.
    expect(summary.valLoss).toBeLessThan(1.6);
    expect(summary).toMatchObject({ steps: 40, params: 11 * 6 + 6 * 11 + 11, backend: 'cpu', stopped: false });
    model.dispose();
  });

  it('refuses to overwrite an existing run unless asked', async () => {
    const outDir = join(root, 'taken');
    const model = new TinyModel(tinyConfig);
    const recipe = { steps: 2, batch: 2, evalEvery: 2, evalBatches: 1, warmup: 1 };
    await train({ model, data, recipe, outDir });
    await expect(train({ model, data, recipe, outDir })).rejects.toThrow(/already holds a training run/);
    await expect(train({ model, data, recipe, outDir, overwrite: true })).resolves.toMatchObject({ steps: 2 });
    expect(parseMetrics(await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).map((r) => r.step)).toEqual([1, 2]);
    await expect(train({ model, data, recipe: { ...recipe, stepz: 3 } as never })).rejects.toThrow(/unknown recipe field "stepz"/);
    model.dispose();
  });
});
