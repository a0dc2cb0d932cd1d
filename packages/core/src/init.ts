import type { WeightInit } from './contract.js';
import type { Rng } from './rng.js';
import { tf, type Tensor } from './tf.js';

/**
 * GPT-2 style initialization: weights N(0, 0.02), biases 0, projections
 * into the residual stream N(0, 0.02 / sqrt(2L)). Seeds come from `rng` so the same model
 * seed gives the same weights on every backend.
 */
export function createWeightInit(rng: Rng, numLayers: number): WeightInit {
  const std = 0.02;
  const normal = (shape: number[], s = std): Tensor => tf.randomNormal(shape, 0, s, 'float32', rng.seed());
  return {
    normal,
    outputProjection: (shape) => normal(shape, std / Math.sqrt(2 * numLayers)),
    zeros: (shape) => tf.zeros(shape),
    ones: (shape) => tf.ones(shape),
  };
}
