import { createWeightInit, getMixer, isShiftmixError, Rng, selectBackend, tf, unregisterMixer, type MixerContext, type Tensor3D } from '@shiftmix/core';
import { channelGroups } from '@shiftmix/core/tooling';
import { beforeAll, describe, expect, it } from 'vitest';
import { learnedFusionSpec, register } from './index.js';

function context(shifts: number[], dim = 4): MixerContext {
  return { dim, heads: 1, contextLength: 8, layerIndex: 1, numLayers: 3, shifts, dropout: 0, init: createWeightInit(new Rng(8), 3), rng: new Rng(9) };
}

type Matrix = number[][];
const times = (x: number[], w: Matrix): number[] => w[0].map((_, j) => x.reduce((s, xi, i) => s + xi * w[i][j], 0));
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** The README formulas with plain loops: S per channel group, then gate or linear fusion. */
function naive(u: number[][][], shifts: number[], w: Record<string, Matrix & number[]>, mode: string): number[][][] {
  const d = u[0][0].length;
  const group = new Array<number>(d).fill(-1);
  channelGroups(d, shifts.length).forEach(({ start, size }, g) => group.fill(g, start, start + size));
  const shift = (seq: number[][]) => seq.map((_, t) => seq[t].map((_v, c) => (t >= shifts[group[c]] ? seq[t - shifts[group[c]]][c] : 0)));
  return u.map((seq) => {
    const su = shift(seq);
    if (mode === 'linear') return seq.map((x, t) => times([...x, ...su[t]], w.w_f));
    const v = seq.map((x) => times(x, w.w_v));
    const sv = shift(v);
    return seq.map((x, t) => {
      const gate = times([...x, ...su[t]], w.w_g).map((z, j) => sigmoid(z + (w.c as unknown as number[])[j]));
      return times(
        v[t].map((vj, j) => gate[j] * vj + (1 - gate[j]) * sv[t][j]),
        w.w_o,
      );
    });
  });
}

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('learned-fusion forward', () => {
  for (const mode of ['gate', 'linear'] as const) {
    it(`matches the formula in ${mode} mode`, () => {
      const shifts = [1, 2, 4];
      const mixer = learnedFusionSpec.create(context(shifts), { mode });
      Object.values(mixer.weights).forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.7, 'float32', 20 + i)));
      const u = tf.randomNormal([2, 6, 4], 0, 1, 'float32', 3) as Tensor3D;
      const w = Object.fromEntries(Object.entries(mixer.weights).map(([k, v]) => [k, v.arraySync()]));
      const want = naive(u.arraySync(), shifts, w as never, mode).flat(2);
      const got = mixer.forward(u, { training: false }).arraySync().flat(2);
      expect(got).toHaveLength(want.length);
      expect(Math.max(...got.map((x, i) => Math.abs(x - want[i])))).toBeLessThan(1e-5);
      mixer.dispose();
    });
  }

  it('initializes c to zero and scales the output projection by 1/sqrt(2L)', () => {
    const mixer = learnedFusionSpec.create(context([1], 64), { mode: 'gate' });
    expect(mixer.weights.c.arraySync()).toEqual(new Array(64).fill(0));
    const std = (name: string) => tf.tidy(() => tf.moments(mixer.weights[name]).variance.sqrt().dataSync()[0]);
    expect(std('w_v')).toBeCloseTo(0.02, 2);
    expect(std('w_o') / std('w_v')).toBeCloseTo(1 / Math.sqrt(6), 1);
    mixer.dispose();
  });
});

describe('learned-fusion config', () => {
  const ctx = context([1, 3]);
  it('fills defaults and counts parameters', () => {
    expect(learnedFusionSpec.validate({}, ctx)).toEqual({ mode: 'gate' });
    expect(learnedFusionSpec.validate({ mode: 'linear' }, ctx)).toEqual({ mode: 'linear' });
    expect(learnedFusionSpec.paramCount(ctx, { mode: 'gate' })).toBe(4 * 16 + 4);
    expect(learnedFusionSpec.paramCount(ctx, { mode: 'linear' })).toBe(2 * 16);
  });

  it('explains unknown keys, bad modes and missing shifts', () => {
    const message = (config: unknown, c = ctx) => {
      try {
        learnedFusionSpec.validate(config, c);
      } catch (error) {
        expect(isShiftmixError(error)).toBe(true);
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(message({ gate: true })).toMatch(/learned-fusion has no option "gate". Its only option is: mode/);
    expect(message({ mode: 'sum' })).toMatch(/"mode" must be "gate" or "linear", not "sum"/);
    expect(message('gate')).toMatch(/must be an object, not string/);
    expect(message({}, context([]))).toMatch(/learned-fusion was created without shifts/);
  });

  it('registers under its name', () => {
    register();
    expect(getMixer('learned-fusion')).toBe(learnedFusionSpec);
    unregisterMixer('learned-fusion');
  });
});
