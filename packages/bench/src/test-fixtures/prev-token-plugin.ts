import { MIXER_SPECIFICATION_VERSION, shiftTime, tf, type MixerContext, type MixerSpec, type MixerState, type Tensor2D, type Tensor3D } from '@shiftmix/core';

/**
 * A plugin as a user writes one, loaded by the runner tests through `plugins`:
 * y_t = a * u_t + b * u_{t-1}, with its own fixed shift of one (not shift-based).
 */
export const prevTokenSpec: MixerSpec<Record<string, never>> = {
  specificationVersion: MIXER_SPECIFICATION_VERSION,
  name: 'bench-prev-token',
  description: 'a * u_t + b * u_(t-1), a plugin for the benchmark runner tests',
  shiftBased: false,
  defaults: {},
  validate: () => ({}),
  paramCount: (ctx: MixerContext) => 2 * ctx.dim,
  create(ctx: MixerContext) {
    const a = tf.variable(ctx.init.ones([ctx.dim]));
    const b = tf.variable(ctx.init.ones([ctx.dim]));
    return {
      weights: { a, b },
      forward: (u: Tensor3D) => tf.tidy(() => tf.add(tf.mul(u, a), tf.mul(shiftTime(u, 1), b)) as Tensor3D),
      initState: (batch: number): MixerState => ({ position: 0, tensors: { last: tf.zeros([batch, ctx.dim]) } }),
      step(u: Tensor2D, state: MixerState) {
        const y = tf.tidy(() => tf.add(tf.mul(u, a), tf.mul(state.tensors.last, b)) as Tensor2D);
        return { y, state: { position: state.position + 1, tensors: { last: tf.clone(u) } } };
      },
      dispose: () => tf.dispose([a, b]),
    };
  },
};
