import { ShiftmixModel } from '@shiftmix/core';
import { STACK_OPTIONS } from '@shiftmix/core/tooling';
import type { Benchmark, ModelDefinition } from '../suite/types.js';
import type { RunPlan } from './types.js';

export interface ModelShape {
  vocabSize: number;
  dim: number;
  heads: number;
  contextLength: number;
  dropout: number;
  seed: number;
}

/** Builds a suite model: the definition gives the stack options, the recipe the shape. */
export function buildModel(def: ModelDefinition, shape: ModelShape): ShiftmixModel {
  const stack = Object.fromEntries(STACK_OPTIONS.map((key) => [key, def[key]]));
  return ShiftmixModel.create({ ...shape, ...stack });
}

/**
 * The plan of a task that sweeps nothing: one run per model, "BENCHMARK--MODEL", with the
 * same recipe and cost; `definitionOf` may change a model's definition (lm-char's preset layers).
 */
export function planPerModel(
  benchmark: Benchmark,
  task: string,
  recipe: object,
  cost: number,
  definitionOf = (_model: string, definition: ModelDefinition) => definition,
): RunPlan[] {
  return Object.entries(benchmark.models).map(([model, definition]) => ({
    id: `${benchmark.name}--${model}`,
    benchmark: benchmark.name,
    task,
    model,
    definition: definitionOf(model, definition),
    setting: {},
    recipe,
    cost,
  }));
}
