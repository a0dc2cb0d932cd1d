import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import type { MixerSpec } from '../contract.js';
import { registerMixer, unregisterMixer } from '../registry.js';
import { computeShiftSchedule } from '../schedule.js';
import { tf } from '../tf.js';
import { ffnParamCount } from './config.js';
import { checkTrainingFits } from './footprint.js';
import { disposeModelState, ShiftmixModel } from './model.js';
import { toyMean, toyShift } from './toy-mixers.test-util.js';

const failing: MixerSpec = {
  ...toyMean,
  name: 'toy-failing',
  validate: () => {
    throw new Error('bad options');
  },
} as MixerSpec;

beforeAll(async () => {
  await selectBackend('cpu');
  for (const spec of [toyShift, toyMean, failing]) registerMixer(spec);
});
afterAll(() => {
  for (const name of ['toy-shift', 'toy-mean', 'toy-failing']) unregisterMixer(name);
});

const small = { vocabSize: 11, dim: 8, heads: 2, contextLength: 8 };

function randomTokens(batch: number, length: number, vocab: number, seed: number): number[][] {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) % vocab;
  return Array.from({ length: batch }, () => Array.from({ length }, next));
}

/** Logits of the whole sequence, decoded one token at a time. */
function decodeAll(model: ShiftmixModel, tokens: number[][]): number[][][] {
  const out: number[][][] = tokens.map(() => []);
  let state = model.initState(tokens.length);
  for (let t = 0; t < tokens[0].length; t++) {
    const ids = tf.tensor1d(
      tokens.map((row) => row[t]),
      'int32',
    );
    const { logits, state: next } = model.step(ids, state);
    (logits.arraySync() as number[][]).forEach((row, b) => out[b].push(row));
    disposeModelState(state, next);
    state = next;
    ids.dispose();
    logits.dispose();
  }
  disposeModelState(state);
  return out;
}

function maxAbsDiff(a: number[][][], b: number[][][]): number {
  return Math.max(...a.flat(2).map((v, i) => Math.abs(v - b.flat(2)[i])));
}

