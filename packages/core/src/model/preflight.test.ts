import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import type { MixerSpec } from '../contract.js';
import { isShiftmixError } from '../errors.js';
import { registerMixer, unregisterMixer } from '../registry.js';
import { tf, type Tensor2D, type Tensor3D } from '../tf.js';
import { ShiftmixModel } from './model.js';
import { toyMean, toyShift } from './toy-mixers.test-util.js';

/** toy-mean with one defect in forward: `peek` also adds the next token, `wide` doubles the width, `nan` returns NaN. */
function defective(name: string, defect: 'peek' | 'wide' | 'nan'): MixerSpec<{ scale: number }> {
  return {
    ...toyMean,
    name,
    create(ctx, config) {
      const mixer = toyMean.create(ctx, config);
      const forward = (u: Tensor3D): Tensor3D =>
        tf.tidy(() => {
          const y = mixer.forward(u, { training: false });
          if (defect === 'wide') return tf.concat([y, y], 2) as Tensor3D;
          if (defect === 'nan') return tf.mul(y, NaN) as Tensor3D;
          const [b, t, d] = u.shape;
          const next = tf.concat([u.slice([0, 1, 0], [b, t - 1, d]), tf.zeros([b, 1, d])], 1);
          return tf.add(y, next) as Tensor3D;
        });
      return { ...mixer, forward };
    },
  };
}

const small = { vocabSize: 11, dim: 8, heads: 2, contextLength: 8 };
const specs = [toyShift, toyMean, defective('peek', 'peek'), defective('wide', 'wide'), defective('nan-out', 'nan')];

beforeAll(async () => {
  await selectBackend('cpu');
  for (const spec of specs) registerMixer(spec as MixerSpec);
});
afterAll(() => {
  for (const spec of specs) unregisterMixer(spec.name);
});

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isShiftmixError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a ShiftmixError');
}

describe('preflight of the mixers shiftmix does not ship', () => {
  it('passes causal mixers of the right shape', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean*2' });
    expect(() => model.preflight()).not.toThrow();
    model.dispose();
  });

  it('refuses a mixer that reads the future, naming it, its block and the kit', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'toy-shift,peek' });
    const error = errorOf(() => model.preflight());
    expect(error.code).toBe('E_MIXER_CONFORMANCE');
    expect(error.message).toMatch(/^mixer "peek" \(block 2\) fails the conformance kit's causality check: not causal: changing tokens/);
    expect(error.message).toContain('describeMixerConformance');
    model.dispose();
  });

  it('refuses a mixer whose output is NaN, and one that returns the wrong shape', () => {
    const nan = ShiftmixModel.create({ ...small, layers: 'nan-out' });
    expect(errorOf(() => nan.preflight()).message).toMatch(/mixer "nan-out" \(block 1\) fails .* shapes check: forward\(training: false\) returned non-finite/);
    nan.dispose();
    const wide = ShiftmixModel.create({ ...small, layers: 'toy-mean,wide' });
    expect(errorOf(() => wide.preflight()).message).toMatch(/mixer "wide" \(block 2\) fails .* shapes check: forward\(training: false\) returned \[1, 8, 16\]/);
    // Without the preflight the stack itself names the mixer, not a broadcast error.
    const tokens = tf.zeros([2, 8], 'int32') as Tensor2D;
    const error = errorOf(() => wide.loss(tokens, tokens, { training: true }));
    expect(error.code).toBe('E_MIXER_SHAPE');
    expect(error.message.startsWith('mixer "wide" (block 2) returned [2, 8, 16] from forward of [2, 8, 8]. ')).toBe(true);
    tokens.dispose();
    wide.dispose();
  });

  it('trusts a mixer registered from the package shiftmix ships it in', () => {
    const name = 'softmax-attention';
    registerMixer({ ...defective(name, 'peek') } as MixerSpec, { source: '@shiftmix/mixer-softmax-attention' });
    try {
      const model = ShiftmixModel.create({ ...small, layers: name });
      expect(() => model.preflight()).not.toThrow();
      model.dispose();
    } finally {
      unregisterMixer(name);
    }
  });
});
