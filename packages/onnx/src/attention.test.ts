import { ShiftmixModel, selectBackend } from '@shiftmix/core';
import { register as registerAttention } from '@shiftmix/mixer-softmax-attention';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureParity, scrambleWeights } from './test-helpers.js';

const small = { vocabSize: 13, dim: 16, heads: 2, contextLength: 8, seed: 5, ffn: 32 };

beforeAll(async () => {
  await selectBackend('cpu');
  registerAttention();
});

describe('softmax-attention in ONNX', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['full causal', {}],
    ['rope and window', { rope: true, window: 3 }],
  ];
  for (const [label, options] of cases) {
    it(`matches tfjs in the full graph and decodes with a KV cache (${label})`, async () => {
      const model = ShiftmixModel.create({ ...small, layers: 'softmax-attention*2', mixers: { 'softmax-attention': options } });
      try {
        scrambleWeights(model, 11);
        const parity = await measureParity(model, { batch: 2, lengths: [4, 8] });
        for (const diff of parity.full) expect(diff).toBeLessThan(1e-4);
        expect(parity.decode).toBeLessThan(1e-4);
        const k = parity.exported.manifest.state.find((s) => s.name === 'blocks.0.k')!;
        expect(k.shape).toEqual(['batch', 2, 'blocks.0.k.length', 8]);
        expect(k.initialShape).toEqual([1, 2, 0, 8]);
      } finally {
        model.dispose();
      }
    });
  }
});
