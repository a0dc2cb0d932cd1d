import { ShiftmixModel, selectBackend } from '@shiftmix/core';
import { register as registerFusion } from '@shiftmix/mixer-learned-fusion';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureParity, scrambleWeights } from './test-helpers.js';

// Context 9 over two shift layers gives the radix schedule r = 3: two channel groups per
// layer with shifts [1, 2] and [3, 6], so group slicing and rings of several rows are exercised.
const small = { vocabSize: 13, dim: 10, heads: 2, contextLength: 9, seed: 9, ffn: 24 };

beforeAll(async () => {
  await selectBackend('cpu');
  registerFusion();
});

describe('learned-fusion in ONNX', () => {
  for (const mode of ['gate', 'linear'] as const) {
    it(`matches tfjs in the full graph and decodes with its rings (${mode})`, async () => {
      const model = ShiftmixModel.create({ ...small, layers: 'learned-fusion*2', mixers: { 'learned-fusion': { mode } } });
      try {
        expect(model.blocks.map((b) => b.shifts)).toEqual([[1, 2], [3, 6]]);
        scrambleWeights(model, 21);
        const parity = await measureParity(model, { batch: 2, lengths: [4, 9] });
        for (const diff of parity.full) expect(diff).toBeLessThan(1e-4);
        expect(parity.decode).toBeLessThan(1e-4);
        const rings = parity.exported.manifest.state.filter((s) => s.layer === 1);
        expect(rings.map((s) => [s.tensor, s.shape])).toEqual(
          (mode === 'gate' ? ['ring_u', 'ring_v'] : ['ring_u']).map((name) => [name, ['batch', 6, 10]]),
        );
      } finally {
        model.dispose();
      }
    });
  }
});
