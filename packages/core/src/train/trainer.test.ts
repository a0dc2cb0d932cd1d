import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { loadCheckpoint } from '../checkpoint/load.js';
import { checkpointFiles } from '../checkpoint/encode.js';
import { loadCheckpointFiles } from '../checkpoint/decode.js';
import { TextDataset } from '../data/dataset.js';
import { CharTokenizer } from '../tokenizer/char.js';
import { ShiftmixModel } from '../model/model.js';
import { toyShift } from '../model/toy-mixers.test-util.js';
import { registerMixer, unregisterMixer } from '../registry.js';
import { tf } from '../tf.js';
import { parseMetrics } from './metrics.js';
import { isDivergedError, type DivergedError } from './divergence.js';
import { resume, resumedRecipe, resumeFromFiles } from './resume.js';
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
    await expect(run).rejects.toThrow(/training diverged at step 4: the loss is NaN; the last good checkpoint \(.*diverged\/last, step 2\) was kept/);
    await expect(run).rejects.toMatchObject({ code: 'E_NONFINITE' });
    for (const v of model.weights().values()) expect(v.dataSync().every(Number.isFinite)).toBe(true);
    const last = await loadCheckpoint(join(outDir, 'last'), { createModel: (c) => new TinyModel(c as typeof tinyConfig), optimizer: true });
    expect(last.state.step).toBe(2);
    tf.dispose([...last.optimizer!.m.values(), ...last.optimizer!.v.values()]);
    last.model.dispose();
    model.dispose();
  });

  it('stops when the loss blows up without saving over the last sane checkpoint, which resumes with a lower learning rate', async () => {
    const outDir = join(root, 'blown-up');
    const createModel = (c: Record<string, unknown>) => new TinyModel(c as typeof tinyConfig);
    const model = new TinyModel({ ...tinyConfig, dropout: 0 });
    await train({ model, data, recipe: { steps: 4, batch: 4, evalEvery: 2, evalBatches: 1, warmup: 1, lr: 1e-2 }, outDir });
    model.dispose();
    // A learning rate far too high: the weights blow up, the loss stays finite but absurd.
    const error = await resume(outDir, { data, createModel, steps: 20, lr: 100 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDivergedError(error)).toBe(true);
    const diverged = error as DivergedError;
    expect(diverged.message).toMatch(
      /^training diverged at step 6: the validation loss is [\d.e+]+, more than 2 times [\d.]+, the loss the run started from; the last good checkpoint \(.*blown-up\/last, step 4\) was kept\. Resume it with a lower learning rate, e\.g\. resume\(dir, \{ data, lr: 0\.001 \}\)/,
    );
    expect(diverged).toMatchObject({ code: 'E_DIVERGED', step: 6, lr: 100, suggestedLr: 1e-3, checkpoint: { dir: join(outDir, 'last'), step: 4 } });
    const kept = await loadCheckpoint(join(outDir, 'last'), { createModel, optimizer: true });
    expect(kept.state.step).toBe(4);
    expect(kept.recipe?.lr).toBe(1e-2);
    tf.dispose([...kept.optimizer!.m.values(), ...kept.optimizer!.v.values()]);
    kept.model.dispose();

    // The suggested rate resumes it; the checkpoints keep it (and the floor, scaled with it) for later resumes.
    const fixed = await resume(outDir, { data, createModel, steps: 10, lr: diverged.suggestedLr });
    expect(fixed).toMatchObject({ steps: 10, stopped: false });
    fixed.model.dispose();
    const later = await resume(outDir, { data, createModel, steps: 12 });
    later.model.dispose();
    const last = await loadCheckpoint(join(outDir, 'last'), { createModel });
    expect(last.recipe).toMatchObject({ steps: 12, lr: 1e-3, minLr: 1e-4 * (1e-3 / 1e-2) });
    last.model.dispose();
    const lines = parseMetrics(await readFile(join(outDir, 'metrics.jsonl'), 'utf8'));
    expect(lines.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const r of lines.slice(4)) expect(r.lr).toBeLessThanOrEqual(1e-3);
    expect(resumedRecipe({ lr: 1e-2, minLr: 1e-3 }, { lr: 1e-3 })).toMatchObject({ lr: 1e-3, minLr: 1e-4 });
    expect(resumedRecipe({ lr: 1e-2, minLr: 1e-3 }, { lr: 1e-3, minLr: 0 })).toMatchObject({ lr: 1e-3, minLr: 0 });
    expect(() => resumedRecipe({ lr: 1e-2, minLr: 1e-3 }, { minLr: 0.5 })).toThrow(/minLr 0\.5 is outside \[0, lr = 0\.01\]/);
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
  it('hands each checkpoint to onCheckpoint, with or without outDir: the files it would write', async () => {
    const config = { vocabSize: 11, dim: 8, heads: 2, contextLength: 8, layers: 'toy-shift*2', dropout: 0.2, seed: 11 };
    const recipe = { steps: 5, batch: 4, evalEvery: 2, evalBatches: 2, warmup: 1, lr: 1e-2, minLr: 1e-3, seed: 21 };
    const tokenizer = CharTokenizer.fromText('abcdefghijk');
    const outDir = join(root, 'handed');
    const handed: { kind: string; step: number; files: Map<string, Uint8Array> }[] = [];
    const model = ShiftmixModel.create(config);
    await train({
      model,
      data,
      recipe,
      tokenizer,
      outDir,
      onCheckpoint: async (kind, contents) => void handed.push({ kind, step: contents.state.step, files: await checkpointFiles(contents) }),
    });
    // last/ at every evaluation (2, 4 and the end), best/ whenever the validation loss improved.
    expect(handed.filter((h) => h.kind === 'last').map((h) => h.step)).toEqual([2, 4, 5]);
    expect(handed.filter((h) => h.kind === 'best').length).toBeGreaterThan(0);
    const last = handed.filter((h) => h.kind === 'last').at(-1)!.files;
    const written = (await readdir(join(outDir, 'last'))).sort();
    expect([...last.keys()].sort()).toEqual(written);
    for (const name of written) expect(Buffer.from(last.get(name)!).equals(await readFile(join(outDir, 'last', name))), name).toBe(true);
    expect(handed.find((h) => h.kind === 'best')!.files.has('optimizer.safetensors')).toBe(false);

    // Without outDir nothing is written, and the handed checkpoint resumes: same weights as the model's.
    const free: Map<string, Uint8Array>[] = [];
    const again = ShiftmixModel.create(config);
    await train({ model: again, data, recipe, tokenizer, onCheckpoint: async (kind, c) => void (kind === 'last' && free.push(await checkpointFiles(c))) });
    expect(free).toHaveLength(3);
    const loaded = await loadCheckpointFiles(free[2], { optimizer: true });
    expect(loaded.state.step).toBe(5);
    expect(weightsOf(loaded.model)).toEqual(weightsOf(again));
    expect(weightsOf(again)).toEqual(weightsOf(model));
    tf.dispose([...loaded.optimizer!.m.values(), ...loaded.optimizer!.v.values()]);
    loaded.model.dispose();
    again.dispose();
    model.dispose();
  });

  it('resumes from a checkpoint in memory exactly as the run would have gone on (resumeFromFiles)', async () => {
    const config = { vocabSize: 11, dim: 8, heads: 2, contextLength: 8, layers: 'toy-shift*2', dropout: 0.2, seed: 12 };
    const recipe = { steps: 6, batch: 4, evalEvery: 3, evalBatches: 2, warmup: 1, lr: 1e-2, minLr: 1e-3, seed: 22 };
    const tokenizer = CharTokenizer.fromText('abcdefghijk');
    const whole = ShiftmixModel.create(config);
    const losses: number[] = [];
    await train({ model: whole, data, recipe, tokenizer, onProgress: (e) => void losses.push(e.trainLoss) });
    // The first half, its checkpoint at step 3 kept in memory, then the rest from it.
    const half = ShiftmixModel.create(config);
    let atThree: Map<string, Uint8Array> | undefined;
    const stop = new AbortController();
    await train({
      model: half,
      data,
      recipe,
      tokenizer,
      signal: stop.signal,
      onProgress: (e) => void (e.step === 3 && stop.abort()),
      onCheckpoint: async (kind, c) => void (kind === 'last' && (atThree = await checkpointFiles(c))),
    });
    const resumedLosses: number[] = [];
    const resumed = await resumeFromFiles(atThree!, { data, name: 'half', onProgress: (e) => void resumedLosses.push(e.trainLoss) });
    expect(resumed.steps).toBe(6);
    expect(resumedLosses).toEqual(losses.slice(3));
    expect(weightsOf(resumed.model)).toEqual(weightsOf(whole));
    await expect(resumeFromFiles(new Map([...atThree!].filter(([name]) => name !== 'optimizer.safetensors')), { data, name: 'half' })).rejects.toThrow(/half/);
    for (const m of [whole, half, resumed.model]) m.dispose();
  });
});
