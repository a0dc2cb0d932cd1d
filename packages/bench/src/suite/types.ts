import type { TrainRecipe } from '@shiftmix/core';

/** The tasks a benchmark can name. */
export type TaskName = 'lm-char' | 'mqar' | 'scaling' | 'decode';
export const TASK_NAMES: readonly TaskName[] = ['lm-char', 'mqar', 'scaling', 'decode'];

/**
 * A model under test: a layer pattern resolved through the mixer registry, plus the
 * stack options that differ between models. Everything else (width, heads, context)
 * comes from the benchmark's recipe, so the models of one benchmark share it.
 */
export interface ModelDefinition {
  /** Layer pattern, e.g. "hsm-ab*4,softmax-attention,hsm-ab". */
  layers: string;
  /** Feed-forward width: "match" (each block gets the parameters of a GPT block, as core's ModelConfig says) or an explicit hidden size. */
  ffn?: 'match' | number;
  /** Options for each mixer, by mixer name: { "softmax-attention": { "window": 64 } }. */
  mixers?: Record<string, Record<string, unknown>>;
  /** Positional embedding: "auto" (default), "learned" or "none". */
  positional?: 'auto' | 'learned' | 'none';
  /** Shift schedule: "radix" (default), "doubling" or explicit shift lists. */
  schedule?: 'radix' | 'doubling' | number[][];
  description?: string;
}

/** One (sequence length, kv pairs) setting of the MQAR task. */
export interface MqarSetting {
  seqLen: number;
  pairs: number;
}

/** Recipe of lm-char: nanoGPT's shakespeare-char under the standard preset; its training fields are core's. */
export interface LmCharRecipe extends Pick<
  TrainRecipe,
  'batch' | 'steps' | 'lr' | 'minLr' | 'warmup' | 'weightDecay' | 'beta1' | 'beta2' | 'clip' | 'evalEvery' | 'evalBatches'
> {
  /** Model width D. */
  dim: number;
  heads: number;
  contextLength: number;
  dropout: number;
  /**
   * Layer patterns that replace the models' own under this preset, by model name (e.g. a
   * four-layer CPU preset of six-layer models); models not named keep theirs.
   */
  layers?: Record<string, string>;
}

/** Recipe of mqar, after Zoology's synthetic. */
export interface MqarRecipe {
  vocabSize: number;
  settings: MqarSetting[];
  /** Model widths to sweep; accuracy is reported per width. */
  dims: number[];
  heads: number;
  trainExamples: number;
  testExamples: number;
  epochs: number;
  batch: number;
  /** One rate, or several: the table then reports the best accuracy over them (as Zoology does). */
  lr: number | number[];
  warmup: number;
  weightDecay: number;
  dropout: number;
  /** Exponent a of the power law p(gap = g) ~ a * g^(a - 1) over query gaps. */
  powerA: number;
}

/** Recipe of scaling: one mixer layer timed as the sequence grows. */
export interface ScalingRecipe {
  dim: number;
  heads: number;
  batch: number;
  /** First sequence length; each next one doubles it. */
  minSeqLen: number;
  maxSeqLen: number;
  /** Stop growing T for a mixer once one forward+backward takes longer than this. */
  timeBudgetMs: number;
  /** Stop growing T once peak memory of forward+backward passes this. */
  memoryBudgetBytes: number;
  /** Shift-based layers of the notional stack the layer's shifts come from. */
  scheduleLayers: number;
  /** Untimed passes before the timed ones. */
  warmup: number;
  repeats: number;
}

/** Recipe of decode: token-by-token generation through model.step. */
export interface DecodeRecipe {
  dim: number;
  heads: number;
  contextLength: number;
  vocabSize: number;
  batch: number;
  /** Positions are grouped into buckets of this many tokens for the chart and table. */
  bucket: number;
}

export type RecipeOf<T extends TaskName> = T extends 'lm-char'
  ? LmCharRecipe
  : T extends 'mqar'
    ? MqarRecipe
    : T extends 'scaling'
      ? ScalingRecipe
      : DecodeRecipe;

export type AnyRecipe = LmCharRecipe | MqarRecipe | ScalingRecipe | DecodeRecipe;

export interface Benchmark {
  name: string;
  task: TaskName;
  description?: string;
  /** lm-char: the text file, relative to the suite file (default: the embedded Tiny Shakespeare). */
  data?: string;
  models: Record<string, ModelDefinition>;
  /** The recipe under each preset; missing fields come from the task's defaults. */
  presets: Record<string, Partial<AnyRecipe>>;
  /** Metrics shown in the table, in order; default: all of the task's. */
  metrics?: string[];
}

export interface Suite {
  name: string;
  description?: string;
  /** Seed of weights and data order, the same for every model of a benchmark. */
  seed: number;
  benchmarks: Benchmark[];
  /** The file the suite was read from, when it came from one. */
  source?: string;
}