describe('ShiftmixModel', () => {
  it('checks a config as create would, without making a tensor', () => {
    const before = tf.memory().numTensors;
    expect(ShiftmixModel.check({ ...small, layers: 'toy-shift*2' })).toMatchObject({ layers: 'toy-shift*2', dim: 8, vocabSize: 11 });
    expect(ShiftmixModel.check({ dim: 8, layers: 'toy-mean' }).vocabSize).toBe(2);
    expect(() => ShiftmixModel.check({ ...small, layers: 'toy-shift,toy-failing' })).toThrow('bad options');
    expect(() => ShiftmixModel.check({ ...small, layers: 'toy-nope' })).toThrow(/unknown mixer "toy-nope"/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resolves positional "auto" from the layers', () => {
    const shiftOnly = ShiftmixModel.create({ ...small, layers: 'toy-shift*2' });
    const hybrid = ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean' });
    const forced = ShiftmixModel.create({ ...small, layers: 'toy-shift*2', positional: 'learned' });
    const off = ShiftmixModel.create({ ...small, layers: 'toy-mean', positional: 'none' });
    expect([shiftOnly, hybrid, forced, off].map((m) => m.positional)).toEqual(['none', 'learned', 'learned', 'none']);
    expect([shiftOnly, hybrid, forced, off].map((m) => m.weights().has('wpe'))).toEqual([false, true, true, false]);
    expect(shiftOnly.maxSequenceLength).toBe(Number.POSITIVE_INFINITY);
    expect(hybrid.maxSequenceLength).toBe(8);
    for (const m of [shiftOnly, hybrid, forced, off]) m.dispose();
  });

  it('names its weights stably and counts parameters by hand', () => {
    const model = ShiftmixModel.create({ ...small, dim: 64, heads: 4, layers: 'toy-shift,toy-mean' });
    const block = (i: number, mixer: string[]) => [
      `blocks.${i}.ln1.gamma`,
      `blocks.${i}.ln1.beta`,
      ...mixer.map((m) => `blocks.${i}.mixer.${m}`),
      `blocks.${i}.ln2.gamma`,
      `blocks.${i}.ln2.beta`,
      `blocks.${i}.ffn.w1`,
      `blocks.${i}.ffn.b1`,
      `blocks.${i}.ffn.w2`,
      `blocks.${i}.ffn.b2`,
    ];
    expect([...model.weights().keys()]).toEqual(['wte', 'wpe', ...block(0, ['a', 'b']), ...block(1, ['w']), 'lnf.gamma', 'lnf.beta']);
    // toy-shift has 2D parameters, like hsm-ab: it gets 6D; toy-mean has D^2.
    expect(model.blocks.map((b) => b.ffnWidth)).toEqual([384, Math.round((12 * 64 * 64 + 8 * 64 - 64 * 64) / 129 / 64) * 64]);
    const d = 64;
    const expected = 11 * d + 8 * d + (4 * d + 2 * d + ffnParamCount(d, 384)) + (4 * d + d * d + ffnParamCount(d, model.blocks[1].ffnWidth)) + 2 * d;
    expect(model.paramCount()).toBe(expected);
    model.dispose();
  });

  it('knows its parameters and training memory before it is built, and refuses what cannot fit', () => {
    for (const input of [
      { ...small, dim: 64, heads: 4, layers: 'toy-shift,toy-mean' },
      { ...small, layers: 'toy-shift*3', ffn: 40 },
      { ...small, layers: 'toy-mean', positional: 'none' as const },
    ]) {
      const model = ShiftmixModel.create(input);
      expect(ShiftmixModel.footprint(input, 4).params, input.layers).toBe(model.paramCount());
      model.dispose();
    }
    const wide = ShiftmixModel.footprint({ ...small, dim: 1_000_000, heads: 1, layers: 'toy-shift' }, 1);
    expect(() => checkTrainingFits(wide, 24 * 2 ** 30, 1)).toThrow(/parameters take .* GiB.*Use a smaller --dim/);
    const batch = 1e9;
    const big = ShiftmixModel.footprint({ ...small, layers: 'toy-shift' }, batch);
    expect(() => checkTrainingFits(big, 24 * 2 ** 30, batch)).toThrow(/a batch of 1,000,000,000 sequences .*Use a smaller --batch/);
    const fits = ShiftmixModel.footprint({ ...small, layers: 'toy-shift' }, 16);
    expect(() => checkTrainingFits(fits, 24 * 2 ** 30, 16)).not.toThrow();
  });

  it('draws the same weights for the same seed and different ones for another', () => {
    const values = (seed: number) => {
      const m = ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean', seed });
      const flat = [...m.weights().values()].map((v) => Array.from(v.dataSync()));
      m.dispose();
      return flat;
    };
    expect(values(7)).toEqual(values(7));
    expect(values(7)[0]).not.toEqual(values(8)[0]);
  });

  it('gives shift-based layers their schedule in order, and explicit widths', () => {
    const model = ShiftmixModel.create({ ...small, dim: 16, layers: 'toy-shift,toy-mean,toy-shift*2', ffn: 40 });
    const { shifts } = computeShiftSchedule('radix', 3, 8, 16);
    expect(model.blocks.map((b) => b.shifts)).toEqual([shifts[0], [], shifts[1], shifts[2]]);
    expect(model.blocks.map((b) => b.ffnWidth)).toEqual([40, 40, 40, 40]);
    model.dispose();
    const warned = ShiftmixModel.create({ ...small, layers: 'toy-shift*2', schedule: [[1], [3, 20]] });
    expect(warned.scheduleWarnings.join()).toMatch(/shifts 20 \(shift-based layer 1\) are >= the context length 8/);
    warned.dispose();
  });

  it('decodes token by token to the same logits as the full forward pass', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'toy-shift*2,toy-mean,toy-shift', dropout: 0.2 });
    const tokens = randomTokens(2, 8, small.vocabSize, 3);
    const full = tf.tidy(() => model.forward(tf.tensor2d(tokens, undefined, 'int32'), { training: false }).arraySync());
    const stepped = decodeAll(model, tokens);
    expect(maxAbsDiff(full, stepped)).toBeLessThanOrEqual(1e-4);
    expect(Math.max(...full.flat(2).map(Math.abs))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('is causal: changing a token changes no earlier logits and some later ones', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean,toy-shift' });
    const tokens = randomTokens(1, 8, small.vocabSize, 5);
    const changed = tokens.map((row) => row.map((v, t) => (t === 4 ? (v + 1) % small.vocabSize : v)));
    const run = (ids: number[][]) => tf.tidy(() => model.forward(tf.tensor2d(ids, undefined, 'int32'), { training: false }).arraySync()[0]);
    const a = run(tokens);
    const b = run(changed);
    for (let t = 0; t < 8; t++) {
      const diff = Math.max(...a[t].map((v, i) => Math.abs(v - b[t][i])));
      if (t < 4) expect(diff, `position ${t}`).toBe(0);
      else expect(diff, `position ${t}`).toBeGreaterThan(1e-6);
    }
    model.dispose();
  });

  it('computes mean cross-entropy against a reference from the logits, ignoring negative targets', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean' });
    const tokens = randomTokens(2, 6, small.vocabSize, 9);
    const targets = randomTokens(2, 6, small.vocabSize, 10);
    targets[1][2] = -1;
    targets[0][5] = -1;
    const logits = tf.tidy(() => model.forward(tf.tensor2d(tokens, undefined, 'int32'), { training: false }).arraySync());
    let sum = 0;
    let count = 0;
    targets.forEach((row, b) =>
      row.forEach((y, t) => {
        if (y < 0) return;
        const l = logits[b][t];
        const m = Math.max(...l);
        sum += m + Math.log(l.reduce((acc, v) => acc + Math.exp(v - m), 0)) - l[y];
        count++;
      }),
    );
    const loss = tf.tidy(() => model.loss(tf.tensor2d(tokens, undefined, 'int32'), tf.tensor2d(targets, undefined, 'int32'), { training: false }).arraySync());
    expect(Math.abs(loss - sum / count)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('trains: gradients reach every weight, dropout only when training, no tensor leaks', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean', dropout: 0.5 });
    const x = tf.tensor2d(randomTokens(2, 8, small.vocabSize, 1), undefined, 'int32');
    const y = tf.tensor2d(randomTokens(2, 8, small.vocabSize, 2), undefined, 'int32');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => model.loss(x, y, { training: true }), [...model.weights().values()]);
        expect(Number.isFinite(value.dataSync()[0])).toBe(true);
        expect(Object.keys(grads)).toHaveLength(model.weights().size);
        for (const g of Object.values(grads)) expect(tf.any(tf.notEqual(g, 0)).dataSync()[0]).toBe(1);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    const evalA = tf.tidy(() => model.forward(x, { training: false }).arraySync());
    const evalB = tf.tidy(() => model.forward(x, { training: false }).arraySync());
    const rngBefore = model.rng.state;
    const train = tf.tidy(() => model.forward(x, { training: true }).arraySync());
    expect(evalA).toEqual(evalB);
    expect(train).not.toEqual(evalA);
    expect(model.rng.state).not.toBe(rngBefore);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('has gradients that match central finite differences, tied embedding included', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean' });
    const x = tf.tensor2d(randomTokens(2, 6, small.vocabSize, 21), undefined, 'int32');
    const y = tf.tensor2d(randomTokens(2, 6, small.vocabSize, 22), undefined, 'int32');
    const weights = model.weights();
    const lossValue = () => tf.tidy(() => model.loss(x, y, { training: false }).dataSync()[0]);
    const grads = tf.tidy(() => {
      const g = tf.variableGrads(() => model.loss(x, y, { training: false }), [...weights.values()]).grads;
      return Object.fromEntries([...weights].map(([name, v]) => [name, Array.from(g[v.name].dataSync())]));
    });
    const eps = 1e-2;
    const input = x.dataSync()[0];
    const probes: [string, number][] = [
      ['wte', input * 8 + 1],
      ['wte', ((input + 1) % 11) * 8 + 3],
      ['wpe', 2],
      ['blocks.1.mixer.w', 5],
      ['blocks.0.ffn.w2', 7],
    ];
    for (const [name, index] of probes) {
      const v = weights.get(name)!;
      const original = v.dataSync().slice();
      const at = (delta: number) => {
        const data = original.slice();
        data[index] += delta;
        tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
        return lossValue();
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(original, v.shape)));
      expect(Math.abs(numeric - grads[name][index]), `${name}[${index}]`).toBeLessThan(2e-3 + 0.05 * Math.abs(grads[name][index]));
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('gives the same loss and gradients on wasm as on cpu', async () => {
    const run = () => {
      const model = ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean' });
      const result = tf.tidy(() => {
        const x = tf.tensor2d(randomTokens(2, 8, small.vocabSize, 1), undefined, 'int32');
        const y = tf.tensor2d(randomTokens(2, 8, small.vocabSize, 2), undefined, 'int32');
        const { value, grads } = tf.variableGrads(() => model.loss(x, y, { training: false }), [...model.weights().values()]);
        return { value: value.dataSync()[0], grads: Object.values(grads).map((g) => Array.from(g.dataSync())) };
      });
      model.dispose();
      return result;
    };
    const onCpu = run();
    await selectBackend('wasm');
    try {
      const onWasm = run();
      expect(Math.abs(onWasm.value - onCpu.value)).toBeLessThan(1e-5);
      const diff = Math.max(...onWasm.grads.flatMap((g, i) => g.map((v, j) => Math.abs(v - onCpu.grads[i][j]))));
      expect(diff).toBeLessThan(1e-5);
    } finally {
      await selectBackend('cpu');
    }
  });

  it('limits sequence length where positions or caches end, not for pure shift stacks', () => {
    const bounded = ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean' });
    const long = tf.zeros([1, 9], 'int32') as tf.Tensor2D;
    expect(() => bounded.forward(long, { training: false })).toThrow(/at most 8/);
    let state = bounded.initState(1);
    state = { ...state, position: 8 };
    expect(() => bounded.step(tf.tensor1d([0], 'int32'), state)).toThrow(/position 8 is past/);
    bounded.dispose();
    const free = ShiftmixModel.create({ ...small, layers: 'toy-shift*2' });
    const tokens = randomTokens(1, 17, small.vocabSize, 4);
    const full = tf.tidy(() => free.forward(tf.tensor2d(tokens, undefined, 'int32'), { training: false }).arraySync());
    expect(maxAbsDiff(full, decodeAll(free, tokens))).toBeLessThanOrEqual(1e-4);
    free.dispose();
    long.dispose();
  });

  it('rejects bad inputs and frees what it made when creation fails', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'toy-shift' });
    expect(() => model.forward(tf.zeros([1, 4]) as tf.Tensor2D, { training: false })).toThrow(/int32/);
    expect(() => model.step(tf.tensor1d([1, 2], 'int32'), model.initState(1))).toThrow(/2 tokens for a state of batch 1/);
    model.dispose();
    expect(() => model.weights()).toThrow(/disposed/);
    const before = tf.memory().numTensors;
    ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-mean' }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => ShiftmixModel.create({ ...small, layers: 'toy-shift,toy-failing' })).toThrow(/bad options/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => ShiftmixModel.create({ ...small, layers: 'toy-shift,missing' })).toThrow(/unknown mixer "missing"/);
  });
});
