import type { Batch } from '../data/dataset.js';
import type { Rng } from '../rng.js';

/** What the trainer needs from a dataset; `TextDataset` and `TokenFileDataset` implement it. */
export interface TrainingData {
  /**
   * UTF-8 bytes of text per token, over the corpus (loadCorpus sets it; 1 for ASCII
   * characters). With it every loss is also given in bits per byte, which compares across
   * tokenizers: nats per token / ln 2 / bytesPerToken.
   */
  bytesPerToken?: number;
  sampleBatch(split: 'train' | 'val', batch: number, contextLength: number, rng: Rng): Batch;
  fixedBatches(split: 'train' | 'val', count: number, batch: number, contextLength: number, seed: number): Batch[];
}

/** Sent to `onProgress` after every step; `valLoss` is set on evaluation steps. */
export interface ProgressEvent {
  step: number;
  steps: number;
  trainLoss: number;
  valLoss?: number;
  bestValLoss?: number;
  /** The losses in bits per byte, where the data knows its bytes per token. */
  trainBpb?: number;
  valBpb?: number;
  bestValBpb?: number;
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
  /** Bits per byte, where the data knows its bytes per token (else absent). */
  trainBpb?: number;
  valBpb?: number | null;
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
  /** The losses in bits per byte, where the data knows its bytes per token. */
  trainBpb?: number;
  valBpb?: number;
  bestValBpb?: number;
  /** The data's UTF-8 bytes per token, when known. */
  bytesPerToken?: number;
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
  /**
   * How the last training step ran: replaying a recorded plan ('planned'), on WebGPU as its
   * recorded dispatches encoded again ('compiled'), or tfjs op by op ('eager': a batch
   * shape's first two steps, which are recorded, the plan option off, several workers, a
   * backend without the fused AdamW, or a step that cannot be planned; `stepNotes` says why).
   */
  stepKind: 'compiled' | 'planned' | 'eager';
  /** Why batch shapes took the eager step or were not compiled, once each. */
  stepNotes: string[];
  /** The run directory, when one was given. */
  outDir?: string;
}

export type { SerializableTokenizer, TrainableModel } from '../training-types.js';
