import { parseLayerPattern, ShiftmixError } from '@shiftmix/core';
import { applyAttentionTuning, tuneAttentionTiles, type AttentionTuningResult, type TuneAttentionOptions } from './attention/tune.js';
import { applyMatMulTuning, tuneMatMulTiles, type MatMulTuningResult } from './matmul/tune.js';

/** What a model's training shape needs to know of its kernels' tuning. */
export interface TunedModel {
  /** Layer pattern, e.g. "hsm-ab*2,softmax-attention". */
  layers: string;
  dim: number;
  heads: number;
  contextLength: number;
}

/** Both tunings of a model: plain JSON, for applyModelKernelTuning in a later run. */
export interface ModelKernelTuning {
  matmul: MatMulTuningResult;
  /** Present when the model has softmax-attention layers. */
  attention?: AttentionTuningResult;
}

/** The fused attention call of one training step of `model` at `batch`, if a layer is softmax attention. */
export function attentionProblem(model: TunedModel, batch: number): TuneAttentionOptions | undefined {
  if (!parseLayerPattern(model.layers, { checkRegistry: false }).includes('softmax-attention')) return undefined;
  return { headDim: model.dim / model.heads, length: model.contextLength, heads: batch * model.heads };
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
