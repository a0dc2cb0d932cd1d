import { createShiftRing, readShiftRing, registerMixer, tf, writeShiftRing, type MixerSpec, type Tensor1D, type Tensor2D, type Tensor3D } from '@shiftmix/core';
import { hsmAbMix } from '@shiftmix/core/kernels';

/**
 * A shift mixer a * u + b * S(u) written against core's ops only (the mixer packages are
 * not this package's dependencies): core dispatches hsmAbMix to the fused kernel on webgpu
 * and to the composite path on cpu, which is what the model-level tests compare. (a, b)
 * start near 1 with noise, so every channel's gradient differs.
 */
export function abTestMixer(name: string): MixerSpec<Record<string, never>> {
  return {
    specificationVersion: 1,
    name,
    description: 'test mixer: a * u + b * S(u) through hsmAbMix',
    shiftBased: true,
    defaults: {},
    validate: () => ({}),
    paramCount: (ctx) => 2 * ctx.dim,
    create(ctx) {
      const a = tf.variable(tf.tidy(() => tf.add(1, ctx.init.normal([ctx.dim], 0.3))));
      const b = tf.variable(tf.tidy(() => tf.add(1, ctx.init.normal([ctx.dim], 0.3))));
      return {
        weights: { a, b },
        forward: (u: Tensor3D) => hsmAbMix(u, a as Tensor1D, b as Tensor1D, ctx.shifts),
        initState: (batch) => ({ position: 0, tensors: { ring: createShiftRing(batch, ctx.dim, ctx.shifts) } }),
        step(u: Tensor2D, state) {
          const ring = state.tensors.ring as Tensor3D;
          const y = tf.tidy(() => tf.add(tf.mul(u, a), tf.mul(readShiftRing(ring, ctx.shifts), b)) as Tensor2D);
          return { y, state: { position: state.position + 1, tensors: { ring: writeShiftRing(ring, u) } } };
        },
        dispose: () => tf.dispose([a, b]),
      };
    },
  };
}

/** Registers abTestMixer(name) and returns the name, for a layer pattern. */
export function registerAbTestMixer(name: string): string {
  registerMixer(abTestMixer(name));
  return name;
}
