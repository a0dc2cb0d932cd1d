import { ShiftmixError } from '../errors.js';
import { WindowDataset, type Split } from './windows.js';

export type { Batch, BatchArrays, Split } from './windows.js';

export interface TextDatasetOptions {
  /** Fraction of the tokens, taken from the end, held out for validation (default 0.1). */
  valFraction?: number;
}

/**
 * A token stream split into train (the first 1 - valFraction) and validation (the rest),
 * as nanoGPT splits Tiny Shakespeare, from which batches are drawn as random windows.
 */
export class TextDataset extends WindowDataset {
  readonly train: Int32Array;
  readonly val: Int32Array;

  constructor(ids: Int32Array, options: TextDatasetOptions = {}) {
    super();
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

  protected splitLength(name: Split): number {
    return this.split(name).length;
  }

  protected readWindow(name: Split, start: number, out: Int32Array): void {
    out.set(this.split(name).subarray(start, start + out.length));
  }

  protected tooShort(name: Split, context: number, length: number): ShiftmixError {
    return new ShiftmixError(
      `a context of ${context} tokens needs at least ${context + 1} tokens in the ${name} split, which has ${length}`,
      name === 'val' ? 'Use a shorter context, more text, or a larger valFraction' : 'Use a shorter context or more text',
      'E_DATA',
    );
  }
}
