import { tf, type Tensor } from './tf.js';

/** How far one tensor is from another, as the library's parity checks measure it. */
export interface TensorDifference {
  /** max |actual - expected|; Infinity where an element is NaN on one side only or shapes differ. */
  worst: number;
  /** Flat index of the worst element (-1 when identical or the shapes differ). */
  at: number;
  /** max |expected|. */
  scale: number;
  /** worst / (1 + scale): the measure tolerances apply to. */
  relative: number;
  /** What stands at `at` on each side, for messages. */
  actualValue?: number;
  expectedValue?: number;
}

/**
 * Compares `actual` with `expected` element by element. A NaN where the other side has a
 * number counts as an infinite difference (NaN on both sides counts as equal), so a NaN
 * can never hide behind a later finite element.
 */
export async function tensorDifference(actual: Tensor, expected: Tensor): Promise<TensorDifference> {
  if (!tf.util.arraysEqual(actual.shape, expected.shape)) return { worst: Infinity, at: -1, scale: 0, relative: Infinity };
  const [a, e] = await Promise.all([actual.data(), expected.data()]);
  let worst = 0;
  let at = -1;
  let scale = 0;
  for (let i = 0; i < e.length; i++) {
    if (Number.isFinite(e[i])) scale = Math.max(scale, Math.abs(e[i]));
    const bothNaN = Number.isNaN(a[i]) && Number.isNaN(e[i]);
    const diff = bothNaN ? 0 : a[i] === e[i] ? 0 : Math.abs(a[i] - e[i]);
    const d = Number.isNaN(diff) ? Infinity : diff;
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  const found = at >= 0 ? { actualValue: a[at], expectedValue: e[at] } : {};
  return { worst, at, scale, relative: worst / (1 + scale), ...found };
}
