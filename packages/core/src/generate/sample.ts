import { ShiftmixError } from '../errors.js';
import type { Rng } from '../rng.js';

export interface SamplingOptions {
  /** Divides the logits; 0 picks the most likely token (greedy). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 or undefined keeps all. */
  topK?: number;
}

export function checkSamplingOptions(options: SamplingOptions): { temperature: number; topK: number } {
  const temperature = options.temperature ?? 1;
  const topK = options.topK ?? 0;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new ShiftmixError(`temperature ${JSON.stringify(temperature)} is not a number >= 0`, 'Use e.g. 0.8, or 0 for greedy decoding', 'E_SAMPLING');
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new ShiftmixError(`topK ${JSON.stringify(topK)} is not a whole number >= 0`, 'Use e.g. 40, or 0 to keep every token', 'E_SAMPLING');
  }
  return { temperature, topK };
}

function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Draws a token id from logits [V]: softmax(logits / temperature) restricted to the
 * topK largest logits. Greedy (the first maximum) when temperature is 0 or topK is 1.
 */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, rng: Rng): number {
  const { temperature, topK } = checkSamplingOptions(options);
  for (let i = 0; i < logits.length; i++) {
    if (Number.isNaN(logits[i]) || logits[i] === Number.POSITIVE_INFINITY) {
      throw new ShiftmixError(
        `the model produced a non-finite logit (${logits[i]}) for token ${i}`,
        'The weights have diverged: load an earlier checkpoint or train with a lower learning rate',
        'E_SAMPLING',
      );
    }
  }
  if (temperature === 0 || topK === 1) return argmax(logits);
  let candidates = Array.from({ length: logits.length }, (_, i) => i);
  if (topK > 0 && topK < logits.length) {
    // Stable sort: among equal logits the lower id wins, so the kept set is deterministic.
    candidates = candidates.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, topK);
  }
  const max = Math.max(...candidates.map((i) => logits[i]));
  const weights = candidates.map((i) => Math.exp((logits[i] - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let j = 0; j < candidates.length; j++) {
    u -= weights[j];
    if (u < 0) return candidates[j];
  }
  return candidates[candidates.length - 1];
}
