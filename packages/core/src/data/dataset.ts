import { ShiftmixError } from '../errors.js';
import { Rng } from '../rng.js';
import { tf, type Tensor2D } from '../tf.js';

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

export interface TextDatasetOptions {
  /** Fraction of the tokens, taken from the end, held out for validation (default 0.1). */
  valFraction?: number;
}

/**
 * A token stream split into train (the first 1 - valFraction) and validation (the rest),
 * as nanoGPT splits Tiny Shakespeare, from which batches are drawn as random windows.
 */
export class TextDataset {
  readonly train: Int32Array;
  readonly val: Int32Array;

  constructor(ids: Int32Array, options: TextDatasetOptions = {}) {
    const valFraction = options.valFraction ?? 0.1;
    if (!(ids instanceof Int32Array) || ids.length === 0) {
      throw new ShiftmixError('the dataset has no tokens', 'Pass the encoded text as an Int32Array (tokenizer.encode(text))', 'E_DATA');
    }
    if (typeof valFraction !== 'number' || !(valFraction >= 0 && valFraction < 1)) {
      throw new ShiftmixError(`valFraction ${JSON.stringify(valFraction)} is outside [0, 1)`, 'Use a fraction such as 0.1', 'E_DATA');
    }
    const trainSize = Math.floor(ids.length * (1 - valFraction));
    this.train = ids.subarray(0, trainSize);
    this.val = ids.subarray(trainSize);
  }

  split(name: Split): Int32Array {
    if (name === 'train') return this.train;
    if (name === 'val') return this.val;
    throw new ShiftmixError(`unknown split ${JSON.stringify(name)}`, 'Use "train" or "val"', 'E_DATA');
  }

  /** `batch` random windows of `context` tokens and their targets, drawn with `rng`. */
  sampleArrays(name: Split, batch: number, context: number, rng: Rng): BatchArrays {
    const data = this.checked(name, batch, context);
    const x = new Int32Array(batch * context);
    const y = new Int32Array(batch * context);
    for (let b = 0; b < batch; b++) {
      // start + context + 1 <= length, so the target of the last input exists.
      const start = rng.int(data.length - context);
      x.set(data.subarray(start, start + context), b * context);
      y.set(data.subarray(start + 1, start + context + 1), b * context);
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

  private checked(name: Split, batch: number, context: number): Int32Array {
    const data = this.split(name);
    if (!Number.isInteger(batch) || batch < 1) {
      throw new ShiftmixError(`batch size ${batch} is not a whole number >= 1`, 'Use a batch size such as 64', 'E_DATA');
    }
    if (!Number.isInteger(context) || context < 1) {
      throw new ShiftmixError(`context ${context} is not a whole number >= 1`, 'Use a context such as 256', 'E_DATA');
    }
    if (context >= data.length) {
      throw new ShiftmixError(
        `a context of ${context} tokens needs at least ${context + 1} tokens in the ${name} split, which has ${data.length}`,
        name === 'val' ? 'Use a shorter context, more text, or a larger valFraction' : 'Use a shorter context or more text',
        'E_DATA',
      );
    }
    return data;
  }
}
