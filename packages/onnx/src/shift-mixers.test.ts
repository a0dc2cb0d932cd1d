import { ShiftmixModel, selectBackend } from '@shiftmix/core';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { register as registerFusion } from '@shiftmix/mixer-learned-fusion';
import { register as registerAttention } from '@shiftmix/mixer-softmax-attention';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureParity, scrambleWeights } from './test-helpers.js';

// Context 9 over two shift layers gives the radix schedule r = 3: two channel groups per
// layer with shifts [1, 2] and [3, 6], so group slicing and rings of several rows are exercised.
const small = { vocabSize: 13, dim: 10, heads: 2, contextLength: 9, seed: 9, ffn: 24 };

beforeAll(async () => {
  await selectBackend('cpu');
  registerHsmAb();
  registerFusion();
  registerAttention();
});

describe('hsm-ab in ONNX', () => {
  for (const projections of [false, true]) {
    it(`matches tfjs in the full graph and decodes with its ring (projections: ${projections})`, async () => {
      const model = ShiftmixModel.create({ ...small, layers: 'hsm-ab*2', mixers: { 'hsm-ab': { projections } } });
      try {
        expect(model.blocks.map((b) => b.shifts)).toEqual([
          [1, 2],
          [3, 6],
        ]);
        scrambleWeights(model, 17);
        const parity = await measureParity(model, { batch: 2, lengths: [2, 9] });
        for (const diff of parity.full) expect(diff).toBeLessThan(1e-4);
        expect(parity.decode).toBeLessThan(1e-4);
        expect(parity.exported.manifest.state.map((s) => [s.name, s.shape])).toEqual([
          ['blocks.0.ring', ['batch', 2, 10]],
          ['blocks.1.ring', ['batch', 6, 10]],
        ]);
      } finally {
        model.dispose();
      }
    });
  }
});

describe('a hybrid stack in ONNX', () => {
  it('matches tfjs with hsm-ab, windowed RoPE attention and learned fusion together', async () => {
    const model = ShiftmixModel.create({
      ...small,
      dim: 12, // RoPE needs an even head dimension
      layers: 'hsm-ab,softmax-attention,learned-fusion',
      mixers: { 'softmax-attention': { rope: true, window: 4 } },
    });
    try {
      expect(model.positional).toBe('learned');
      scrambleWeights(model, 29);
      const parity = await measureParity(model, { batch: 3, lengths: [6, 9] });
      for (const diff of parity.full) expect(diff).toBeLessThan(1e-4);
      expect(parity.decode).toBeLessThan(1e-4);
      expect(parity.exported.manifest.state.map((s) => s.name)).toEqual(['blocks.0.ring', 'blocks.1.k', 'blocks.1.v', 'blocks.2.ring_u', 'blocks.2.ring_v']);
    } finally {
      model.dispose();
    }
  });
});

describe('learned-fusion in ONNX', () => {
  for (const mode of ['gate', 'linear'] as const) {
    it(`matches tfjs in the full graph and decodes with its rings (${mode})`, async () => {
      const model = ShiftmixModel.create({ ...small, layers: 'learned-fusion*2', mixers: { 'learned-fusion': { mode } } });
      try {
        expect(model.blocks.map((b) => b.shifts)).toEqual([
          [1, 2],
          [3, 6],
        ]);
        scrambleWeights(model, 21);
        const parity = await measureParity(model, { batch: 2, lengths: [4, 9] });
        for (const diff of parity.full) expect(diff).toBeLessThan(1e-4);
        expect(parity.decode).toBeLessThan(1e-4);
        const rings = parity.exported.manifest.state.filter((s) => s.layer === 1);
        expect(rings.map((s) => [s.tensor, s.shape])).toEqual((mode === 'gate' ? ['ring_u', 'ring_v'] : ['ring_u']).map((name) => [name, ['batch', 6, 10]]));
      } finally {
        model.dispose();
      }
    });
  }
});
