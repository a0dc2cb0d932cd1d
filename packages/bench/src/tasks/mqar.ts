import { train } from '@shiftmix/core';
import type { Benchmark, MqarRecipe } from '../suite/types.js';
import { generateMqar, type MqarData } from './mqar-data.js';
import { MqarDataset, mqarAccuracy } from './mqar-dataset.js';
import { buildModel } from './model.js';
import type { RunOutcome, RunPlan, Task, TaskContext } from './types.js';

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

export const mqarTask: Task = {
  name: 'mqar',

  count(benchmark: Benchmark, recipe): number {
    const r = recipe as MqarRecipe;
    return r.settings.length * r.dims.length * lrs(r).length * Object.keys(benchmark.models).length;
  },

  plan(benchmark: Benchmark, recipe): RunPlan[] {
    const r = recipe as MqarRecipe;
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
};
