import {
  Rng,
  computeShiftSchedule,
  createWeightInit,
  getMixer,
  parseLayerParts,
  tf,
  type LayerPart,
  type Mixer,
  type MixerContext,
  type Tensor,
  type Variable,
} from '@shiftmix/core';
import { formatCount } from '@shiftmix/core/tooling';
import { formatMetric, markdownTable, metricLabel } from '../report/format.js';
import { byModelOrder, modelCell } from '../report/tables.js';
import type { ChartSeries } from '../svg/chart.js';
import { planPerModel } from './model.js';
import type { RunOutcome, RunPlan, Task, TaskContext } from './types.js';

/** Recipe of scaling: one mixer layer timed as the sequence grows. */
export interface ScalingRecipe {
  dim: number;
  heads: number;
  batch: number;
  /** First sequence length; each next one doubles it. */
  minSeqLen: number;
  maxSeqLen: number;
  /** Stop growing T for a mixer once one forward+backward takes longer than this. */
  timeBudgetMs: number;
  /** Stop growing T once peak memory of forward+backward passes this. */
  memoryBudgetBytes: number;
  /** Shift-based layers of the notional stack the layer's shifts come from. */
  scheduleLayers: number;
  /** Untimed passes before the timed ones. */
  warmup: number;
  repeats: number;
}

const now = () => performance.now();

