import { describe, expect, it } from 'vitest';
import { DemoError } from './protocol.js';
import { Rng, sampleToken } from './sampler.js';

const logits = Float32Array.of(0.5, 2, -1, 2, 1.2, -3);

function counts(options: { temperature: number; topK: number }, n: number, seed = 5): number[] {
  const rng = new Rng(seed);
  const c = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) c[sampleToken(logits, options, rng)]++;
  return c;
}

describe('sampleToken', () => {
  it('takes the first maximum at temperature 0 and with top-k 1', () => {
    expect(sampleToken(logits, { temperature: 0, topK: 0 }, new Rng(1))).toBe(1);
    expect(sampleToken(logits, { temperature: 3, topK: 1 }, new Rng(1))).toBe(1);
  });

  it('draws from softmax(logits / temperature)', () => {
    const n = 40_000;
    for (const temperature of [0.7, 1.5]) {
      const exp = Array.from(logits, (l) => Math.exp(l / temperature));
      const total = exp.reduce((a, b) => a + b, 0);
      const c = counts({ temperature, topK: 0 }, n);
      // Four standard deviations of a binomial count.
      exp.forEach((e, i) => {
        const p = e / total;
        expect(Math.abs(c[i] / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
      });
    }
  });

  it('keeps only the k largest logits, renormalized', () => {
    const n = 20_000;
    const c = counts({ temperature: 1, topK: 3 }, n);
    expect([c[0], c[2], c[5]]).toEqual([0, 0, 0]);
    const kept = [1, 3, 4].map((i) => Math.exp(logits[i]));
    const total = kept.reduce((a, b) => a + b, 0);
    [1, 3, 4].forEach((id, j) => expect(Math.abs(c[id] / n - kept[j] / total)).toBeLessThan(0.02));
  });

  it('replays the same draws from the same seed', () => {
    expect(counts({ temperature: 1, topK: 0 }, 50, 7)).toEqual(counts({ temperature: 1, topK: 0 }, 50, 7));
    expect(counts({ temperature: 1, topK: 0 }, 50, 7)).not.toEqual(counts({ temperature: 1, topK: 0 }, 50, 8));
    const r = new Rng(3);
    const draws = Array.from({ length: 20 }, () => r.next());
    expect(new Set(draws).size).toBe(20);
    expect(draws.every((u) => u >= 0 && u < 1)).toBe(true);
  });

  it('rejects bad options and non-finite logits with a message', () => {
    expect(() => sampleToken(Float32Array.of(1, NaN), { temperature: 1, topK: 0 }, new Rng(1))).toThrow(DemoError);
    expect(sampleToken(Float32Array.of(-Infinity, 0), { temperature: 1, topK: 0 }, new Rng(1))).toBe(1);
  });
});
