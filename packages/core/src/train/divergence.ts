import { ShiftmixError } from '../errors.js';

/** How far above the loss a run started from a validation loss counts as diverged. */
export const DIVERGED_FACTOR = 2;

/**
 * Training stopped because it diverged: a loss or gradient that is not finite, a
 * validation loss far above where the run started, or weights that are not finite. The
 * last checkpoint saved before (if any) holds sane weights; `suggestedLr` is a peak
 * learning rate to resume it with.
 */
export class DivergedError extends ShiftmixError {
  constructor(
    problem: string,
    fix: string,
    code: string,
    readonly step: number,
    /** The recipe's peak learning rate. */
    readonly lr: number,
    readonly suggestedLr: number,
    /** The last good checkpoint and its step, when one was saved. */
    readonly checkpoint?: { dir: string; step: number },
  ) {
    super(problem, fix, code);
  }
}

export function isDivergedError(error: unknown): error is DivergedError {
  return error instanceof ShiftmixError && 'suggestedLr' in error && typeof error.suggestedLr === 'number';
}

/** A tenth of the peak, at most the default recipe's 1e-3, in two digits. */
export function lowerLr(lr: number): number {
  return Number(Math.min(lr / 10, 1e-3).toPrecision(2));
}

export function divergedError(
  step: number,
  reason: string,
  lr: number,
  checkpoint: { dir: string; step: number } | undefined,
  code = 'E_DIVERGED',
): DivergedError {
  const suggested = lowerLr(lr);
  const kept = checkpoint ? `; the last good checkpoint (${checkpoint.dir}, step ${checkpoint.step}) was kept` : '; no checkpoint had been saved';
  const fix = checkpoint
    ? `Resume it with a lower learning rate, e.g. resume(dir, { data, lr: ${suggested} }), keeping gradient clipping on (clip 1.0)`
    : `Train again with a lower learning rate, e.g. lr ${suggested}, keeping gradient clipping on (clip 1.0) or with a longer warm-up`;
  return new DivergedError(`training diverged at step ${step}: ${reason}${kept}`, fix, code, step, lr, suggested, checkpoint);
}

/** Why a step's loss or gradient norm stops the run, or undefined when both are finite. */
export function nonFiniteReason(loss: number, gradNorm: number): string | undefined {
  if (!Number.isFinite(loss)) return `the loss is ${loss}`;
  if (!Number.isFinite(gradNorm)) return `the gradient norm is ${gradNorm}`;
  return undefined;
}

/**
 * Tells a sane validation loss from a diverged one. The reference is the largest of the
 * loss of a uniform guess, ln(vocabulary) when the model's config names its vocabulary,
 * the first training loss this call saw, and the best validation loss: a loss more than
 * twice that is not noise, the weights have blown up.
 */
export class DivergenceWatch {
  private reference: number;
  private seenTrain = false;

  constructor(config: object, best: number) {
    const vocab = (config as { vocabSize?: unknown }).vocabSize;
    const uniform = typeof vocab === 'number' && vocab > 1 ? Math.log(vocab) : 0;
    this.reference = Math.max(uniform, Number.isFinite(best) ? best : 0);
  }

  /** Records a training loss; only the first one of a call moves the reference. */
  observeTrain(loss: number): void {
    if (!this.seenTrain && Number.isFinite(loss)) this.reference = Math.max(this.reference, loss);
    this.seenTrain = true;
  }

  /** Why `valLoss` means the run diverged, or undefined when it is sane. */
  check(valLoss: number): string | undefined {
    if (!Number.isFinite(valLoss)) return `the validation loss is ${valLoss}`;
    const limit = DIVERGED_FACTOR * this.reference;
    if (this.reference > 0 && valLoss > limit) {
      return `the validation loss is ${valLoss.toPrecision(3)}, more than ${DIVERGED_FACTOR} times ${this.reference.toPrecision(3)}, the loss the run started from`;
    }
    return undefined;
  }
}
