import { ShiftmixError } from '../errors.js';

/** The learning-rate part of a recipe. */
export interface LrSchedule {
  /** Peak learning rate, reached at the end of warm-up. */
  lr: number;
  /** Floor of the cosine decay, reached at the last step. */
  minLr: number;
  /** Warm-up length in steps. */
  warmup: number;
  /** Total number of optimizer steps. */
  steps: number;
}

/**
 * Learning rate for optimizer step `step` (1-based, as the step counter of AdamW):
 * linear warm-up from lr / warmup to lr over the first `warmup` steps, then cosine
 * decay from lr down to minLr at step `steps`. Steps past the end stay at minLr, so a
 * run extended on resume does not read a rising cosine.
 */
export function learningRate(step: number, s: LrSchedule): number {
  if (step <= s.warmup) return (s.lr * step) / Math.max(1, s.warmup);
  const span = s.steps - s.warmup;
  if (span <= 0 || step >= s.steps) return s.minLr;
  const progress = (step - s.warmup) / span; // in (0, 1)
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (s.lr - s.minLr);
}

export function validateSchedule(s: LrSchedule): void {
  const bad = (what: string, fix: string) => new ShiftmixError(what, fix, 'E_RECIPE');
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) throw bad(`learning rate ${s.lr} is not a positive number`, 'Use e.g. lr 1e-3');
  if (!(s.minLr >= 0) || s.minLr > s.lr) {
    throw bad(`minLr ${s.minLr} is outside [0, lr = ${s.lr}]`, 'Use a floor between 0 and the peak lr, e.g. lr / 10');
  }
  if (!Number.isInteger(s.warmup) || s.warmup < 0) throw bad(`warmup ${s.warmup} is not a non-negative integer`, 'Give the warm-up length in steps');
  if (!Number.isInteger(s.steps) || s.steps < 1) throw bad(`steps ${s.steps} is not a positive integer`, 'Give the number of training steps');
}
