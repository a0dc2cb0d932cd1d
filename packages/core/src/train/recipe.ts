import { ShiftmixError } from '../errors.js';
import { validateSchedule } from './schedule.js';

import type { TrainRecipe } from '../training-types.js';

export type { TrainRecipe };

/** nanoGPT's shakespeare-char recipe, minus the model shape. */
export const DEFAULT_RECIPE: TrainRecipe = {
  steps: 2000,
  batch: 64,
  lr: 1e-3,
  minLr: 1e-4,
  warmup: 100,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.99,
  eps: 1e-8,
  clip: 1.0,
  evalEvery: 250,
  evalBatches: 100,
  seed: 1337,
  evalSeed: 2024,
};

function positiveInt(value: number, name: string, fix: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new ShiftmixError(`recipe ${name} ${value} is not a positive integer`, fix, 'E_RECIPE');
  }
}

/** Fills in defaults and checks every field, naming the first bad one. */
export function resolveRecipe(partial: Partial<TrainRecipe> = {}): TrainRecipe {
  const known = new Set(Object.keys(DEFAULT_RECIPE));
  for (const key of Object.keys(partial)) {
    if (!known.has(key)) {
      throw new ShiftmixError(`unknown recipe field "${key}"`, `Use only ${[...known].join(', ')}`, 'E_RECIPE');
    }
  }
  const r: TrainRecipe = { ...DEFAULT_RECIPE };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) (r as unknown as Record<string, number>)[key] = value as number;
  }
  for (const [key, value] of Object.entries(r)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ShiftmixError(`recipe ${key} is ${String(value)}, not a finite number`, 'Give every recipe field as a number', 'E_RECIPE');
    }
  }
  positiveInt(r.batch, 'batch', 'Use e.g. batch 64');
  positiveInt(r.evalEvery, 'evalEvery', 'Use e.g. evalEvery 250');
  positiveInt(r.evalBatches, 'evalBatches', 'Use e.g. evalBatches 100');
  validateSchedule(r);
  if (r.clip < 0) throw new ShiftmixError(`recipe clip ${r.clip} is negative`, 'Use clip 1.0, or 0 to turn clipping off', 'E_RECIPE');
  if (!Number.isInteger(r.seed) || !Number.isInteger(r.evalSeed)) {
    throw new ShiftmixError('recipe seed and evalSeed must be integers', 'Use e.g. seed 1337', 'E_RECIPE');
  }
  return r;
}