/** The one block of a single-layer pattern ("hsm-ab", "softmax-attention(window=64)"), else undefined. */
export function singleLayer(layers: string): LayerPart | undefined {
  try {
    const parts = parseLayerParts(layers, { checkRegistry: false });
    return parts.length === 1 ? parts[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Sequence lengths from minSeqLen doubling up to maxSeqLen. */
export function scalingLengths(r: ScalingRecipe): number[] {
  const lengths: number[] = [];
  for (let t = r.minSeqLen; t <= r.maxSeqLen; t *= 2) lengths.push(t);
  return lengths;
}

/** One mixer layer at context `t`; a shift-based layer gets the shifts of the last layer of a radix stack. */
function createLayer(name: string, options: Record<string, unknown>, r: ScalingRecipe, t: number, seed: number): { mixer: Mixer; params: number } {
  const spec = getMixer(name);
  const shifts = spec.shiftBased ? computeShiftSchedule('radix', r.scheduleLayers, t, r.dim).shifts[r.scheduleLayers - 1] : [];
  const rng = new Rng(seed);
  const ctx: MixerContext = {
    dim: r.dim,
    heads: r.heads,
    contextLength: t,
    layerIndex: r.scheduleLayers - 1,
    numLayers: r.scheduleLayers,
    shifts,
    dropout: 0,
    init: createWeightInit(rng, r.scheduleLayers),
    rng,
  };
  const config = spec.validate(options, ctx);
  return { mixer: spec.create(ctx, config), params: spec.paramCount(ctx, config) };
}

/** Forward, or forward and the gradients of every weight and of the input, reduced to one scalar to wait on. */
function pass(mixer: Mixer, u: Variable, backward: boolean): Tensor {
  if (!backward) return tf.tidy(() => tf.sum(mixer.forward(u as unknown as tf.Tensor3D, { training: false })));
  const vars = [u, ...Object.values(mixer.weights)];
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(mixer.forward(u as unknown as tf.Tensor3D, { training: true }))) as tf.Scalar, vars);
  return tf.tidy(() => {
    const total = tf.addN([value, ...Object.values(grads).map((g) => tf.sum(g))]);
    tf.dispose([value, ...Object.values(grads)]);
    return total;
  });
}

async function timeMs(mixer: Mixer, u: Variable, backward: boolean, r: ScalingRecipe): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < r.warmup + r.repeats; i++) {
    const t0 = now();
    const out = pass(mixer, u, backward);
    await out.data();
    out.dispose();
    if (i >= r.warmup) times.push(now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Peak bytes the engine held above what was allocated before the pass. */
async function peakBytes(mixer: Mixer, u: Variable, backward: boolean): Promise<number> {
  const check = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
  // Profiling would otherwise read every kernel's output back to look for NaNs.
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  try {
    const before = tf.memory().numBytes;
    const info = await tf.profile(async () => {
      const out = pass(mixer, u, backward);
      await out.data();
      out.dispose();
    });
    return Math.max(0, info.peakBytes - before);
  } finally {
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', check);
  }
}

/**
 * Times one mixer layer as T doubles: forward and forward+backward (median of
 * `repeats` after `warmup`), and peak engine memory of each. Growth stops at the first
 * T whose forward+backward passes the time or memory budget, or that fails (out of memory).
 */
export const scalingTask: Task<ScalingRecipe> = {
  name: 'scaling',

  recipe: {
    fields: {
      dim: 'positiveInt',
      heads: 'positiveInt',
      batch: 'positiveInt',
      minSeqLen: 'positiveInt',
      maxSeqLen: 'positiveInt',
      timeBudgetMs: 'positive',
      memoryBudgetBytes: 'positive',
      scheduleLayers: 'positiveInt',
      warmup: 'nonNegativeInt',
      repeats: 'positiveInt',
    },
    defaults: {
      dim: 384,
      heads: 6,
      batch: 1,
      minSeqLen: 256,
      maxSeqLen: 32768,
      timeBudgetMs: 10_000,
      memoryBudgetBytes: 16 * 2 ** 30,
      scheduleLayers: 6,
      warmup: 1,
      repeats: 3,
    },
    check(r, _benchmark, fail) {
      if (r.minSeqLen > r.maxSeqLen) fail(`minSeqLen ${r.minSeqLen} is above maxSeqLen ${r.maxSeqLen}`, 'Give minSeqLen <= maxSeqLen');
    },
  },

  checkModel(definition, fail) {
    if (singleLayer(definition.layers) === undefined) {
      fail(
        `scaling times one mixer layer, got the pattern "${definition.layers}"`,
        'Give a single mixer name, e.g. "hsm-ab" or "softmax-attention(window=64)"',
        'layers',
      );
    }
  },

  metrics: [
    { name: 'maxSeqLen', label: 'max T' },
    { name: 'forwardMs', label: 'fwd ms', format: 'ms' },
    { name: 'forwardBackwardMs', label: 'fwd+bwd ms', format: 'ms' },
    { name: 'forwardPeakBytes', label: 'fwd peak', format: 'bytes' },
    { name: 'forwardBackwardPeakBytes', label: 'fwd+bwd peak', format: 'bytes' },
  ],

  plan: (benchmark, r) =>
    planPerModel(
      benchmark,
      'scaling',
      r,
      scalingLengths(r).reduce((a, t) => a + t, 0),
    ),

  async run(plan: RunPlan, ctx: TaskContext): Promise<RunOutcome> {
    const r = plan.recipe as ScalingRecipe;
    // The suite check made sure the pattern is one block; its own options override the per-name ones.
    const part = singleLayer(plan.definition.layers)!;
    const name = part.name;
    const options = { ...plan.definition.mixers?.[name], ...part.options };
    const lengths = scalingLengths(r);
    const rows: Record<string, number>[] = [];
    const notes: string[] = [];
    let params = 0;
    for (const [i, t] of lengths.entries()) {
      if (ctx.signal?.aborted) break;
      ctx.tick({ step: i, steps: lengths.length, note: `T=${t}` });
      let layer: { mixer: Mixer; params: number } | undefined;
      let u: Variable | undefined;
      try {
        layer = createLayer(name, options, r, t, ctx.seed);
        params = layer.params;
        u = tf.variable(tf.randomNormal([r.batch, t, r.dim], 0, 1, 'float32', ctx.seed));
        const row = {
          seqLen: t,
          forwardMs: await timeMs(layer.mixer, u, false, r),
          forwardBackwardMs: await timeMs(layer.mixer, u, true, r),
          forwardPeakBytes: await peakBytes(layer.mixer, u, false),
          forwardBackwardPeakBytes: await peakBytes(layer.mixer, u, true),
        };
        rows.push(row);
        if (row.forwardBackwardMs > r.timeBudgetMs || row.forwardBackwardPeakBytes > r.memoryBudgetBytes) {
          if (i < lengths.length - 1) notes.push(`stopped after T=${t}: over the ${row.forwardBackwardMs > r.timeBudgetMs ? 'time' : 'memory'} budget`);
          break;
        }
      } catch (error) {
        notes.push(`T=${t} failed: ${(error as Error).message.split('\n')[0]}`);
        break;
      } finally {
        layer?.mixer.dispose();
        u?.dispose();
      }
    }
    ctx.tick({ step: lengths.length, steps: lengths.length });
    const last = rows[rows.length - 1];
    const series = (key: string): [number, number][] => rows.map((row) => [row.seqLen, row[key]]);
    return {
      paramCount: params,
      metrics: last
        ? {
            maxSeqLen: last.seqLen,
            forwardMs: last.forwardMs,
            forwardBackwardMs: last.forwardBackwardMs,
            forwardPeakBytes: last.forwardPeakBytes,
            forwardBackwardPeakBytes: last.forwardBackwardPeakBytes,
          }
        : { maxSeqLen: 0 },
      series: {
        forwardMs: series('forwardMs'),
        forwardBackwardMs: series('forwardBackwardMs'),
        forwardPeakBytes: series('forwardPeakBytes'),
        forwardBackwardPeakBytes: series('forwardBackwardPeakBytes'),
      },
      rows,
      notes: notes.length ? notes : undefined,
    };
  },

  /** One row per mixer and sequence length; the notes of a run (where growth stopped) in rows of their own. */
  table(benchmark, results, metrics) {
    const cols = metrics.filter((m) => m.name !== 'maxSeqLen');
    const rows: string[][] = [];
    for (const r of [...results].sort(byModelOrder(benchmark))) {
      for (const row of r.rows ?? []) {
        rows.push([modelCell(r), r.layers, formatCount(r.paramCount), String(row.seqLen), ...cols.map((m) => formatMetric(m, row[m.name]))]);
      }
      for (const note of r.notes ?? []) rows.push([modelCell(r), r.layers, formatCount(r.paramCount), '-', ...cols.map((_, i) => (i === 0 ? note : ''))]);
    }
    return markdownTable(['mixer', 'layer', 'params', 'T', ...cols.map(metricLabel)], rows);
  },

  charts(results, { colour }) {
    const both = (a: string, b: string): ChartSeries[] =>
      results.flatMap((r) => [
        { name: `${r.model} fwd`, points: r.series[a] ?? [], colour: colour(r.model), dashed: true },
        { name: `${r.model} fwd+bwd`, points: r.series[b] ?? [], colour: colour(r.model) },
      ]);
    const axes = { xLabel: 'sequence length T', xScale: 'log', yScale: 'log' } as const;
    return [
      { name: 'time', title: 'time per mixer layer vs T', ...axes, yLabel: 'time (ms)', series: both('forwardMs', 'forwardBackwardMs') },
      {
        name: 'memory',
        title: 'peak memory per mixer layer vs T',
        ...axes,
        yLabel: 'peak memory',
        yUnit: 'bytes',
        series: both('forwardPeakBytes', 'forwardBackwardPeakBytes'),
      },
    ];
  },
};
