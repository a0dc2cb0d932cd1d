// Shared by the tests only; not part of the package's exports.
import { Rng, createWeightInit, tf, type MixerContext } from '@shiftmix/core';
import { softmaxAttentionSpec, type SoftmaxAttention, type SoftmaxAttentionConfig } from './index.js';

export function context(overrides: Partial<MixerContext> = {}): MixerContext {
  return {
    dim: 8,
    heads: 2,
    contextLength: 16,
    layerIndex: 0,
    numLayers: 2,
    shifts: [],
    dropout: 0,
    init: createWeightInit(new Rng(1), 2),
    rng: new Rng(2),
    ...overrides,
  };
}

/** A mixer with large random weights and biases, so attention is far from uniform. */
export function makeMixer(config: Partial<SoftmaxAttentionConfig>, ctx = context()): SoftmaxAttention {
  const mixer = softmaxAttentionSpec.create(ctx, softmaxAttentionSpec.validate(config, ctx)) as SoftmaxAttention;
  Object.values(mixer.weights).forEach((w, i) => w.assign(tf.randomNormal(w.shape, 0, 0.5, 'float32', 100 + i)));
  return mixer;
}
