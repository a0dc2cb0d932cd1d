import { ShiftmixError } from '@shiftmix/core';
import { ATTENTION, PACKED_ATTENTION } from '@shiftmix/core/kernels';
import { applyAttentionTuning, tuneAttentionTiles, type AttentionTuningResult, type TuneAttentionOptions } from './attention/tune.js';
import { applyMatMulTuning, tuneMatMulTiles, type MatMulTuningResult } from './matmul/tune.js';

/**
 * What tuning reads of a built model (a ShiftmixModel is one): its shape, and the fused
 * kernels each block's mixer spec says it runs, so a plugin's attention mixer that runs
 * core's attention kernels is tuned as the shipped one is.
 */
export interface TunedModel {
  config: { dim: number; heads: number; contextLength: number };
  blocks: readonly { spec: { kernels?: readonly string[] } }[];
}

const ATTENTION_KERNELS = [ATTENTION.name, PACKED_ATTENTION.name];

/** Both tunings of a model: plain JSON, for applyModelKernelTuning in a later run. */
export interface ModelKernelTuning {
  matmul: MatMulTuningResult;
  /** Present when the model has softmax-attention layers. */
  attention?: AttentionTuningResult;
}

/** The fused attention call of one training step of `model` at `batch`, if a block runs fused attention. */
export function attentionProblem(model: TunedModel, batch: number): TuneAttentionOptions | undefined {
  const attends = model.blocks.some((b) => b.spec.kernels?.some((k) => ATTENTION_KERNELS.includes(k)));
  if (!attends) return undefined;
  const { dim, heads, contextLength } = model.config;
  return { headDim: dim / heads, length: contextLength, heads: batch * heads };
}

/** Tunes the matmul's tiles and, for a model with attention, its attention blocks at the training shape. */
export async function tuneModelKernels(model: TunedModel, batch: number): Promise<ModelKernelTuning> {
  const matmul = await tuneMatMulTiles();
  const problem = attentionProblem(model, batch);
  return { matmul, attention: problem ? await tuneAttentionTiles(problem) : undefined };
}

/** Applies a saved tuneModelKernels result; refused (nothing applied) when either part is. */
export function applyModelKernelTuning(saved: ModelKernelTuning): void {
  if (!saved?.matmul) {
    throw new ShiftmixError('the kernel tuning holds no matmul tuning', 'Run tuneModelKernels again and save what it returns', 'E_INPUT');
  }
  applyMatMulTuning(saved.matmul);
  if (saved.attention) applyAttentionTuning(saved.attention);
}
