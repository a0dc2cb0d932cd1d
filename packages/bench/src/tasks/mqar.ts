import { train } from '@shiftmix/core';
import { formatCount } from '@shiftmix/core/tooling';
import { formatMetric, markdownTable, type MetricSpec } from '../report/format.js';
import { byModelOrder, modelCell } from '../report/tables.js';
import { isObject, isPositiveInt } from '../suite/fields.js';
import type { Benchmark } from '../suite/types.js';
import { generateMqar, type MqarData } from './mqar-data.js';
import { MqarDataset, mqarAccuracy } from './mqar-dataset.js';
import { buildModel } from './model.js';
import type { RunOutcome, RunPlan, RunResult, Task, TaskContext } from './types.js';

/** One (sequence length, kv pairs) setting of the MQAR task. */
export interface MqarSetting {
  seqLen: number;
  pairs: number;
}

/** Recipe of mqar, after Zoology's synthetic. */
export interface MqarRecipe {
  vocabSize: number;
  settings: MqarSetting[];
  /** Model widths to sweep; accuracy is reported per width. */
  dims: number[];
  heads: number;
  trainExamples: number;
  testExamples: number;
  epochs: number;
  batch: number;
  /** One rate, or several: the table then reports the best accuracy over them (as Zoology does). */
  lr: number | number[];
  warmup: number;
  weightDecay: number;
  dropout: number;
  /** Exponent a of the power law p(gap = g) ~ a * g^(a - 1) over query gaps. */
  powerA: number;
}

const lrs = (r: MqarRecipe) => (Array.isArray(r.lr) ? r.lr : [r.lr]);

// The data of one setting is shared by all models of that setting; runs are planned
// setting by setting, so caching the last one avoids regenerating it for every model.
let cached: { key: string; train: MqarData; test: MqarData } | undefined;

function dataFor(recipe: MqarRecipe, seqLen: number, pairs: number, seed: number): { train: MqarData; test: MqarData } {
  const key = JSON.stringify([recipe.vocabSize, recipe.trainExamples, recipe.testExamples, recipe.powerA, seqLen, pairs, seed]);
  if (cached?.key !== key) {
    const common = { vocabSize: recipe.vocabSize, seqLen, pairs, powerA: recipe.powerA };
    cached = {
      key,
      train: generateMqar({ ...common, count: recipe.trainExamples, seed }),
      test: generateMqar({ ...common, count: recipe.testExamples, seed: seed + 1 }),
    };
  }
  return cached;
}

const ACCURACY: MetricSpec = { name: 'accuracy', label: 'accuracy', format: 'accuracy' };

/** The (T, pairs) settings of some runs, in the order they first appear. */
const settingsOf = (results: RunResult[]) =>
  [...new Set(results.map((r) => `${r.setting.seqLen}/${r.setting.pairs}`))].map((key) => key.split('/').map(Number));

