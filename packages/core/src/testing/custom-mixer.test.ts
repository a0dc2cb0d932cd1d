import { afterAll, describe, expect, it } from 'vitest';
import type { MixerContext, MixerSpec, MixerState } from '../contract.js';
import { ShiftmixError } from '../errors.js';
import { linear } from '../layers.js';
import { getMixer, registerMixer, unregisterMixer } from '../registry.js';
import { tf, type Tensor2D, type Tensor3D } from '../tf.js';
import { describeMixerConformance, runMixerConformance } from './index.js';

interface CausalMeanConfig {
  gain: number;
}

/**
 * What a plugin author writes: y_t = (mean of u_0..u_t) W. Not shift-based, so one layer
 * must reach every earlier position; decoding keeps a running sum, O(D) per token.
 */
const causalMeanSpec: MixerSpec<CausalMeanConfig> = {
  specificationVersion: 1,
  name: 'causal-mean',
  description: 'Running mean of the inputs, then a linear map',
  shiftBased: false,
  defaults: { gain: 1 },
  validate(config: unknown): CausalMeanConfig {
    const c = { gain: 1, ...(config as object) } as CausalMeanConfig;
    if (typeof c.gain !== 'number') throw new ShiftmixError('causal-mean option "gain" must be a number', 'Pass e.g. {"gain": 2}');
    return c;
  },
  paramCount: (ctx: MixerContext) => ctx.dim * ctx.dim,
  create(ctx: MixerContext, config: CausalMeanConfig) {
    const init = ctx.init.outputProjection([ctx.dim, ctx.dim]);
    const w = tf.variable(init);
    init.dispose();
    return {
      weights: { w },
      forward: (u: Tensor3D) =>
        tf.tidy(() => {
          // averages[t, s] = 1 / (t + 1) for s <= t. (tf.cumsum along time would be shorter,
          // but its gradient is wrong for a non-last axis in tfjs 4.22; this kit catches that.)
          const t = u.shape[1];
          const averages = tf.div(tf.linalg.bandPart(tf.ones([t, t]), -1, 0), tf.range(1, t + 1).reshape([t, 1]));
          const mean = tf.matMul(tf.tile(averages.expandDims(0), [u.shape[0], 1, 1]) as tf.Tensor3D, u);
          return linear(mean, tf.mul(w, config.gain)) as Tensor3D;
        }),
      initState: (batch: number): MixerState => ({ position: 0, tensors: { sum: tf.zeros([batch, ctx.dim]) } }),
      step(u: Tensor2D, state: MixerState) {
        const sum = tf.add(state.tensors.sum, u) as Tensor2D;
        const y = tf.tidy(() => tf.matMul(tf.div(sum, state.position + 1), tf.mul(w, config.gain))) as Tensor2D;
        return { y, state: { position: state.position + 1, tensors: { sum } } };
      },
      dispose: () => w.dispose(),
    };
  },
};

registerMixer(causalMeanSpec, { source: './custom-mixer.test.ts' });
afterAll(() => {
  unregisterMixer('causal-mean');
});

describeMixerConformance(getMixer('causal-mean'));
describeMixerConformance(getMixer('causal-mean'), { config: { gain: 3 }, dim: 6, contextLength: 5, batch: 1 });

describe('runMixerConformance on a registered plugin', () => {
  it('reports every check as passed', async () => {
    const report = await runMixerConformance(getMixer('causal-mean'));
    expect(report.mixer).toBe('causal-mean');
    expect(report.backend).toBe('cpu');
    expect(report.checks.map((c) => c.name)).toEqual(['shapes', 'causality', 'receptive-field', 'decode', 'gradients', 'checkpoint']);
    expect(report.checks.filter((c) => !c.passed)).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it('turns a bad config into a failed check instead of a crash', async () => {
    const report = await runMixerConformance(getMixer('causal-mean'), { config: { gain: 'loud' }, checks: ['shapes'] });
    expect(report.passed).toBe(false);
    expect(report.checks[0].message).toMatch(/ShiftmixError: causal-mean option "gain" must be a number/);
  });
});

describe('describeMixerConformance outside a vitest run', () => {
  it('says where to call it instead of failing inside vitest', () => {
    const saved = process.env.VITEST;
    delete process.env.VITEST;
    try {
      expect(() => describeMixerConformance(getMixer('causal-mean'))).toThrow(/called outside a vitest run\. Call it from a \*\.test\.ts file/);
    } finally {
      process.env.VITEST = saved;
    }
  });
});
