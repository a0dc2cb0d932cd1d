import { createWeightInit, getMixer, isShiftmixError, Rng, selectBackend, tf, unregisterMixer, type MixerContext, type Tensor3D } from '@shiftmix/core';
import { channelGroups } from '@shiftmix/core/tooling';
import { beforeAll, describe, expect, it } from 'vitest';
import { hsmAbSpec, register } from './index.js';

function context(shifts: number[], dim = 5): MixerContext {
  return { dim, heads: 1, contextLength: 8, layerIndex: 0, numLayers: 2, shifts, dropout: 0, init: createWeightInit(new Rng(4), 2), rng: new Rng(5) };
}

/** Y = (a * V + b * S(V)) W_out with V = U W_in, by plain loops over arrays. */
function naive(u: number[][][], a: number[], b: number[], shifts: number[], wIn?: number[][], wOut?: number[][]): number[][][] {
  const d = a.length;
  const group = new Array<number>(d).fill(-1);
  channelGroups(d, shifts.length).forEach(({ start, size }, g) => group.fill(g, start, start + size));
  const times = (x: number[], w?: number[][]) => (w ? Array.from({ length: d }, (_, j) => x.reduce((s, xi, i) => s + xi * w[i][j], 0)) : x);
  return u.map((seq) => {
    const v = seq.map((x) => times(x, wIn));
    return v.map((x, t) =>
      times(
        x.map((xc, c) => a[c] * xc + b[c] * (t >= shifts[group[c]] ? v[t - shifts[group[c]]][c] : 0)),
        wOut,
      ),
    );
  });
}

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('hsm-ab forward', () => {
  for (const projections of [false, true]) {
    it(`matches the formula with projections ${projections}`, () => {
      const shifts = [1, 3];
      const mixer = hsmAbSpec.create(context(shifts), { projections });
      Object.values(mixer.weights).forEach((w, i) => w.assign(tf.randomNormal(w.shape, 0, 1, 'float32', 10 + i)));
      const u = tf.randomNormal([2, 6, 5], 0, 1, 'float32', 3) as Tensor3D;
      const w = Object.fromEntries(Object.entries(mixer.weights).map(([k, v]) => [k, v.arraySync()])) as Record<string, never>;
      const want = naive(u.arraySync(), w.a, w.b, shifts, w.w_in, w.w_out);
      const got = mixer.forward(u, { training: true }).arraySync();
      expect(Math.max(...got.flat(2).map((x, i) => Math.abs(x - want.flat(2)[i])))).toBeLessThan(1e-5);
      expect(Object.keys(mixer.weights).sort()).toEqual(projections ? ['a', 'b', 'w_in', 'w_out'] : ['a', 'b']);
      mixer.dispose();
    });
  }

  it('starts as U + S(U): a and b are initialized to one', () => {
    const mixer = hsmAbSpec.create(context([2]), hsmAbSpec.defaults);
    expect(mixer.weights.a.arraySync()).toEqual([1, 1, 1, 1, 1]);
    expect(mixer.weights.b.arraySync()).toEqual([1, 1, 1, 1, 1]);
    mixer.dispose();
  });
});

describe('hsm-ab config', () => {
  const ctx = context([1, 2]);
  it('fills defaults and counts parameters', () => {
    expect(hsmAbSpec.validate(undefined, ctx)).toEqual({ projections: false });
    expect(hsmAbSpec.validate({ projections: true }, ctx)).toEqual({ projections: true });
    expect(hsmAbSpec.paramCount(ctx, { projections: false })).toBe(10);
    expect(hsmAbSpec.paramCount(ctx, { projections: true })).toBe(60);
  });

  it('explains unknown keys, wrong types and missing shifts', () => {
    const message = (config: unknown, c = ctx) => {
      try {
        hsmAbSpec.validate(config, c);
      } catch (error) {
        expect(isShiftmixError(error)).toBe(true);
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(message({ projection: true })).toMatch(/hsm-ab has no option "projection". Its options are: projections/);
    expect(message({ projections: 'yes' })).toMatch(/option "projections" must be a boolean, not "yes"/);
    expect(message([true])).toMatch(/must be an object, not an array/);
    expect(message({}, context([]))).toMatch(/hsm-ab was created without shifts/);
  });

  it('registers under its name', () => {
    register();
    expect(getMixer('hsm-ab')).toBe(hsmAbSpec);
    unregisterMixer('hsm-ab');
  });
});