/** Accuracy on queried positions per model and width, over (T, pairs) settings, learning rates and widths. */
export const mqarTask: Task<MqarRecipe> = {
  name: 'mqar',

  recipe: {
    fields: {
      vocabSize: 'positiveInt',
      settings: {
        expected: 'a non-empty list of { "seqLen": int, "pairs": int }',
        test: (v) =>
          Array.isArray(v) &&
          v.length > 0 &&
          v.every((s) => isObject(s) && Object.keys(s).every((k) => k === 'seqLen' || k === 'pairs') && isPositiveInt(s.seqLen) && isPositiveInt(s.pairs)),
      },
      dims: 'positiveIntList',
      heads: 'positiveInt',
      trainExamples: 'positiveInt',
      testExamples: 'positiveInt',
      epochs: 'positiveInt',
      batch: 'positiveInt',
      lr: 'positiveOrList',
      warmup: 'nonNegativeInt',
      weightDecay: 'nonNegative',
      dropout: 'fraction',
      powerA: 'positive',
    },
    // The standard recipe follows Zoology's synthetic at V = 8192.
    defaults: {
      vocabSize: 8192,
      settings: [
        { seqLen: 64, pairs: 4 },
        { seqLen: 128, pairs: 8 },
        { seqLen: 256, pairs: 16 },
      ],
      dims: [64, 128, 256],
      heads: 1,
      trainExamples: 100_000,
      testExamples: 3_000,
      epochs: 16,
      batch: 64,
      lr: [1e-3, 3e-3],
      warmup: 100,
      weightDecay: 0.1,
      dropout: 0,
      powerA: 0.01,
    },
    check(r, _benchmark, fail) {
      for (const s of r.settings) {
        // Zoology's constraints: room for the queries after the pairs, and more tokens than positions.
        if (s.seqLen % 2 !== 0) fail(`seqLen ${s.seqLen} is odd`, 'Use an even sequence length', 'settings');
        if (s.pairs * 4 > s.seqLen) fail(`${s.pairs} pairs need seqLen >= ${s.pairs * 4}, got ${s.seqLen}`, 'Use fewer pairs or a longer sequence', 'settings');
        if (s.pairs > r.vocabSize / 2 - 1)
          fail(`${s.pairs} pairs need more than ${s.pairs * 2 + 1} tokens, vocabSize is ${r.vocabSize}`, 'Raise vocabSize', 'settings');
      }
    },
  },

  metrics: [ACCURACY, { name: 'finalLoss', label: 'test loss', format: 'loss' }, { name: 'seconds', label: 'wall s', format: 'seconds' }],

  sweep: (r) => [
    { size: r.settings.length, name: 'settings' },
    { size: r.dims.length, name: 'dims' },
    { size: lrs(r).length, name: 'learning rates' },
  ],

  plan(benchmark: Benchmark, r): RunPlan[] {
    const plans: RunPlan[] = [];
    for (const { seqLen, pairs } of r.settings) {
      for (const dim of r.dims) {
        for (const lr of lrs(r)) {
          for (const [model, definition] of Object.entries(benchmark.models)) {
            const steps = Math.ceil((r.epochs * r.trainExamples) / r.batch);
            plans.push({
              id: `${benchmark.name}--${model}--T${seqLen}-P${pairs}-D${dim}-lr${lr}`,
              benchmark: benchmark.name,
              task: 'mqar',
              model,
              definition,
              setting: { seqLen, pairs, dim, lr },
              recipe: r,
              cost: steps * r.batch * seqLen * dim,
            });
          }
        }
      }
    }
    return plans;
  },

  async run(plan: RunPlan, ctx: TaskContext): Promise<RunOutcome> {
    const r = plan.recipe as MqarRecipe;
    const { seqLen, pairs, dim, lr } = plan.setting;
    const { train: trainSet, test } = dataFor(r, seqLen, pairs, ctx.seed);
    const model = buildModel(plan.definition, { vocabSize: r.vocabSize, dim, heads: r.heads, contextLength: seqLen, dropout: r.dropout, seed: ctx.seed });
    try {
      const steps = Math.ceil((r.epochs * r.trainExamples) / r.batch);
      const lossByStep: [number, number][] = [];
      const summary = await train({
        model,
        workers: ctx.workers,
        data: new MqarDataset(trainSet, test),
        recipe: {
          steps,
          batch: r.batch,
          lr,
          minLr: lr / 10,
          warmup: Math.min(r.warmup, steps - 1),
          weightDecay: r.weightDecay,
          beta1: 0.9,
          beta2: 0.99,
          clip: 1,
          evalEvery: steps,
          evalBatches: Math.min(8, Math.ceil(r.testExamples / r.batch)),
          seed: ctx.seed,
          evalSeed: ctx.seed + 1,
        },
        signal: ctx.signal,
        onProgress: (e) => {
          lossByStep.push([e.step, e.trainLoss]);
          ctx.tick({ step: e.step, steps: e.steps, loss: e.trainLoss, valLoss: e.valLoss });
        },
      });
      const accuracy = await mqarAccuracy(model, test, r.batch);
      return {
        paramCount: summary.params,
        metrics: { accuracy, finalLoss: summary.valLoss, seconds: summary.seconds, tokensPerSecond: summary.tokensPerSecond },
        series: { trainLossByStep: lossByStep },
        notes: summary.stopped ? ['stopped before the last step'] : undefined,
      };
    } finally {
      model.dispose();
    }
  },

  /** Per (T, pairs): accuracy per model and d_model (best over learning rates), params beside each. */
  table(benchmark, results) {
    const dims = [...new Set(results.map((r) => r.setting.dim))].sort((a, b) => a - b);
    const tables = settingsOf(results).map(([seqLen, pairs]) => {
      const here = results.filter((r) => r.setting.seqLen === seqLen && r.setting.pairs === pairs);
      const models = [...new Set(here.sort(byModelOrder(benchmark)).map((r) => r.model))];
      const rows = models.map((model) => {
        const cells = dims.map((dim) => {
          const runs = here.filter((r) => r.model === model && r.setting.dim === dim);
          if (!runs.length) return '-';
          const best = runs.reduce((a, b) => ((b.metrics.accuracy ?? -1) > (a.metrics.accuracy ?? -1) ? b : a));
          const lr = runs.length > 1 ? `, lr ${best.setting.lr}` : '';
          return `${formatMetric(ACCURACY, best.metrics.accuracy)} (${formatCount(best.paramCount)} params${lr})`;
        });
        const first = here.find((r) => r.model === model)!;
        return [modelCell(first), first.layers, ...cells];
      });
      return `T = ${seqLen}, ${pairs} key-value pairs: accuracy on queried positions\n\n${markdownTable(['model', 'layers', ...dims.map((d) => `d_model ${d}`)], rows)}`;
    });
    return tables.join('\n\n');
  },

  charts(results, { colour }) {
    const models = [...new Set(results.map((r) => r.model))];
    return settingsOf(results).map(([seqLen, pairs]) => ({
      name: `accuracy-T${seqLen}-P${pairs}`,
      title: `accuracy vs d_model, T ${seqLen}, ${pairs} pairs`,
      xLabel: 'd_model',
      yLabel: 'accuracy',
      xScale: 'log' as const,
      series: models.map((model) => {
        const runs = results.filter((r) => r.model === model && r.setting.seqLen === seqLen && r.setting.pairs === pairs);
        const dims = [...new Set(runs.map((r) => r.setting.dim))].sort((x, y) => x - y);
        // Best accuracy over learning rates at each width, as the table reports it.
        const points = dims.map((d): [number, number] => [d, Math.max(...runs.filter((r) => r.setting.dim === d).map((r) => r.metrics.accuracy ?? 0))]);
        return { name: model, points, colour: colour(model) };
      }),
    }));
  },
};
