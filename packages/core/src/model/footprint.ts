import { ShiftmixError } from '../errors.js';

/** What a model costs to train, known before a tensor is made. */
export interface TrainingFootprint {
  params: number;
  /** Weights, their gradients and AdamW's two moments: 16 bytes a parameter. */
  weightBytes: number;
  /** A lower bound on one step's activations kept for the backward pass. */
  activationBytes: number;
  bytes: number;
}

/** A block as the estimate sees it: its mixer's parameters and its FFN width. */
export interface FootprintBlock {
  mixerParams: number;
  ffnWidth: number;
}

const FLOAT = 4;

/**
 * Parameters and a lower bound on training memory. Per block and token the backward pass
 * keeps at least the block's input, both layer norms' outputs, the mixer's output and the
 * FFN's hidden activation before and after GELU (8 D + 2 F floats); the head keeps the logits
 * and their softmax (2 V). A model this needs more than the machine has cannot train, so
 * tools check it before building anything.
 */
export function trainingFootprint(
  shape: { dim: number; vocabSize: number; contextLength: number; learnedPositions: boolean },
  blocks: readonly FootprintBlock[],
  batch: number,
): TrainingFootprint {
  const { dim, vocabSize, contextLength } = shape;
  let params = vocabSize * dim + (shape.learnedPositions ? contextLength * dim : 0) + 2 * dim;
  for (const block of blocks) params += 4 * dim + block.mixerParams + 2 * dim * block.ffnWidth + block.ffnWidth + dim;
  const tokens = batch * contextLength;
  const perToken = blocks.reduce((sum, block) => sum + 8 * dim + 2 * block.ffnWidth, 0) + 2 * vocabSize;
  const weightBytes = 4 * FLOAT * params;
  const activationBytes = FLOAT * tokens * perToken;
  return { params, weightBytes, activationBytes, bytes: weightBytes + activationBytes };
}

function gigabytes(bytes: number): string {
  const gb = bytes / 2 ** 30;
  return gb >= 100 ? `${Math.round(gb).toLocaleString('en-US')} GiB` : `${gb.toPrecision(2)} GiB`;
}

/**
 * Throws a one-line error when training needs more than `availableBytes` (the machine's
 * memory, or a device's), naming what drives it and what to shrink.
 */
export function checkTrainingFits(footprint: TrainingFootprint, availableBytes: number, batch: number): void {
  if (footprint.bytes <= availableBytes) return;
  const weightsDominate = footprint.weightBytes >= footprint.activationBytes;
  const cause = weightsDominate
    ? `${footprint.params.toLocaleString('en-US')} parameters take ${gigabytes(footprint.weightBytes)} with their gradients and optimizer state`
    : `a batch of ${batch.toLocaleString('en-US')} sequences keeps ${gigabytes(footprint.activationBytes)} of activations`;
  throw new ShiftmixError(
    `training this model needs at least ${gigabytes(footprint.bytes)} (${cause}), more than the ${gigabytes(availableBytes)} available`,
    weightsDominate ? 'Use a smaller --dim, fewer layers or a narrower --ffn' : 'Use a smaller --batch or --ctx',
    'E_MEMORY',
  );
}
