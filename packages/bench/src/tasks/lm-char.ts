import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { CharTokenizer, ShiftmixError, TextDataset, loadTextFile, train } from '@shiftmix/core';
import { shippedTinyShakespeare } from '../shipped.js';
import type { Benchmark, LmCharRecipe } from '../suite/types.js';
import { buildModel } from './model.js';
import type { RunOutcome, RunPlan, Task, TaskContext } from './types.js';

/** How a missing data file is explained: whether `baseDir` is the suite file's folder, and the working directory. */
export interface DataPathHint {
  /** False when the suite came without a file, so `baseDir` is the working directory. Default true. */
  fromSuiteFile?: boolean;
  /** When `data` names a file relative to this folder instead, the error gives the path to write. */
  cwd?: string;
}

/**
 * The benchmark's text file: `data` relative to `baseDir` (the suite file's folder), else
 * the Tiny Shakespeare this package ships. A file that is not there is an error naming
 * the folder the path is read from.
 */
export function lmCharDataPath(benchmark: Benchmark, baseDir: string, hint: DataPathHint = {}): string {
  if (benchmark.data) {
    const file = resolve(baseDir, benchmark.data);
    if (existsSync(file)) return file;
    const there = hint.cwd && !isAbsolute(benchmark.data) ? resolve(hint.cwd, benchmark.data) : undefined;
    const instead = there && existsSync(there) ? relative(baseDir, there).split('\\').join('/') : undefined;
    const base = hint.fromSuiteFile === false ? `the working directory, ${baseDir} (the suite has no file)` : `the folder of the suite file, ${baseDir}`;
    throw new ShiftmixError(
      `benchmark "${benchmark.name}" reads its data "${benchmark.data}" from ${file}, which does not exist`,
      `"data" is relative to ${base}${instead ? `: write "data": "${instead}" for the file you mean` : '; give a path from there or an absolute one'}`,
      'E_DATA_MISSING',
    );
  }
  const shipped = shippedTinyShakespeare();
  if (!shipped) {
    throw new ShiftmixError(
      `benchmark "${benchmark.name}" names no data file, and the Tiny Shakespeare @shiftmix/bench ships is missing`,
      'Set "data" in the suite to a text file (relative to the suite file), or reinstall @shiftmix/bench',
      'E_DATA_MISSING',
    );
  }
  return shipped;
}

let cached: { path: string; tokenizer: CharTokenizer; dataset: TextDataset } | undefined;

async function datasetFor(path: string): Promise<{ tokenizer: CharTokenizer; dataset: TextDataset }> {
  if (cached?.path !== path) {
    const text = await loadTextFile(path);
    const tokenizer = CharTokenizer.fromText(text);
    cached = { path, tokenizer, dataset: new TextDataset(tokenizer.encode(text), { valFraction: 0.1 }) };
  }
  return cached;
}

/**
 * Character-level language modelling (nanoGPT's shakespeare-char): every model trains
 * on the same 90% split with the same seed, so it sees the same windows in the same
 * order, and is evaluated on the same fixed validation batches.
 */
export const lmCharTask: Task = {
  name: 'lm-char',

  count: (benchmark: Benchmark) => Object.keys(benchmark.models).length,

  plan(benchmark: Benchmark, recipe): RunPlan[] {
    const r = recipe as LmCharRecipe;
    return Object.entries(benchmark.models).map(([model, definition]) => ({
      id: `${benchmark.name}--${model}`,
      benchmark: benchmark.name,
      task: 'lm-char',
      model,
      definition: r.layers?.[model] ? { ...definition, layers: r.layers[model] } : definition,
      setting: {},
      recipe: r,
      cost: r.steps * r.batch * r.contextLength * r.dim,
    }));
  },

  async run(plan: RunPlan, ctx: TaskContext): Promise<RunOutcome> {
    const r = plan.recipe as LmCharRecipe;
    const { tokenizer, dataset } = await datasetFor(lmCharDataPath(ctx.benchmark, ctx.baseDir, { fromSuiteFile: ctx.suite.source !== undefined }));
    const model = buildModel(plan.definition, {
      vocabSize: tokenizer.vocabSize,
      dim: r.dim,
      heads: r.heads,
      contextLength: r.contextLength,
      dropout: r.dropout,
      seed: ctx.seed,
    });
    const valLossByStep: [number, number][] = [];
    const valLossBySeconds: [number, number][] = [];
    const trainLossByStep: [number, number][] = [];
    try {
      const summary = await train({
        model,
        data: dataset,
        recipe: {
          steps: r.steps,
          batch: r.batch,
          lr: r.lr,
          minLr: r.minLr,
          warmup: r.warmup,
          weightDecay: r.weightDecay,
          beta1: r.beta1,
          beta2: r.beta2,
          clip: r.clip,
          evalEvery: r.evalEvery,
          evalBatches: r.evalBatches,
          seed: ctx.seed,
          evalSeed: ctx.seed + 1,
        },
        signal: ctx.signal,
        workers: ctx.workers,
        onProgress: (e) => {
          trainLossByStep.push([e.step, e.trainLoss]);
          if (e.valLoss !== undefined) {
            valLossByStep.push([e.step, e.valLoss]);
            valLossBySeconds.push([e.elapsed, e.valLoss]);
          }
          ctx.tick({ step: e.step, steps: e.steps, loss: e.trainLoss, valLoss: e.valLoss });
        },
      });
      const tokensPerStep = r.batch * r.contextLength;
      return {
        paramCount: summary.params,
        metrics: {
          bestValLoss: summary.bestValLoss,
          finalValLoss: summary.valLoss,
          tokensPerSecond: summary.tokensPerSecond,
          msPerStep: summary.tokensPerSecond > 0 ? (1000 * tokensPerStep) / summary.tokensPerSecond : Number.NaN,
          seconds: summary.seconds,
          vocabSize: tokenizer.vocabSize,
        },
        series: { valLossByStep, valLossBySeconds, trainLossByStep },
        notes: summary.stopped ? ['stopped before the last step'] : undefined,
      };
    } finally {
      model.dispose();
    }
  },
};
