import type { Rng } from './rng.js';
import type { tf, Tensor, Tensor2D, Variable } from './tf.js';

// What training and checkpoints share: train/ saves and resumes through checkpoint/, and
// checkpoint/ stores what these types describe without importing train/.

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
  /** Checks run once before the first step; throws a ShiftmixError on a model that must not train. */
  preflight?(): void;
  dispose(): void;
}

/** A tokenizer as the checkpoint stores it (tokenizer.json holds `toJSON()`). */
export interface SerializableTokenizer {
  toJSON(): unknown;
}

/** How a model is trained; stored in every checkpoint so a resumed run trains the same way. */
export interface TrainRecipe {
  /** Total optimizer steps. */
  steps: number;
  /** Sequences per batch. */
  batch: number;
  lr: number;
  minLr: number;
  warmup: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Maximum global gradient norm; 0 turns clipping off. */
  clip: number;
  /** Evaluate (and save the last checkpoint) every this many steps, and at the end. */
  evalEvery: number;
  /** Number of fixed validation batches per evaluation. */
  evalBatches: number;
  /** Seed of the batch sampler. */
  seed: number;
  /** Seed of the fixed validation batches, shared by runs so their losses compare. */
  evalSeed: number;
}

/** Optimizer state as a checkpoint stores it: moments by weight name and the step count. */
export interface AdamWState {
  step: number;
  m: Map<string, Tensor>;
  v: Map<string, Tensor>;
}
