import { ShiftmixError } from '../errors.js';
import { Rng } from '../rng.js';
import { tf, type Tensor2D } from '../tf.js';

// What every dataset of token windows shares, wherever its tokens live (an array, a file):
// batches are random windows of a split drawn with the trainer's Rng, targets the window
// shifted by one, and a fixed evaluation set from a seed. A subclass says how long a split
// is and how to read a window of it.

export type Split = 'train' | 'val';

/** Inputs and next-token targets, int32 [B, T]: y[b, t] = x[b, t + 1] in the text. */
export interface Batch {
  x: Tensor2D;
  y: Tensor2D;
}

/** The same windows as plain arrays, row-major [B * T]. */
export interface BatchArrays {
  x: Int32Array;
  y: Int32Array;
  batch: number;
  context: number;
}

export abstract class WindowDataset {
  /** UTF-8 bytes of text per token (see TrainingData): set by loadCorpus, or by the user. */
  bytesPerToken?: number;

  /** Tokens in split `name`. */
  protected abstract splitLength(name: Split): number;
  /** Tokens [start, start + out.length) of split `name` into `out`. */
  protected abstract readWindow(name: Split, start: number, out: Int32Array): void;
  /** The error for a split too short for `context` (the fix depends on where the tokens come from). */
  protected abstract tooShort(name: Split, context: number, length: number): ShiftmixError;
  /** Throws when the dataset can no longer be read (a closed file). */
  protected checkOpen(): void {}

  /** `batch` random windows of `context` tokens and their targets, drawn with `rng`. */
  sampleArrays(name: Split, batch: number, context: number, rng: Rng): BatchArrays {
    const length = this.checked(name, batch, context);
    const x = new Int32Array(batch * context);
    const y = new Int32Array(batch * context);
    const window = new Int32Array(context + 1);
    for (let b = 0; b < batch; b++) {
      // start + context + 1 <= length, so the target of the last input exists.
      const start = rng.int(length - context);
      this.readWindow(name, start, window);
      x.set(window.subarray(0, context), b * context);
      y.set(window.subarray(1), b * context);
    }
    return { x, y, batch, context };
  }

  /** Like sampleArrays, as int32 tensors [B, T]; the caller disposes them. */
  sampleBatch(name: Split, batch: number, context: number, rng: Rng): Batch {
    const a = this.sampleArrays(name, batch, context, rng);
    return { x: tf.tensor2d(a.x, [batch, context], 'int32'), y: tf.tensor2d(a.y, [batch, context], 'int32') };
  }

  /** `count` batches that depend only on `seed`: a fixed evaluation set. The caller disposes them. */
  fixedBatches(name: Split, count: number, batch: number, context: number, seed: number): Batch[] {
    if (!Number.isInteger(count) || count < 1) {
      throw new ShiftmixError(`fixedBatches needs a count >= 1, got ${count}`, 'Ask for at least one batch', 'E_DATA');
    }
    this.checked(name, batch, context);
    const rng = new Rng(seed);
    return Array.from({ length: count }, () => this.sampleBatch(name, batch, context, rng));
  }

  /** Tokens in split `name`. */
  size(name: Split): number {
    this.checkOpen();
    if (name !== 'train' && name !== 'val') {
      throw new ShiftmixError(`unknown split ${JSON.stringify(name)}`, 'Use "train" or "val"', 'E_DATA');
    }
    return this.splitLength(name);
  }

  /** `count` tokens of split `name` from `start` on (fewer at its end). */
  read(name: Split, start: number, count: number): Int32Array {
    const length = this.size(name);
    const out = new Int32Array(Math.max(0, Math.min(count, length - start)));
    if (out.length > 0) this.readWindow(name, start, out);
    return out;
  }

  /** The split's length, once the split, batch and context are known good. */
  private checked(name: Split, batch: number, context: number): number {
    const length = this.size(name);
    if (!Number.isInteger(batch) || batch < 1) {
      throw new ShiftmixError(`batch size ${batch} is not a whole number >= 1`, 'Use a batch size such as 64', 'E_DATA');
    }
    if (!Number.isInteger(context) || context < 1) {
      throw new ShiftmixError(`context ${context} is not a whole number >= 1`, 'Use a context such as 256', 'E_DATA');
    }
    if (context >= length) throw this.tooShort(name, context, length);
    return length;
  }
}
