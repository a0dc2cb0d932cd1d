import { isShiftmixError } from '@shiftmix/core/text';

/**
 * Messages between the page and a model worker. The page sends `load` once per model,
 * then `generate` (or `stop`); the worker answers `loaded`, streams `token`s and ends
 * each request with `done` or `error`. Every answer carries the `id` of its request.
 */

/** Where a model comes from: a folder on the server, or files the user picked. */
export type ModelSource = { kind: 'url'; base: string } | { kind: 'files'; files: File[] };

export type ProviderChoice = 'auto' | 'webgpu' | 'wasm';
export type Provider = 'webgpu' | 'wasm';

export interface SamplingRequest {
  /** Divides the logits; 0 picks the most likely token. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 keeps all. */
  topK: number;
  seed: number;
}

export type WorkerRequest =
  | { type: 'load'; id: number; source: ModelSource; provider: ProviderChoice }
  | ({ type: 'generate'; id: number; prompt: string; maxTokens: number; timings?: boolean } & SamplingRequest)
  | { type: 'stop'; id: number };

export interface ModelInfo {
  name: string;
  layers: string;
  vocabSize: number;
  dim: number;
  contextLength: number;
  /** Longest sequence the graphs accept; null for shift-only stacks (unbounded). */
  maxSequenceLength: number | null;
  stateTensors: number;
  provider: Provider;
  /** Why the wasm provider runs although WebGPU was wanted; null when nothing fell back. */
  fallbackReason: string | null;
  /** The WebGPU adapter found ("google swiftshader"), or null. */
  adapter: string | null;
  /** The adapter runs on the CPU (SwiftShader, llvmpipe, ...): `auto` passed over it for wasm. */
  adapterSoftware: boolean;
  /** The provider the page asked for. */
  choice: ProviderChoice;
  loadMs: number;
  warmupMs: number;
}

export interface GenerationStats {
  promptTokens: number;
  generatedTokens: number;
  prefillMs: number;
  decodeMs: number;
  /** Generated tokens per second of decoding (prefill excluded). */
  tokensPerSecond: number;
  /** Times the context was full and the model restarted on the recent text. */
  restarts: number;
  /** Milliseconds of each decode.onnx step by position (only when `timings` was asked for). */
  stepMs?: number[];
  /** Bytes of the carried state after each step, by position (with `timings`). */
  stateBytes?: number[];
}

export type WorkerResponse =
  | { type: 'loaded'; id: number; info: ModelInfo }
  | { type: 'token'; id: number; text: string; position: number; tokensPerSecond: number }
  | { type: 'done'; id: number; text: string; stats: GenerationStats; stopped: boolean }
  | { type: 'error'; id: number; code: string; problem: string; fix: string };

/** An error the page shows as it is: what went wrong and what to do about it. */
export class DemoError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string,
    readonly code: string,
  ) {
    super(fix ? `${problem}. ${fix}` : problem);
    this.name = 'DemoError';
  }
}

export function errorResponse(id: number, error: unknown): WorkerResponse {
  // The demo's own errors and core's (the tokenizer, sampling) say what is wrong and what to do.
  if (error instanceof DemoError || isShiftmixError(error)) return { type: 'error', id, code: error.code, problem: error.problem, fix: error.fix };
  const message = error instanceof Error ? error.message : String(error);
  return { type: 'error', id, code: 'E_INTERNAL', problem: message, fix: 'Reload the page; if it happens again, report it with the model you used' };
}
