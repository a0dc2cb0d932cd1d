import { ShiftmixModel, hasMixer, isShiftmixError } from '@shiftmix/core';
import { ATTENTION, HSM_AB, PACKED_ATTENTION } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { register as registerAttention } from '@shiftmix/mixer-softmax-attention';
import { afterEach, describe, expect, it } from 'vitest';
import { webGpuDevice } from './backend.js';
import { chooseAttentionTiles, clearAttentionTuning } from './attention/index.js';
import { clearMatMulTuning, preferredTiles } from './matmul/index.js';
import { applyModelKernelTuning, attentionProblem, tuneModelKernels, type ModelKernelTuning } from './tune-model.js';

useBackend('webgpu');

afterEach(() => {
  clearMatMulTuning();
  clearAttentionTuning();
});

// What tuning reads of a model: its shape and the kernels each block's spec declares.
const config = { dim: 16, heads: 2, contextLength: 24 };
const block = (...kernels: string[]) => ({ spec: { kernels } });
const hybrid = { config, blocks: [block(HSM_AB.name), block(PACKED_ATTENTION.name), block(PACKED_ATTENTION.name)] };
const shiftsOnly = { config, blocks: [block(HSM_AB.name), { spec: {} }] };

describe('kernel tuning of a model', () => {
  it('finds the attention call of a training step from what the blocks declare, and none without attention', () => {
    expect(attentionProblem(hybrid, 3)).toEqual({ headDim: 8, length: 24, heads: 6 });
    expect(attentionProblem(shiftsOnly, 3)).toBeUndefined();
    // A plugin's attention mixer that runs core's attention kernel is tuned too.
    expect(attentionProblem({ config, blocks: [block(ATTENTION.name)] }, 1)).toEqual({ headDim: 8, length: 24, heads: 2 });
  });

  it('reads a built model: the shipped attention mixer declares its kernels', () => {
    if (!hasMixer('hsm-ab')) registerHsmAb();
    if (!hasMixer('softmax-attention')) registerAttention();
    const model = ShiftmixModel.create({ vocabSize: 11, layers: 'hsm-ab*2,softmax-attention(window=4)', ...config });
    expect(attentionProblem(model, 2)).toEqual({ headDim: 8, length: 24, heads: 4 });
    model.dispose();
  });

  it('tunes the matmul and the attention at that shape, and a saved result applies again', async () => {
    const device = webGpuDevice()!;
    const tuning: ModelKernelTuning = JSON.parse(JSON.stringify(await tuneModelKernels(hybrid, 1)));
    expect(tuning.attention).toMatchObject({ headDim: 8, length: 24, heads: 2 });
    clearMatMulTuning();
    clearAttentionTuning();
    applyModelKernelTuning(tuning);
    expect(preferredTiles(device)).toEqual(tuning.matmul.timings.map((t) => t.tile));
    expect(chooseAttentionTiles(8, device.limits, device)).toEqual(tuning.attention!.tiles);
    const withoutAttention = await tuneModelKernels(shiftsOnly, 1);
    expect(withoutAttention.attention).toBeUndefined();
  });

  it('refuses a saved tuning without its matmul part', () => {
    let caught: unknown;
    try {
      applyModelKernelTuning({} as ModelKernelTuning);
    } catch (error) {
      caught = error;
    }
    expect(isShiftmixError(caught) && /holds no matmul tuning/.test((caught as Error).message)).toBe(true);
  });
});
