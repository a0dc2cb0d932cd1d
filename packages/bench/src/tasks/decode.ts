import { Rng, disposeModelState, tf, type ModelState } from '@shiftmix/core';
import { buildModel, planPerModel } from './model.js';
import type { RunOutcome, RunPlan, Task, TaskContext } from './types.js';

/** Recipe of decode: token-by-token generation through model.step. */
export interface DecodeRecipe {
  dim: number;
  heads: number;
  contextLength: number;
  vocabSize: number;
  batch: number;
  /** Positions are grouped into buckets of this many tokens for the chart and table. */
  bucket: number;
}

const now = () => performance.now();
// Steps decoded (and thrown away) first, so kernel compilation and warm-up stay out of the timings.
const WARMUP_STEPS = 8;

function stateBytes(state: ModelState): number {
  let bytes = 0;
  for (const m of state.mixers) for (const t of Object.values(m.tensors)) bytes += t.size * 4;
  return bytes;
}

/**
 * Decodes `contextLength` tokens one at a time through model.step on random weights and
 * tokens, and records the latency of every step and the size of the decoding state.
 * Positions are grouped into buckets of `bucket` tokens; each bucket reports its median
 * latency (robust to a stray garbage-collection pause) and the state size at its end;
 * msPerToken is the median over all positions.
 */
export const decodeTask: Task<DecodeRecipe> = {
  name: 'decode',

  recipe: {
    fields: {
      dim: 'positiveInt',
      heads: 'positiveInt',
      contextLength: 'positiveInt',
      vocabSize: 'positiveInt',
      batch: 'positiveInt',
      bucket: 'positiveInt',
    },
    defaults: { dim: 384, heads: 6, contextLength: 1024, vocabSize: 65, batch: 1, bucket: 64 },
  },

  metrics: [
    { name: 'msPerToken', label: 'ms/token', format: 'ms' },
    { name: 'firstMsPerToken', label: 'ms/token (first)', format: 'ms' },
    { name: 'lastMsPerToken', label: 'ms/token (last)', format: 'ms' },
    { name: 'stateBytes', label: 'state', format: 'bytes' },
  ],

  plan: (benchmark, r) => planPerModel(benchmark, 'decode', r, r.contextLength * r.dim),

  async run(plan: RunPlan, ctx: TaskContext): Promise<RunOutcome> {
    const r = plan.recipe as DecodeRecipe;
    const model = buildModel(plan.definition, {
      vocabSize: r.vocabSize,
      dim: r.dim,
      heads: r.heads,
      contextLength: r.contextLength,
      dropout: 0,
      seed: ctx.seed,
    });
    const rng = new Rng(ctx.seed);
    const token = () =>
      tf.tensor1d(
        Array.from({ length: r.batch }, () => rng.int(r.vocabSize)),
        'int32',
      );
    const decode = async (steps: number, onStep?: (position: number, ms: number, state: ModelState) => void) => {
      let state = model.initState(r.batch);
      try {
        for (let p = 0; p < steps; p++) {
          if (ctx.signal?.aborted) break;
          const input = token();
          const t0 = now();
          const out = model.step(input, state);
          await out.logits.data();
          const ms = now() - t0;
          disposeModelState(state, out.state);
          tf.dispose([input, out.logits]);
          state = out.state;
          onStep?.(p, ms, state);
        }
      } finally {
        disposeModelState(state);
      }
    };
    try {
      await decode(Math.min(WARMUP_STEPS, r.contextLength));
      const latencies: number[] = [];
      const bytesAt: number[] = [];
      await decode(r.contextLength, (p, ms, state) => {
        latencies.push(ms);
        bytesAt.push(stateBytes(state));
        if ((p + 1) % r.bucket === 0 || p + 1 === r.contextLength) ctx.tick({ step: p + 1, steps: r.contextLength });
      });
      const rows: Record<string, number>[] = [];
      for (let start = 0; start < latencies.length; start += r.bucket) {
        const slice = latencies.slice(start, start + r.bucket).sort((a, b) => a - b);
        const end = Math.min(start + r.bucket, latencies.length);
        rows.push({ position: end, msPerToken: slice[Math.floor(slice.length / 2)], stateBytes: bytesAt[end - 1] });
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        paramCount: model.paramCount(),
        metrics: {
          msPerToken: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
          firstMsPerToken: rows[0]?.msPerToken ?? Number.NaN,
          lastMsPerToken: rows[rows.length - 1]?.msPerToken ?? Number.NaN,
          stateBytes: bytesAt[bytesAt.length - 1] ?? 0,
        },
        series: {
          msPerTokenByPosition: rows.map((row) => [row.position, row.msPerToken]),
          stateBytesByPosition: rows.map((row) => [row.position, row.stateBytes]),
        },
        rows,
      };
    } finally {
      model.dispose();
    }
  },

  charts: (_results, { seriesOf }) => [
    {
      name: 'latency',
      title: 'per-token latency vs position',
      xLabel: 'position',
      yLabel: 'ms per token (median per bucket)',
      series: seriesOf('msPerTokenByPosition'),
    },
    {
      name: 'state',
      title: 'decoding state memory vs position',
      xLabel: 'position',
      yLabel: 'state size',
      yUnit: 'bytes',
      series: seriesOf('stateBytesByPosition'),
    },
  ],
};
