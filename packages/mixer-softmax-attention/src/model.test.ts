import { ShiftmixModel, disposeModelState, selectBackend, tf, unregisterMixer, type Tensor1D, type Tensor2D } from '@shiftmix/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from './index.js';

// The mixer inside a whole stack: a GPT whose logits must be the same decoded token by token.
describe('softmax-attention in a Transformer stack', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
    register();
  });

  afterAll(() => {
    unregisterMixer('softmax-attention');
  });

  it.each([
    ['full', {}],
    ['rope + window 3', { rope: true, window: 3 }],
  ])('decodes the same logits as the forward pass (%s)', (_, options) => {
    const model = ShiftmixModel.create({
      vocabSize: 13,
      dim: 8,
      heads: 2,
      contextLength: 8,
      layers: 'softmax-attention*2',
      mixers: { 'softmax-attention': options },
      ffn: 16,
      dropout: 0.1,
      seed: 3,
    });
    expect(model.blocks.every((b) => b.mixerParams === 4 * 8 * 8 + 4 * 8)).toBe(true);
    expect(model.blocks[0].mixerConfig).toMatchObject({ attentionDropout: 0.1, ...options });
    const ids = [
      [1, 5, 2, 12, 0, 7, 7, 3],
      [4, 4, 9, 1, 11, 6, 2, 8],
    ];
    const logits = model.forward(tf.tensor2d(ids, [2, 8], 'int32'), { training: false });
    let state = model.initState(2);
    for (let t = 0; t < 8; t++) {
      const { logits: stepLogits, state: next } = model.step(tf.tensor1d([ids[0][t], ids[1][t]], 'int32') as Tensor1D, state);
      const expected = logits.slice([0, t, 0], [2, 1, 13]).reshape([2, 13]) as Tensor2D;
      expect(tf.max(tf.abs(tf.sub(stepLogits, expected))).dataSync()[0]).toBeLessThan(1e-4);
      disposeModelState(state, next);
      state = next;
    }
    model.dispose();
  });
});
