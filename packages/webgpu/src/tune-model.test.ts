import { isShiftmixError, selectBackend } from '@shiftmix/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webGpuDevice } from './backend.js';
import { chooseAttentionTiles, clearAttentionTuning } from './attention/index.js';
import { clearMatMulTuning, preferredTiles } from './matmul/index.js';
import { applyModelKernelTuning, attentionProblem, tuneModelKernels, type ModelKernelTuning } from './tune-model.js';

beforeAll(async () => {
  expect((await selectBackend('webgpu')).backend).toBe('webgpu');
});

afterEach(() => {
  clearMatMulTuning();
  clearAttentionTuning();
});

const hybrid = { layers: 'hsm-ab,softmax-attention(window=4)*2', dim: 16, heads: 2, contextLength: 24 };

describe('kernel tuning of a model', () => {
  it("finds the attention call of a training step, and none in a model without attention", () => {
    expect(attentionProblem(hybrid, 3)).toEqual({ headDim: 8, length: 24, heads: 6 });
    expect(attentionProblem({ ...hybrid, layers: 'hsm-ab*4' }, 3)).toBeUndefined();
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
    const withoutAttention = await tuneModelKernels({ ...hybrid, layers: 'hsm-ab' }, 1);
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
