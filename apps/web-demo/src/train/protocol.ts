import type { ProviderChoice } from '../protocol.js';

/**
 * Messages between the Train page and its training worker. The page sends `train` for
 * one model at a time (a comparison queues several, one after another); the worker
 * answers `started` (the backend it chose and why), streams `progress` after every step,
 * sends the run's last checkpoint (`checkpoint`, the CLI's files) and ends with `done` or
 * `error`. `stop` ends the running training after its step; `open` loads a checkpoint's
 * files (answer `opened`), which `generate`, `logits` and a `train` of the checkpoint
 * then use; `generate` samples from the last model trained or opened, `logits` gives its
 * logits for a prompt. Every answer carries its request's id.
 */

/** A model to train: its layer pattern and size. */
export interface ModelChoice {
  /** Shown on the chart and in the table. */
  label: string;
  layers: string;
  dim: number;
  heads: number;
  contextLength: number;
  /** Train on from the opened checkpoint (its model, weights and tokenizer; the sizes above are not used). */
  fromCheckpoint?: boolean;
}

/** How to train it; the same for every model of a comparison, seed included. */
export interface RecipeChoice {
  steps: number;
  batch: number;
  lr: number;
  evalEvery: number;
  evalBatches: number;
  seed: number;
  /** Characters of the text, or GPT-2's BPE (the same tokens as `shiftmix train --tokenizer gpt2`). */
  tokenizer: 'char' | 'gpt2';
}

export type TrainRequest =
  | { type: 'train'; id: number; model: ModelChoice; recipe: RecipeChoice; provider: ProviderChoice; text: string; textName: string }
  | { type: 'generate'; id: number; prompt: string; maxTokens: number; temperature: number; topK: number; seed: number }
  | { type: 'open'; id: number; name: string; files: Record<string, Uint8Array>; provider: ProviderChoice }
  | { type: 'logits'; id: number; prompt: string }
  | { type: 'export'; id: number }
  /** A stopped run goes on from its last checkpoint (the files the page was sent), on the same text. */
  | { type: 'continue'; id: number; name: string; params: number; files: Record<string, Uint8Array>; provider: ProviderChoice; text: string }
  | { type: 'stop'; id: number };

/** A checkpoint the worker opened. */
export interface OpenedInfo {
  name: string;
  layers: string;
  dim: number;
  heads: number;
  contextLength: number;
  vocabSize: number;
  params: number;
  /** Training steps it was saved after. */
  step: number;
  /** Whether it holds the optimizer moments (a run's last/), not weights only (best/). */
  resumable: boolean;
  backend: string;
  note: string | null;
}

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
  /** The run's last checkpoint, file name to bytes, as `shiftmix train` writes last/. */
  | { type: 'checkpoint'; id: number; step: number; files: Record<string, Uint8Array> }
  | { type: 'opened'; id: number; info: OpenedInfo }
  /** One row of logits per prompt token, from the last model trained or opened. */
  | { type: 'logits'; id: number; logits: number[][] }
  /** `shiftmix export`'s files (model.json, decode.onnx, model.onnx) of the last model trained or opened. */
  | { type: 'exported'; id: number; name: string; files: Record<string, Uint8Array> }
  | { type: 'error'; id: number; code: string; problem: string; fix: string };
