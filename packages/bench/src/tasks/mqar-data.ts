import { Rng, ShiftmixError } from '@shiftmix/core';

/** Label of positions that carry no loss (PyTorch's ignore_index, as Zoology uses). */
export const IGNORE_LABEL = -100;

export interface MqarOptions {
  vocabSize: number;
  seqLen: number;
  pairs: number;
  count: number;
  /** Exponent a of p(gap = g) ~ a * g^(a - 1), g = 1..space; Zoology's default is 0.01. */
  powerA: number;
  seed: number;
  /** Fill the unused positions with random tokens instead of 0 (Zoology's default). */
  randomNonQueries?: boolean;
}

export interface MqarData {
  count: number;
  seqLen: number;
  /** [count, seqLen] token ids. */
  inputs: Int32Array;
  /** [count, seqLen]: the value to predict at each query position, IGNORE_LABEL elsewhere. */
  labels: Int32Array;
}

/** `size` distinct integers from [lo, hi), by a partial Fisher-Yates shuffle. */
function sampleDistinct(rng: Rng, lo: number, hi: number, size: number): number[] {
  const pool = Array.from({ length: hi - lo }, (_, i) => lo + i);
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, size);
}

/** `size` distinct indices drawn one after another with probabilities `p` renormalised over those left. */
function sampleWeighted(rng: Rng, p: number[], size: number): number[] {
  const weights = [...p];
  const chosen: number[] = [];
  for (let k = 0; k < size; k++) {
    const total = weights.reduce((a, b) => a + b, 0);
    let u = rng.next() * total;
    let idx = weights.length - 1;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0 && weights[i] > 0) {
        idx = i;
        break;
      }
    }
    while (weights[idx] === 0) idx--;
    chosen.push(idx);
    weights[idx] = 0;
  }
  return chosen;
}

/** Probabilities of the query gaps 0..space-1: p(g) ~ a * (g + 1)^(a - 1). */
export function gapProbabilities(space: number, powerA: number): number[] {
  const p = Array.from({ length: space }, (_, g) => powerA * (g + 1) ** (powerA - 1));
  const total = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / total);
}

/**
 * Multi-query associative recall, as Zoology's `multiquery_ar` defines it. Each example
 * starts with `pairs` key-value pairs (k1 v1 k2 v2 ...), keys distinct from [1, V/2),
 * values distinct from [V/2, V). The rest holds the keys again, each at an even offset
 * 2g from the end of the pairs, gaps g drawn without replacement with power-law
 * probabilities; the label at a query key's position is its value. The sequence is built
 * with one extra token and shifted by one, exactly as Zoology does, so every query
 * position and label stays inside the `seqLen` window.
 */
export function generateMqar(o: MqarOptions): MqarData {
  const { vocabSize: v, seqLen: t, pairs } = o;
  const keyVocab = Math.floor(v / 2);
  if (t % 2 !== 0 || pairs * 4 > t || pairs > keyVocab - 1 || v <= t) {
    throw new ShiftmixError(
      `MQAR needs an even seqLen >= 4 * pairs, vocabSize > seqLen and pairs < vocabSize / 2 - 1; got seqLen ${t}, pairs ${pairs}, vocabSize ${v}`,
      'Adjust the mqar settings of the suite',
      'E_RECIPE',
    );
  }
  const rng = new Rng(o.seed);
  const context = pairs * 2;
  const space = (t - context) / 2;
  const p = gapProbabilities(space, o.powerA);
  const inputs = new Int32Array(o.count * t);
  const labels = new Int32Array(o.count * t).fill(IGNORE_LABEL);
  const example = new Int32Array(t + 1);
  for (let n = 0; n < o.count; n++) {
    example.fill(0);
    const keys = sampleDistinct(rng, 1, keyVocab, pairs);
    const values = sampleDistinct(rng, keyVocab, v, pairs);
    for (let i = 0; i < pairs; i++) {
      example[2 * i] = keys[i];
      example[2 * i + 1] = values[i];
    }
    const gaps = sampleWeighted(rng, p, pairs);
    const row = n * t;
    for (let i = 0; i < pairs; i++) {
      const at = context + 2 * gaps[i];
      example[at] = keys[i];
      // Zoology writes the value at at + 1 of the unshifted labels; after the shift by one it sits at `at`.
      labels[row + at] = values[i];
    }
    for (let i = 0; i < t; i++) {
      const token = example[i];
      inputs[row + i] = token === 0 && (o.randomNonQueries ?? true) ? rng.int(v) : token;
    }
  }
  return { count: o.count, seqLen: t, inputs, labels };
}
