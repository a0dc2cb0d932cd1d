import { DEFAULT_RECIPE } from '@shiftmix/core';
import type { TaskName } from './types.js';

// lm-char trains with core's defaults (nanoGPT's shakespeare-char), for its own steps.
const { batch, lr, minLr, warmup, weightDecay, beta1, beta2, clip, evalEvery, evalBatches } = DEFAULT_RECIPE;

/** How a recipe field is checked. */
export type FieldKind =
  'positiveInt' | 'nonNegativeInt' | 'positive' | 'nonNegative' | 'fraction' | 'positiveIntList' | 'positiveOrList' | 'mqarSettings' | 'layerPatterns';

/** Recipe fields of each task, with their kinds. */
export const RECIPE_FIELDS: Record<TaskName, Record<string, FieldKind>> = {
  'lm-char': {
    dim: 'positiveInt',
    heads: 'positiveInt',
    contextLength: 'positiveInt',
    batch: 'positiveInt',
    dropout: 'fraction',
    steps: 'positiveInt',
    lr: 'positive',
    minLr: 'nonNegative',
    warmup: 'nonNegativeInt',
    weightDecay: 'nonNegative',
    beta1: 'fraction',
    beta2: 'fraction',
    clip: 'nonNegative',
    evalEvery: 'positiveInt',
    evalBatches: 'positiveInt',
    layers: 'layerPatterns',
  },
  mqar: {
    vocabSize: 'positiveInt',
    settings: 'mqarSettings',
    dims: 'positiveIntList',
    heads: 'positiveInt',
    trainExamples: 'positiveInt',
    testExamples: 'positiveInt',
    epochs: 'positiveInt',
    batch: 'positiveInt',
    lr: 'positiveOrList',
    warmup: 'nonNegativeInt',
    weightDecay: 'nonNegative',
    dropout: 'fraction',
    powerA: 'positive',
  },
  scaling: {
    dim: 'positiveInt',
    heads: 'positiveInt',
    batch: 'positiveInt',
    minSeqLen: 'positiveInt',
    maxSeqLen: 'positiveInt',
    timeBudgetMs: 'positive',
    memoryBudgetBytes: 'positive',
    scheduleLayers: 'positiveInt',
    warmup: 'nonNegativeInt',
    repeats: 'positiveInt',
  },
  decode: {
    dim: 'positiveInt',
    heads: 'positiveInt',
    contextLength: 'positiveInt',
    vocabSize: 'positiveInt',
    batch: 'positiveInt',
    bucket: 'positiveInt',
  },
};

/**
 * Defaults of each task's recipe: the standard (GPU) recipe. lm-char's is nanoGPT's
 * shakespeare-char; mqar's follows Zoology's synthetic at V = 8192.
 */
export const RECIPE_DEFAULTS: Record<TaskName, Record<string, unknown>> = {
  'lm-char': {
    dim: 384,
    heads: 6,
    contextLength: 256,
    dropout: 0.2,
    steps: 5000,
    batch,
    lr,
    minLr,
    warmup,
    weightDecay,
    beta1,
    beta2,
    clip,
    evalEvery,
    evalBatches,
  },
  mqar: {
    vocabSize: 8192,
    settings: [
      { seqLen: 64, pairs: 4 },
      { seqLen: 128, pairs: 8 },
      { seqLen: 256, pairs: 16 },
    ],
    dims: [64, 128, 256],
    heads: 1,
    trainExamples: 100_000,
    testExamples: 3_000,
    epochs: 16,
    batch: 64,
    lr: [1e-3, 3e-3],
    warmup: 100,
    weightDecay: 0.1,
    dropout: 0,
    powerA: 0.01,
  },
  scaling: {
    dim: 384,
    heads: 6,
    batch: 1,
    minSeqLen: 256,
    maxSeqLen: 32768,
    timeBudgetMs: 10_000,
    memoryBudgetBytes: 16 * 2 ** 30,
    scheduleLayers: 6,
    warmup: 1,
    repeats: 3,
  },
  decode: {
    dim: 384,
    heads: 6,
    contextLength: 1024,
    vocabSize: 65,
    batch: 1,
    bucket: 64,
  },
};

/** Metrics each task reports, in the default table order. */
export const TASK_METRICS: Record<TaskName, readonly string[]> = {
  'lm-char': ['bestValLoss', 'finalValLoss', 'tokensPerSecond', 'msPerStep', 'seconds'],
  mqar: ['accuracy', 'finalLoss', 'seconds'],
  scaling: ['maxSeqLen', 'forwardMs', 'forwardBackwardMs', 'forwardPeakBytes', 'forwardBackwardPeakBytes'],
  decode: ['msPerToken', 'firstMsPerToken', 'lastMsPerToken', 'stateBytes'],
};
