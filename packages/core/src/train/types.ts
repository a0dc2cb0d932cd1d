import type { Batch } from '../data/dataset.js';
import type { Rng } from '../rng.js';
import type { tf, Tensor2D, Variable } from '../tf.js';

/**
 * What the trainer needs from a model. `ShiftmixModel` implements it; so can any model
 * a user brings, as long as its config is plain JSON that `createModel` can rebuild.
 */
export interface TrainableModel {
  /** Plain JSON; stored in config.json. `contextLength` sets the training sequence length. */
  readonly config: { contextLength: number };
  /** Draws the dropout seeds; its state goes into the checkpoint. */
  readonly rng: Rng;
  /** Trainable weights by stable name (the checkpoint keys). */
  weights(): Map<string, Variable>;
  /** Mean cross-entropy of predicting `targets` from `tokens`, both [B, T] int32. */
  loss(tokens: Tensor2D, targets: Tensor2D, opts: { training: boolean }): tf.Scalar;
  dispose(): void;
}

/** What the trainer needs from a dataset; `TextDataset` implements it. */
export interface TrainingData {
  sampleBatch(split: 'train' | 'val', batch: number, contextLength: number, rng: Rng): Batch;
  fixedBatches(split: 'train' | 'val', count: number, batch: number, contextLength: number, seed: number): Batch[];
}

/** A tokenizer as the checkpoint stores it (tokenizer.json holds `toJSON()`). */
export interface SerializableTokenizer {
  toJSON(): unknown;
}

/** Sent to `onProgress` after every step; `valLoss` is set on evaluation steps. */
export interface ProgressEvent {
  step: number;
  steps: number;
  trainLoss: number;
  valLoss?: number;
  bestValLoss?: number;
  lr: number;
  gradNorm: number;
  /** Training throughput over the last (up to) 10 steps. */
  tokensPerSecond: number;
  /** Seconds of training so far, summed over resumed sessions. */
  elapsed: number;
}

/** One line of metrics.jsonl. */
export interface MetricsRecord {
  step: number;
  trainLoss: number;
  valLoss: number | null;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsed: number;
}

export interface TrainSummary {
  params: number;
  steps: number;
  trainLoss: number;
  valLoss: number;
  bestValLoss: number;
  /** Training tokens per second of this call, evaluation and saving excluded. */
  tokensPerSecond: number;
  /** Wall-clock seconds of this call (training, evaluation and saving). */
  seconds: number;
  backend: string;
  /** True when `signal` stopped the run before `steps`. */
  stopped: boolean;
  /** True when each step was queued on the device before the previous one was read back. */
  pipelined: boolean;
  /** Threads that shared each step (the workers option). */
  workers: number;
  /** The run directory, when one was given. */
  outDir?: string;
}
