import type { ModelConfig } from '../../model/config.js';

/**
 * The messages between a ParallelStepper and its workers. Tokens travel in messages;
 * weights and gradients through shared memory: one weight buffer the main thread writes
 * after each update, and one gradient slot per participant (slot 0 is the main thread's).
 */
export interface InitMessage {
  type: 'init';
  config: ModelConfig;
  /** Modules that register the model's mixers (package names or file URLs). */
  modules: string[];
  backend: 'wasm' | 'cpu';
  /** Flat float32 weights in the order of model.weights(). */
  weights: SharedArrayBuffer;
  /** One flat gradient per participant, same order. */
  grads: SharedArrayBuffer;
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
  /** Copy the shared weights into the replica first (they changed since its last step). */
  syncWeights: boolean;
  /** The model rng's state for this shard's dropout seeds. */
  rngState: number;
}

export type ToWorker = InitMessage | StepMessage | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; size: number }
  /** Mean loss over the shard's `count` scored targets; its gradient is in the worker's slot. */
  | { type: 'grads'; loss: number; count: number }
  | { type: 'error'; message: string; fix?: string; code?: string };
