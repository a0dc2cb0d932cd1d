import type { ProviderChoice } from '../protocol.js';

/**
 * Messages between the Train page and its training worker. The page sends `train` for
 * one model at a time (a comparison queues several, one after another); the worker
 * answers `started` (the backend it chose and why), streams `progress` after every step,
 * and ends with `done` or `error`. `stop` ends the running training after its step;
 * `generate` samples from the last trained model. Every answer carries its request's id.
 */

/** A model to train: its layer pattern and size. */
export interface ModelChoice {
  /** Shown on the chart and in the table. */
  label: string;
  layers: string;
  dim: number;
  heads: number;
  contextLength: number;
}

/** How to train it; the same for every model of a comparison, seed included. */
export interface RecipeChoice {
  steps: number;
  batch: number;
  lr: number;
  evalEvery: number;
  evalBatches: number;
  seed: number;
}

export type TrainRequest =
  | { type: 'train'; id: number; model: ModelChoice; recipe: RecipeChoice; provider: ProviderChoice; text: string; textName: string }
  | { type: 'generate'; id: number; prompt: string; maxTokens: number; temperature: number; topK: number; seed: number }
  | { type: 'stop'; id: number };

export interface TrainStarted {
  backend: string;
  /** Why the backend is not the one asked for (or not WebGPU under auto); null when nothing to say. */
  note: string | null;
  params: number;
  vocabSize: number;
  trainTokens: number;
}

/** One step's numbers; `valLoss` on evaluation steps. */
export interface TrainPoint {
  step: number;
  seconds: number;
  trainLoss: number;
  valLoss?: number;
  tokensPerSecond: number;
}

export interface TrainResult {
  steps: number;
  trainLoss: number;
  valLoss: number;
  bestValLoss: number;
  seconds: number;
  tokensPerSecond: number;
  /** How the last step ran: 'compiled' (WebGPU, recorded dispatches), 'planned' or 'eager'. */
  stepKind: string;
  stopped: boolean;
}

export type TrainResponse =
  | { type: 'started'; id: number; info: TrainStarted }
  | { type: 'progress'; id: number; point: TrainPoint }
  | { type: 'done'; id: number; result: TrainResult }
  | { type: 'text'; id: number; text: string }
  | { type: 'error'; id: number; code: string; problem: string; fix: string };
