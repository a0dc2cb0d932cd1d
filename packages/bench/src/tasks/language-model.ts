import { DEFAULT_RECIPE, ShiftmixError, loadCorpus, train, type Corpus, type TokenizerName, type TrainRecipe } from '@shiftmix/core';
import { shippedTinyShakespeare } from '../shipped.js';
import { benchmarkDataPath } from '../suite/data.js';
import { isObject } from '../suite/fields.js';
import type { Benchmark } from '../suite/types.js';
import { buildModel, planPerModel } from './model.js';
import type { RunOutcome, RunPlan, Task, TaskContext } from './types.js';

/** Recipe of a language-modelling task (lm-char, lm-bpe): model shape and core's training fields. */
export interface LanguageModelRecipe extends Pick<
  TrainRecipe,
  'batch' | 'steps' | 'lr' | 'minLr' | 'warmup' | 'weightDecay' | 'beta1' | 'beta2' | 'clip' | 'evalEvery' | 'evalBatches'
> {
  /** Model width D. */
  dim: number;
  heads: number;
  contextLength: number;
  dropout: number;
  /**
   * Layer patterns that replace the models' own under this preset, by model name (e.g. a
   * four-layer CPU preset of six-layer models); models not named keep theirs.
   */
  layers?: Record<string, string>;
}

// The tasks train with core's defaults (nanoGPT's shakespeare-char), for their own steps.
const { batch, lr, minLr, warmup, weightDecay, beta1, beta2, clip, evalEvery, evalBatches } = DEFAULT_RECIPE;

let cached: { key: string; corpus: Corpus } | undefined;

async function corpusFor(path: string, tokenizer: TokenizerName): Promise<Corpus> {
  const key = `${tokenizer}:${path}`;
  if (cached?.key !== key) cached = { key, corpus: await loadCorpus(path, { tokenizer, valFraction: 0.1 }) };
  return cached.corpus;
}

/** What sets one language-modelling task apart from another: its name and tokenizer. */
export interface LanguageModelTaskOptions {
  name: string;
  tokenizer: TokenizerName;
  /** What a token is, in chart labels: "char", "token". */
  unit: string;
  /** The metric the headline names: the loss in nats per token, or bits per byte (which compares across tokenizers). */
  headline: 'bestValLoss' | 'bestValBpb';
}

/**
 * Language modelling on a text (Tiny Shakespeare unless the suite names one), tokenized
 * by the task's tokenizer: every model trains on the same 90% of the tokens with the same
 * seed, so it sees the same windows in the same order, and is evaluated on the same fixed
 * validation batches. Losses are in nats per token and bits per byte.
 */
