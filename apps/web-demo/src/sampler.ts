import { DemoError } from './protocol.js';

/** A seeded generator (SplitMix32), so a seed replays the same text. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }
}

export interface SamplingOptions {
  temperature: number;
  topK: number;
}

export function checkSampling({ temperature, topK }: SamplingOptions): void {
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new DemoError(`temperature ${temperature} is not a number >= 0`, 'Use e.g. 0.8, or 0 to always take the most likely character', 'E_SAMPLING');
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new DemoError(`top-k ${topK} is not a whole number >= 0`, 'Use e.g. 20, or 0 to keep every character', 'E_SAMPLING');
  }
}

function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Draws a token from logits [V]: softmax(logits / temperature) over the topK largest
 * logits (ties keep the lower id). Temperature 0 or topK 1 takes the first maximum.
 */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, rng: Rng): number {
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i]) && logits[i] !== -Infinity) {
      throw new DemoError(`the model produced a non-finite logit (${logits[i]}) for token ${i}`, 'The weights are broken: export the model again from a healthy checkpoint', 'E_SAMPLING');
    }
  }
  if (options.temperature === 0 || options.topK === 1) return argmax(logits);
  let ids = Array.from({ length: logits.length }, (_, i) => i);
  if (options.topK > 0 && options.topK < ids.length) ids = ids.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, options.topK);
  let max = -Infinity;
  for (const i of ids) max = Math.max(max, logits[i]);
  const weights = ids.map((i) => Math.exp((logits[i] - max) / options.temperature));
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < ids.length; j++) {
    u -= weights[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1];
}
