import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { CharTokenizer } from '../tokenizer/char.js';
import { generate } from '../generate/generate.js';
import { getMixer, unregisterMixer } from '../registry.js';
import { tf } from '../tf.js';
import { disposeModelState, ShiftmixModel } from './model.js';

// The stack with the shipped mixers. Core does not depend on them, so they are loaded by
// name at run time (the test setup resolves them to their sources).
async function registerPackage(name: string): Promise<void> {
  const mod = (await import(/* @vite-ignore */ name)) as { register(): void };
  mod.register();
}

function maxDecodeDiff(model: ShiftmixModel, tokens: number[][]): number {
  const full = tf.tidy(() => model.forward(tf.tensor2d(tokens, undefined, 'int32'), { training: false }).arraySync());
  let state = model.initState(tokens.length);
  let worst = 0;
  for (let t = 0; t < tokens[0].length; t++) {
    const ids = tf.tensor1d(
      tokens.map((row) => row[t]),
      'int32',
    );
    const { logits, state: next } = model.step(ids, state);
    (logits.arraySync() as number[][]).forEach((row, b) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - full[b][t][i])))));
    disposeModelState(state, next);
    state = next;
    tf.dispose([ids, logits]);
  }
  disposeModelState(state);
  return worst;
}

const tokens = [
  [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3],
  [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5, 9, 0, 4, 5],
];

describe('the stack with the shipped mixers', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
    await registerPackage('@shiftmix/mixer-hsm-ab');
    await registerPackage('@shiftmix/mixer-softmax-attention');
  });
  afterAll(() => {
    unregisterMixer('hsm-ab');
    unregisterMixer('softmax-attention');
  });

  it('registers into this core', () => {
    expect(getMixer('hsm-ab').shiftBased).toBe(true);
    expect(getMixer('softmax-attention').shiftBased).toBe(false);
  });

  it('gives hsm-ab the matched FFN width 6D and decodes as it runs forward', () => {
    const model = ShiftmixModel.create({ vocabSize: 10, dim: 32, heads: 2, contextLength: 16, layers: 'hsm-ab*4' });
    expect(model.positional).toBe('none');
    expect(model.blocks.map((b) => [b.mixerParams, b.ffnWidth])).toEqual(new Array(4).fill([64, 192]));
    // radix over 4 layers and T_max 16: r = 2, one group per layer, shifts 1, 2, 4, 8.
    expect(model.blocks.map((b) => b.shifts)).toEqual([[1], [2], [4], [8]]);
    expect(maxDecodeDiff(model, tokens)).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  it('gives one block its own options from the pattern, over the per-name options', () => {
    const config = { vocabSize: 10, dim: 16, heads: 2, contextLength: 16, seed: 4 };
    const model = ShiftmixModel.create({
      ...config,
      layers: 'softmax-attention(window=2),softmax-attention',
      mixers: { 'softmax-attention': { rope: true, window: 8 } },
    });
    expect(model.blocks.map((b) => b.mixerConfig)).toEqual([
      { window: 2, rope: true, ropeBase: 10000, attentionDropout: 0 },
      { window: 8, rope: true, ropeBase: 10000, attentionDropout: 0 },
    ]);
    expect(maxDecodeDiff(model, tokens)).toBeLessThanOrEqual(1e-4);
    model.dispose();
    // The window reaches the mixer: with window 2, token 0 is seen at positions 0 and 1 only.
    const reach = (layers: string): number[] => {
      const m = ShiftmixModel.create({ ...config, layers });
      const changed = tokens[0].map((t, i) => (i === 0 ? (t + 1) % 10 : t));
      const [a, b] = tf.tidy(() => [tokens[0], changed].map((row) => m.forward(tf.tensor2d([row], undefined, 'int32'), { training: false }).arraySync()[0]));
      m.dispose();
      return a.flatMap((row, t) => (row.some((v, i) => Math.abs(v - b[t][i]) > 1e-6) ? [t] : []));
    };
    expect(reach('softmax-attention(window=2)')).toEqual([0, 1]);
    expect(reach('softmax-attention')).toEqual(tokens[0].map((_, t) => t));
    expect(() => ShiftmixModel.create({ ...config, layers: 'softmax-attention,softmax-attention(windw=2)' })).toThrow(
      /unknown option "windw" \(block 2 of the layer pattern "softmax-attention,softmax-attention\(windw=2\)"\).*Known options: window/,
    );
  });

  it('runs a hybrid with attention, learned positions and mixer options', async () => {
    const model = ShiftmixModel.create({
      vocabSize: 10,
      dim: 16,
      heads: 2,
      contextLength: 16,
      layers: 'hsm-ab,softmax-attention,hsm-ab',
      mixers: { 'hsm-ab': { projections: true }, 'softmax-attention': { window: 5 } },
      seed: 9,
    });
    expect(model.positional).toBe('learned');
    expect(model.blocks[0].mixerConfig).toMatchObject({ projections: true });
    expect(model.blocks[1].shifts).toEqual([]);
    expect(maxDecodeDiff(model, tokens)).toBeLessThanOrEqual(1e-4);
    const tokenizer = CharTokenizer.fromText('0123456789');
    const before = tf.memory().numTensors;
    const text = await generate(model, tokenizer, { prompt: '314', maxTokens: 10, topK: 3, seed: 1 });
    expect(text).toMatch(/^[0-9]{10}$/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
