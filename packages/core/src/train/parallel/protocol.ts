import type { ModelConfig } from '../../model/config.js';
import type { TrainRecipe } from '../recipe.js';

/**
 * The messages between a ParallelStepper and its workers. Tokens travel in messages;
 * weights, moments and gradients through shared memory, in the order of model.weights():
 * one gradient slot per participant (slot 0 is the main thread's) in each of two phases,
 * and the weights and AdamW moments the main thread shares once, so that every replica
 * starts from its state. Steps alternate phases: a replica still combining the slots of
 * one step must not see them overwritten by the next.
 */
export interface SharedBuffers {
  weights: SharedArrayBuffer;
  m: SharedArrayBuffer;
  v: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

export interface InitMessage {
  type: 'init';
  config: ModelConfig;
  recipe: TrainRecipe;
  /** Modules that register the model's mixers (package names or file URLs). */
  modules: string[];
  backend: 'wasm' | 'cpu';
  buffers: SharedBuffers;
  slot: number;
  /** BLAS threads each participant may use (the cores divided between them). */
  blasThreads: number;
}

export interface StepMessage {
  type: 'step';
  /** This participant's rows of the batch: tokens and targets, [rows, T] row-major. */
  x: Int32Array;
  y: Int32Array;
  rows: number;
  phase: 0 | 1;
  /** The model rng's state for this shard's dropout seeds. */
  rngState: number;
  /** Set when the replica must first take the shared weights and moments (the first step). */
  sync?: { optimizerStep: number };
}

/** Every slot is written: combine them with these weights and apply the update of `step`. */
export interface ApplyMessage {
  type: 'apply';
  phase: 0 | 1;
  weights: number[];
  loss: number;
  step: number;
}

export type ToWorker = InitMessage | StepMessage | ApplyMessage | { type: 'share' } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; size: number }
  /** Mean loss over the shard's `count` scored targets; its gradient is in the worker's slot. */
  | { type: 'grads'; loss: number; count: number }
  /** The replica's weights are in the shared weight buffer (for checks). */
  | { type: 'shared' }
  | { type: 'error'; message: string; fix?: string; code?: string };
