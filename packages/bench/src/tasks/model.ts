import { ShiftmixModel } from '@shiftmix/core';
import type { ModelDefinition } from '../suite/types.js';

export interface ModelShape {
  vocabSize: number;
  dim: number;
  heads: number;
  contextLength: number;
  dropout: number;
  seed: number;
}

/** Builds a suite model: the definition gives the layers and stack options, the recipe the shape. */
export function buildModel(def: ModelDefinition, shape: ModelShape): ShiftmixModel {
  return ShiftmixModel.create({
    ...shape,
    layers: def.layers,
    ffn: def.ffn,
    mixers: def.mixers,
    positional: def.positional,
    schedule: def.schedule,
  });
}
