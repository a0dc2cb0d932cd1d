import { ShiftmixError, getMixer, listMixers, unregisterMixer } from '@shiftmix/core';
import { afterEach, describe, expect, it } from 'vitest';
import { register, softmaxAttentionSpec } from './index.js';
import { context } from './test-fixtures.js';

const validate = (config: unknown, overrides = {}) => softmaxAttentionSpec.validate(config, context(overrides));

function errorOf(run: () => unknown): ShiftmixError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ShiftmixError);
    return error as ShiftmixError;
  }
  throw new Error('expected a ShiftmixError');
}

describe('softmax-attention config', () => {
  afterEach(() => {
    unregisterMixer('softmax-attention');
  });

  it('fills in defaults, taking attention dropout from the model', () => {
    expect(validate(undefined, { dropout: 0.2 })).toEqual({ window: null, rope: false, ropeBase: 10000, attentionDropout: 0.2 });
    expect(validate({ window: 4, rope: true, ropeBase: 500, attentionDropout: 0 }, { dropout: 0.2 })).toEqual({
      window: 4,
      rope: true,
      ropeBase: 500,
      attentionDropout: 0,
    });
    expect(validate({ window: null })).toMatchObject({ window: null });
  });

  it('names dim, heads and the fix when dim is not divisible by heads', () => {
    const error = errorOf(() => validate({}, { dim: 10, heads: 4 }));
    expect(error.code).toBe('E_CONFIG');
    expect(error.problem).toMatch(/dim 10 is not divisible by heads 4/);
    expect(error.fix).toMatch(/1, 2, 5, 10/);
    expect(error.fix).toMatch(/multiple of 4/);
  });

  it('asks for an even head dimension with rope', () => {
    const error = errorOf(() => validate({ rope: true }, { dim: 6, heads: 2 }));
    expect(error.problem).toMatch(/even head dimension.*dim 6 \/ heads 2 = 3/);
    expect(error.fix).toMatch(/rope: false/);
    expect(validate({ rope: false }, { dim: 6, heads: 2 }).rope).toBe(false);
  });

  it.each([0, -2, 1.5, '4'])('rejects window %j', (window) => {
    expect(errorOf(() => validate({ window })).problem).toMatch(/window must be an integer >= 1/);
  });

  it('rejects unknown keys and lists the known ones', () => {
    const error = errorOf(() => validate({ windw: 4, rope: true }));
    expect(error.problem).toMatch(/unknown option "windw"/);
    expect(error.fix).toMatch(/window, rope, ropeBase, attentionDropout/);
  });

  it.each([
    [{ rope: 'yes' }, /rope must be true or false/],
    [{ ropeBase: 0 }, /ropeBase/],
    [{ attentionDropout: 1 }, /attentionDropout/],
    [[1], /must be an object/],
  ])('rejects %j', (config, message) => {
    expect(errorOf(() => validate(config)).problem).toMatch(message);
  });

  it('counts 4 D^2 + 4 D parameters and is not shift-based', () => {
    const ctx = context({ dim: 384, heads: 6 });
    expect(softmaxAttentionSpec.paramCount(ctx, validate({}))).toBe(4 * 384 * 384 + 4 * 384);
    expect(softmaxAttentionSpec.shiftBased).toBe(false);
  });

  it('registers under its name with its package as source', () => {
    register();
    expect(getMixer('softmax-attention')).toBe(softmaxAttentionSpec);
    expect(listMixers().find((m) => m.spec === softmaxAttentionSpec)?.source).toBe('@shiftmix/mixer-softmax-attention');
  });
});