export function languageModelTask(options: LanguageModelTaskOptions): Task<LanguageModelRecipe> {
  const { name, tokenizer, unit } = options;
  const task: Task<LanguageModelRecipe> = {
    name,

    recipe: {
      fields: {
        dim: 'positiveInt',
        heads: 'positiveInt',
        contextLength: 'positiveInt',
        batch: 'positiveInt',
        dropout: 'fraction',
        steps: 'positiveInt',
        lr: 'positive',
        minLr: 'nonNegative',
        warmup: 'nonNegativeInt',
        weightDecay: 'nonNegative',
        beta1: 'fraction',
        beta2: 'fraction',
        clip: 'nonNegative',
        evalEvery: 'positiveInt',
        evalBatches: 'positiveInt',
        layers: {
          expected: 'an object of layer patterns by model name, e.g. { "gpt": "softmax-attention*4" }',
          test: (v) => isObject(v) && Object.values(v).every((p) => typeof p === 'string' && p.trim() !== ''),
        },
      },
      // The standard (GPU) recipe: nanoGPT's shakespeare-char.
      defaults: {
        dim: 384,
        heads: 6,
        contextLength: 256,
        dropout: 0.2,
        steps: 5000,
        batch,
        lr,
        minLr,
        warmup,
        weightDecay,
        beta1,
        beta2,
        clip,
        evalEvery,
        evalBatches,
      },
      check(r, benchmark, fail) {
        if (r.minLr > r.lr) fail(`minLr ${r.minLr} is above lr ${r.lr}`, 'Give a floor below the peak rate');
        for (const model of Object.keys(r.layers ?? {})) {
          if (!benchmark.models[model]) fail(`no model "${model}"`, `Name models of this benchmark: ${Object.keys(benchmark.models).join(', ')}`, 'layers');
        }
      },
    },

    metrics: [
      { name: 'bestValLoss', label: 'best val loss', format: 'loss' },
      { name: 'bestValBpb', label: 'best val bpb', format: 'loss' },
      { name: 'finalValLoss', label: 'final val loss', format: 'loss' },
      { name: 'tokensPerSecond', label: 'tokens/s', format: 'count' },
      { name: 'msPerStep', label: 'ms/step', format: 'ms' },
      { name: 'seconds', label: 'wall s', format: 'seconds' },
    ],
    headline:
      options.headline === 'bestValBpb'
        ? { metric: 'bestValBpb', says: 'the best validation bits per byte' }
        : { metric: 'bestValLoss', says: 'the best validation loss' },

    /** The benchmark's text file: its "data", else the Tiny Shakespeare this package ships. */
    dataFile(benchmark, baseDir, hint) {
      const given = benchmarkDataPath(benchmark, baseDir, hint);
      if (given) return given;
      const shipped = shippedTinyShakespeare();
      if (!shipped) {
        throw new ShiftmixError(
          `benchmark "${benchmark.name}" names no data file, and the Tiny Shakespeare @shiftmix/bench ships is missing`,
          'Set "data" in the suite to a text file (relative to the suite file), or reinstall @shiftmix/bench',
          'E_DATA_MISSING',
        );
      }
      return shipped;
    },

    plan: (benchmark: Benchmark, r) =>
      planPerModel(benchmark, name, r, r.steps * r.batch * r.contextLength * r.dim, (model, definition) =>
        r.layers?.[model] ? { ...definition, layers: r.layers[model] } : definition,
      ),

    async run(plan: RunPlan, ctx: TaskContext): Promise<RunOutcome> {
      const r = plan.recipe as LanguageModelRecipe;
      const corpus = await corpusFor(task.dataFile!(ctx.benchmark, ctx.baseDir, { fromSuiteFile: ctx.suite.source !== undefined }), tokenizer);
      const dataset = corpus.dataset;
      const model = buildModel(plan.definition, {
        vocabSize: corpus.vocabSize,
        dim: r.dim,
        heads: r.heads,
        contextLength: r.contextLength,
        dropout: r.dropout,
        seed: ctx.seed,
      });
      const valLossByStep: [number, number][] = [];
      const valLossBySeconds: [number, number][] = [];
      const trainLossByStep: [number, number][] = [];
      const valBpbByStep: [number, number][] = [];
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
              if (e.valBpb !== undefined) valBpbByStep.push([e.step, e.valBpb]);
            }
            ctx.tick({ step: e.step, steps: e.steps, loss: e.trainLoss, valLoss: e.valLoss });
          },
        });
        const tokensPerStep = r.batch * r.contextLength;
        return {
          paramCount: summary.params,
          metrics: {
            bestValLoss: summary.bestValLoss,
            bestValBpb: summary.bestValBpb ?? Number.NaN,
            finalValLoss: summary.valLoss,
            tokensPerSecond: summary.tokensPerSecond,
            msPerStep: summary.tokensPerSecond > 0 ? (1000 * tokensPerStep) / summary.tokensPerSecond : Number.NaN,
            seconds: summary.seconds,
            vocabSize: corpus.vocabSize,
          },
          series: { valLossByStep, valLossBySeconds, trainLossByStep, valBpbByStep },
          notes: summary.stopped ? ['stopped before the last step'] : undefined,
        };
      } finally {
        model.dispose();
      }
    },

    charts: (_results, { seriesOf }) => [
      {
        name: 'val-loss-vs-step',
        title: 'validation loss vs step',
        xLabel: 'step',
        yLabel: `validation loss (nats/${unit})`,
        series: seriesOf('valLossByStep'),
      },
      {
        name: 'val-loss-vs-time',
        title: 'validation loss vs wall time',
        xLabel: 'wall time (s)',
        yLabel: `validation loss (nats/${unit})`,
        series: seriesOf('valLossBySeconds'),
      },
      // Where the headline is in bits per byte, so is a chart: the curves to set beside another tokenizer's.
      ...(options.headline === 'bestValBpb'
        ? [
            {
              name: 'val-bpb-vs-step',
              title: 'validation bits per byte vs step',
              xLabel: 'step',
              yLabel: 'validation loss (bits/byte)',
              series: seriesOf('valBpbByStep'),
            },
          ]
        : []),
    ],
  };
  return task;
}
