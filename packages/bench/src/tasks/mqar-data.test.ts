import { describe, expect, it } from 'vitest';
import { IGNORE_LABEL, gapProbabilities, generateMqar } from './mqar-data.js';

const V = 64;
const T = 32;
const P = 4;

describe('generateMqar', () => {
  const data = generateMqar({ vocabSize: V, seqLen: T, pairs: P, count: 400, powerA: 0.01, seed: 7 });
  const row = (n: number) => ({ x: [...data.inputs.subarray(n * T, (n + 1) * T)], y: [...data.labels.subarray(n * T, (n + 1) * T)] });

  it('starts every example with distinct keys from [1, V/2) each followed by a distinct value from [V/2, V)', () => {
    for (let n = 0; n < data.count; n++) {
      const { x } = row(n);
      const keys = x.filter((_, i) => i < 2 * P && i % 2 === 0);
      const values = x.filter((_, i) => i < 2 * P && i % 2 === 1);
      expect(new Set(keys).size).toBe(P);
      expect(new Set(values).size).toBe(P);
      for (const k of keys) expect(k >= 1 && k < V / 2).toBe(true);
      for (const v of values) expect(v >= V / 2 && v < V).toBe(true);
    }
  });

  it('queries every key once after the pairs, at an even offset, labelled with its value; all else is masked', () => {
    for (let n = 0; n < data.count; n++) {
      const { x, y } = row(n);
      const pairs = new Map<number, number>();
      for (let i = 0; i < P; i++) pairs.set(x[2 * i], x[2 * i + 1]);
      const labelled = y.map((label, t) => [label, t]).filter(([label]) => label !== IGNORE_LABEL);
      expect(labelled).toHaveLength(P);
      const queried = new Set<number>();
      for (const [label, t] of labelled) {
        expect(t).toBeGreaterThanOrEqual(2 * P);
        expect((t - 2 * P) % 2).toBe(0);
        // The input at a labelled position is the key whose value is the label.
        expect(pairs.get(x[t])).toBe(label);
        queried.add(x[t]);
      }
      expect(queried.size).toBe(P);
      for (let t = 0; t < 2 * P; t++) expect(y[t]).toBe(IGNORE_LABEL);
    }
  });

  it('fills unqueried positions with random tokens, or zeros when asked', () => {
    const zeros = generateMqar({ vocabSize: V, seqLen: T, pairs: P, count: 50, powerA: 0.01, seed: 7, randomNonQueries: false });
    let zeroCount = 0;
    for (let i = 0; i < zeros.inputs.length; i++) if (zeros.labels[i] === IGNORE_LABEL && i % T >= 2 * P) zeroCount += zeros.inputs[i] === 0 ? 1 : 0;
    expect(zeroCount).toBe(50 * (T - 2 * P - P));
    const random = [...data.inputs].filter((_, i) => i % T >= 2 * P && data.labels[i] === IGNORE_LABEL);
    expect(new Set(random).size).toBeGreaterThan(V / 2);
  });

  it('draws query gaps from the power law p(g) ~ a g^(a-1)', () => {
    // With one pair the gap is a single draw from p, so its histogram must match p.
    const space = (T - 2) / 2;
    const count = 20000;
    const one = generateMqar({ vocabSize: V, seqLen: T, pairs: 1, count, powerA: 0.5, seed: 3 });
    const hist = new Array<number>(space).fill(0);
    for (let n = 0; n < count; n++) {
      for (let t = 0; t < T; t++) if (one.labels[n * T + t] !== IGNORE_LABEL) hist[(t - 2) / 2]++;
    }
    const p = gapProbabilities(space, 0.5);
    const expected = Array.from({ length: space }, (_, g) => Math.sqrt(1 / (g + 1)));
    const total = expected.reduce((a, b) => a + b, 0);
    p.forEach((pg, g) => expect(pg).toBeCloseTo(expected[g] / total, 12));
    for (let g = 0; g < space; g++) {
      const sd = Math.sqrt(count * p[g] * (1 - p[g]));
      expect(Math.abs(hist[g] - count * p[g])).toBeLessThan(5 * sd);
    }
  });

  it('is deterministic in its seed', () => {
    const a = generateMqar({ vocabSize: V, seqLen: T, pairs: P, count: 5, powerA: 0.01, seed: 11 });
    const b = generateMqar({ vocabSize: V, seqLen: T, pairs: P, count: 5, powerA: 0.01, seed: 11 });
    const c = generateMqar({ vocabSize: V, seqLen: T, pairs: P, count: 5, powerA: 0.01, seed: 12 });
    expect([...a.inputs]).toEqual([...b.inputs]);
    expect([...a.inputs]).not.toEqual([...c.inputs]);
  });

  it('rejects settings outside the definition', () => {
    expect(() => generateMqar({ vocabSize: V, seqLen: 31, pairs: 2, count: 1, powerA: 0.01, seed: 1 })).toThrow(/even seqLen/);
    expect(() => generateMqar({ vocabSize: V, seqLen: 16, pairs: 5, count: 1, powerA: 0.01, seed: 1 })).toThrow(/4 \* pairs/);
    expect(() => generateMqar({ vocabSize: 16, seqLen: 16, pairs: 2, count: 1, powerA: 0.01, seed: 1 })).toThrow(/vocabSize > seqLen/);
  });
});
