import { tf, type Tensor1D, type Tensor2D } from '../tf.js';

// The cross-entropy parity cases, as data: the kernel's checks run them on a backend
// against the composite, and the backends' tests compare them with the cpu backend.

/** Logits [rows, vocab] in [-spread/2, spread/2), and the targets (negative ones are ignored). */
export interface CrossEntropyCase {
  rows: number;
  vocab: number;
  spread: number;
  targets: number[];
  /** Rows whose logit at their target is raised to the row's maximum, where the loss is tiny. */
  peaked?: number[];
}

/** Every third target ignored (-1 or -100), the others spread over [0, V). */
export function raggedCase(rows: number, vocab: number, spread = 8): CrossEntropyCase {
  const targets = Array.from({ length: rows }, (_, n) => (n % 3 === 1 ? (n % 2 ? -1 : -100) : (n * 7919 + 13) % vocab));
  return { rows, vocab, spread, targets };
}

/**
 * The case's numbers from an LCG seeded by `seed`, as plain arrays: the same on every
 * backend, so a reference computed on cpu sees what the kernel sees.
 */
export function crossEntropyValues(c: CrossEntropyCase, seed: number): { logits: Float32Array; targets: Int32Array } {
  let state = seed >>> 0;
  const logits = Float32Array.from({ length: c.rows * c.vocab }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * c.spread;
  });
  for (const n of c.peaked ?? []) logits[n * c.vocab + c.targets[n]] = (c.spread / 2) * (1 + n);
  return { logits, targets: Int32Array.from(c.targets) };
}

export function crossEntropyTensors(c: CrossEntropyCase, seed: number): { logits: Tensor2D; targets: Tensor1D } {
  const { logits, targets } = crossEntropyValues(c, seed);
  return { logits: tf.tensor2d(logits, [c.rows, c.vocab]), targets: tf.tensor1d(targets, 'int32') };
}

// N = 1, 7, 300 rows against V from 1 (a single class) to 5000 (several passes per row),
// and logits 1e4 apart whose rows 0 and 2 target their own maximum.
export const CROSS_ENTROPY_CASES: CrossEntropyCase[] = [
  ...[1, 7, 300].flatMap((rows) => [1, 3, 65, 1000, 5000].filter((vocab) => rows * vocab <= 300_000).map((vocab) => raggedCase(rows, vocab))),
  raggedCase(5, 300, 1e4),
  { rows: 5, vocab: 300, spread: 1e4, targets: [0, 17, 0, -1, 299], peaked: [0, 2] },
];

export const describeCrossEntropyCase = (c: CrossEntropyCase) =>
  `N ${c.rows} V ${c.vocab} spread ${c.spread}, ${c.peaked ? `rows ${c.peaked} at their maximum` : 'every third target ignored'}`;

/** Seed of case i: the cpu comparison in the backends' tests uses the same. */
export const crossEntropySeed = (i: number) => i + 1;
