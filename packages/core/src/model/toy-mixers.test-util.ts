import { afterAll, beforeAll } from 'vitest';
import type { MixerContext, MixerSpec, MixerState } from '../contract.js';
import { registerMixer, unregisterMixer } from '../registry.js';
import { channelGroups } from '../schedule.js';
import { shiftTime } from '../layers.js';
import { tf, type Tensor2D, type Tensor3D } from '../tf.js';

/**
 * Small mixers for the stack's tests, written independently of the mixer packages:
 * `toy-shift` is a shift-based (a, b) mixer with a ring buffer; `toy-mean` is not
 * shift-based (causal running mean and a projection, with a running sum as state).
 */
export const toyShift: MixerSpec<Record<string, never>> = {
  specificationVersion: 1,
  name: 'toy-shift',
  description: 'test mixer: a * u + b * S(u)',
  shiftBased: true,
  defaults: {},
  validate: () => ({}),
  paramCount: (ctx) => 2 * ctx.dim,
  create(ctx: MixerContext) {
    const a = tf.tidy(() => tf.variable(tf.add(ctx.init.ones([ctx.dim]), ctx.init.normal([ctx.dim], 0.3))));
    const b = tf.tidy(() => tf.variable(tf.add(ctx.init.ones([ctx.dim]), ctx.init.normal([ctx.dim], 0.3))));
    const groups = channelGroups(ctx.dim, ctx.shifts.length);
    const maxShift = Math.max(...ctx.shifts);
    return {
      weights: { a, b },
      forward(u: Tensor3D) {
        return tf.tidy(() => {
          const parts = groups.map(({ start, size }, g) => shiftTime(u.slice([0, 0, start], [-1, -1, size]) as Tensor3D, ctx.shifts[g]));
          return tf.add(tf.mul(u, a), tf.mul(tf.concat(parts, 2), b)) as Tensor3D;
        });
      },
      initState(batch: number): MixerState {
        // buffer[:, j] holds the input of position (position - maxShift + j).
        return { position: 0, tensors: { buffer: tf.zeros([batch, maxShift, ctx.dim]) } };
      },
      step(u: Tensor2D, state: MixerState) {
        const buffer = state.tensors.buffer as Tensor3D;
        const y = tf.tidy(() => {
          const parts = groups.map(({ start, size }, g) => buffer.slice([0, maxShift - ctx.shifts[g], start], [-1, 1, size]).reshape([-1, size]));
          return tf.add(tf.mul(u, a), tf.mul(tf.concat(parts, 1), b)) as Tensor2D;
        });
        const next = tf.tidy(() => tf.concat([buffer.slice([0, 1, 0], [-1, -1, -1]), u.expandDims(1)], 1));
        return { y, state: { position: state.position + 1, tensors: { buffer: next } } };
      },
      dispose() {
        a.dispose();
        b.dispose();
      },
    };
  },
};

export const toyMean: MixerSpec<{ scale: number }> = {
  specificationVersion: 1,
  name: 'toy-mean',
  description: 'test mixer: causal running mean, then a projection',
  shiftBased: false,
  defaults: { scale: 1 },
  validate: (config) => ({ scale: 1, ...(config as object) }),
  paramCount: (ctx) => ctx.dim * ctx.dim,
  create(ctx: MixerContext, config) {
    const w = tf.tidy(() => tf.variable(ctx.init.normal([ctx.dim, ctx.dim], 0.3)));
    const project = (x: tf.Tensor2D): Tensor2D => tf.mul(tf.matMul(x, w), config.scale);
    return {
      weights: { w },
      forward(u: Tensor3D) {
        return tf.tidy(() => {
          const [b, t, d] = u.shape;
          // averaging[t, s] = 1 / (t + 1) for s <= t (tf.cumsum's gradient on axis 1 has the wrong shape in tfjs 4.22)
          const averaging = tf.div(tf.linalg.bandPart(tf.ones([t, t]), -1, 0), tf.range(1, t + 1).reshape([t, 1])) as Tensor2D;
          const timeMajor = u.transpose([1, 0, 2]).reshape([t, b * d]) as Tensor2D;
          const mean = tf
            .matMul(averaging, timeMajor)
            .reshape([t, b, d])
            .transpose([1, 0, 2])
            .reshape([b * t, d]) as Tensor2D;
          return project(mean).reshape([b, t, d]) as Tensor3D;
        });
      },
      initState(batch: number): MixerState {
        return { position: 0, tensors: { sum: tf.zeros([batch, ctx.dim]) } };
      },
      step(u: Tensor2D, state: MixerState) {
        const sum = tf.add(state.tensors.sum, u) as Tensor2D;
        const y = tf.tidy(() => project(tf.div(sum, state.position + 1)));
        return { y, state: { position: state.position + 1, tensors: { sum } } };
      },
      dispose() {
        w.dispose();
      },
    };
  },
};

/** Registers toy-shift and toy-mean for a test file's tests, and removes them after. */
export function useToyMixers(): void {
  beforeAll(() => {
    registerMixer(toyShift);
    registerMixer(toyMean as MixerSpec);
  });
  afterAll(() => {
    unregisterMixer(toyShift.name);
    unregisterMixer(toyMean.name);
  });
}
