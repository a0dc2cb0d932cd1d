import { tensorDifference } from '../compare.js';
import { tf, type Tensor } from '../tf.js';

/** One quantity of a check: the fused path's tensor, the reference's, and the tolerance. */
export interface Compared {
  what: string;
  got: Tensor;
  want: Tensor;
  tol: number;
}

/**
 * A named parity check. `kernels`: the fused kernels `run` must dispatch (read from
 * tf.profile), so a check cannot pass by running the reference twice.
 */
export interface ParityCheck {
  name: string;
  kernels: string[];
  run(): Compared[] | Promise<Compared[]>;
}

/** What the page reports per compared quantity. */
export interface ParityResult {
  name: string;
  maxRelDiff: number | null;
  tol: number;
  ok: boolean;
  /** Where it differs most, or why the check did not run. */
  detail?: string;
}

/** A seeded normal tensor: the same numbers as the Node parity tests for the same seed. */
export function normal(shape: number[], seed: number): Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/**
 * max |got - want| / (1 + max |want|) (core's tensorDifference, the measure of the Node
 * tests' expectClose), with the worst index. NaN against a number or a shape mismatch
 * gives Infinity.
 */
export async function maxRelDiff(got: Tensor, want: Tensor): Promise<{ value: number; detail: string }> {
  if (!tf.util.arraysEqual(got.shape, want.shape)) {
    return { value: Infinity, detail: `shape ${JSON.stringify(got.shape)} vs ${JSON.stringify(want.shape)}` };
  }
  const d = await tensorDifference(got, want);
  return { value: d.relative, detail: d.at < 0 ? 'identical' : `worst at flat index ${d.at}: ${d.actualValue} vs ${d.expectedValue}` };
}

function failed(name: string, tol: number, detail: string): ParityResult {
  return { name, maxRelDiff: null, tol, ok: false, detail };
}

/**
 * Runs one check under tf.profile, then measures each quantity. Its tensors live in one
 * engine scope (tf.tidy takes no async function), freed when the check is done.
 */
export async function runCheck(check: ParityCheck): Promise<ParityResult[]> {
  const engine = tf.engine();
  engine.startScope(check.name);
  try {
    let compared: Compared[] = [];
    let kernelNames: string[];
    try {
      const profile = await tf.profile(async () => {
        compared = await check.run();
        return compared.flatMap((c) => [c.got, c.want]);
      });
      kernelNames = profile.kernelNames;
    } catch (error) {
      console.error(check.name, error);
      return [failed(check.name, 0, `threw: ${(error as Error).message}`)];
    }
    const results: ParityResult[] = [];
    const missing = check.kernels.filter((k) => !kernelNames.includes(k));
    if (missing.length) results.push(failed(`${check.name}: fused kernels ran`, 0, `never dispatched: ${missing.join(', ')}`));
    for (const c of compared) {
      const { value, detail } = await maxRelDiff(c.got, c.want);
      results.push({ name: `${check.name}: ${c.what}`, maxRelDiff: Number.isFinite(value) ? value : null, tol: c.tol, ok: value <= c.tol, detail });
    }
    return results;
  } finally {
    engine.endScope();
  }
}

/** [got, want] of tf.grads for the fused and the reference function, as Compared entries. */
export function gradPairs(
  names: string[],
  tols: number[],
  fused: (...xs: Tensor[]) => Tensor,
  reference: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  weights: Tensor,
): Compared[] {
  // sum(f(x) * w): every output element gets its own upstream gradient.
  const loss =
    (f: (...xs: Tensor[]) => Tensor) =>
    (...xs: Tensor[]) =>
      tf.sum(tf.mul(f(...xs), weights));
  const got = tf.grads(loss(fused))(inputs);
  const want = tf.grads(loss(reference))(inputs);
  return names.map((what, i) => ({ what, got: got[i], want: want[i], tol: tols[i] }));
}
