import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { CharTokenizer } from '../tokenizer/char.js';
import { ShiftmixModel } from '../model/model.js';
import { toyMean, toyShift } from '../model/toy-mixers.test-util.js';
import { registerMixer, unregisterMixer } from '../registry.js';
import { Rng } from '../rng.js';
import { tf } from '../tf.js';
import { generate } from './generate.js';
import { sampleToken } from './sample.js';

const tokenizer = CharTokenizer.fromText('abcdefghijk');
const base = { vocabSize: 11, dim: 8, heads: 2, contextLength: 8 };
let hybrid: ShiftmixModel;
let shiftOnly: ShiftmixModel;

beforeAll(async () => {
  await selectBackend('cpu');
  registerMixer(toyShift);
  registerMixer(toyMean);
  hybrid = ShiftmixModel.create({ ...base, layers: 'toy-shift,toy-mean,toy-shift', seed: 3 });
  shiftOnly = ShiftmixModel.create({ ...base, layers: 'toy-shift*2', seed: 4 });
});
afterAll(() => {
  hybrid.dispose();
  shiftOnly.dispose();
  unregisterMixer('toy-shift');
  unregisterMixer('toy-mean');
});

/** Greedy decoding that recomputes the whole sequence with forward() at every token. */
function greedyByForward(model: ShiftmixModel, prompt: string, count: number): string {
  const ids = Array.from(tokenizer.encode(prompt));
  for (let i = 0; i < count; i++) {
    const last = tf.tidy(() => {
      const logits = model.forward(tf.tensor2d([ids], undefined, 'int32'), { training: false });
      return tf.argMax(logits.slice([0, ids.length - 1, 0], [1, 1, -1]).reshape([-1])).dataSync()[0];
    });
    ids.push(last);
  }
  return tokenizer.decode(ids.slice(ids.length - count));
}

describe('generate', () => {
  it('with top-k 1 (or temperature 0) picks the argmax, as full forward passes do', async () => {
    const reference = greedyByForward(hybrid, 'abc', 5);
    expect(await generate(hybrid, tokenizer, { prompt: 'abc', maxTokens: 5, topK: 1, temperature: 1.3, seed: 1 })).toBe(reference);
    expect(await generate(hybrid, tokenizer, { prompt: 'abc', maxTokens: 5, temperature: 0 })).toBe(reference);
    expect(await generate(shiftOnly, tokenizer, { prompt: 'kj', maxTokens: 12, topK: 1 })).toBe(greedyByForward(shiftOnly, 'kj', 12));
  });

  it('is deterministic for a seed, streams every token, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const pieces: string[] = [];
    const opts = { prompt: 'a', maxTokens: 30, temperature: 2, seed: 11 };
    const a = await generate(shiftOnly, tokenizer, { ...opts, onToken: (t) => pieces.push(t) });
    const b = await generate(shiftOnly, tokenizer, opts);
    const c = await generate(shiftOnly, tokenizer, { ...opts, seed: 12 });
    expect(tf.memory().numTensors).toBe(before);
    expect(a).toHaveLength(30);
    expect(pieces.join('')).toBe(a);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    await generate(hybrid, tokenizer, { prompt: 'abcd', maxTokens: 5, topK: 3, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps within the context when positions or attention caches end there', async () => {
    // 5 prompt tokens + 4 new ones feed 8 positions: fits; a fifth new token would need 9.
    expect(await generate(hybrid, tokenizer, { prompt: 'abcde', maxTokens: 4, seed: 1 })).toHaveLength(4);
    await expect(generate(hybrid, tokenizer, { prompt: 'abcde', maxTokens: 5 })).rejects.toThrow(/need 9 positions.*at most 8.*at most 4 tokens/);
    expect(await generate(shiftOnly, tokenizer, { prompt: 'abcde', maxTokens: 20, seed: 1 })).toHaveLength(20);
  });

  it('rejects bad prompts and options clearly', async () => {
    await expect(generate(hybrid, tokenizer, { prompt: 'abz', maxTokens: 2 })).rejects.toThrow(/does not know: "z"/);
    await expect(generate(hybrid, tokenizer, { prompt: '', maxTokens: 2 })).rejects.toThrow(/prompt is empty/);
    await expect(generate(hybrid, tokenizer, { prompt: 'a', maxTokens: -1 })).rejects.toThrow(/maxTokens -1/);
    await expect(generate(hybrid, tokenizer, { prompt: 'a', maxTokens: 2, temperature: -1 })).rejects.toThrow(/temperature -1/);
    await expect(generate(hybrid, CharTokenizer.fromText('abc'), { prompt: 'a', maxTokens: 2 })).rejects.toThrow(/3 tokens but the model was built for 11/);
    expect(await generate(hybrid, tokenizer, { prompt: 'a', maxTokens: 0 })).toBe('');
  });
});

describe('sampleToken', () => {
  const logits = [1, 3, 2, -1, 0.5];
  const softmax = (xs: number[], t: number) => {
    const e = xs.map((x) => Math.exp(x / t));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };

  it('matches softmax(logits / temperature) in frequency', () => {
    for (const temperature of [1, 0.5]) {
      const rng = new Rng(5);
      const counts = new Array(5).fill(0);
      const n = 20000;
      for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature }, rng)]++;
      softmax(logits, temperature).forEach((p, i) => expect(Math.abs(counts[i] / n - p), `T=${temperature} id=${i}`).toBeLessThan(0.015));
    }
  });

  it('samples only among the top k, renormalized', () => {
    const rng = new Rng(6);
    const counts = new Array(5).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { topK: 2 }, rng)]++;
    expect(counts[0] + counts[3] + counts[4]).toBe(0);
    const p = softmax([3, 2], 1);
    expect(Math.abs(counts[1] / n - p[0])).toBeLessThan(0.015);
    expect(sampleToken(logits, { topK: 1 }, rng)).toBe(1);
    expect(sampleToken(logits, { temperature: 0 }, rng)).toBe(1);
    expect(() => sampleToken([0, NaN], {}, rng)).toThrow(/non-finite logit/);
    expect(() => sampleToken(logits, { topK: 1.5 }, rng)).toThrow(/topK 1.5/);
  });
});
