import { causalMask } from '../ops/attention.js';
import { tf, type Tensor } from '../tf.js';
import {
  ATTENTION,
  ATTENTION_GRAD,
  causalAttention,
  causalAttentionComposite,
  PACKED_ATTENTION,
  PACKED_ATTENTION_GRAD,
  packedCausalAttention,
  packedCausalAttentionComposite,
} from './attention.js';
import { attentionDropoutKeep } from './dropout-hash.js';
import { gradPairs, normal, type Compared, type ParityCheck } from './parity.js';

/** One attention parity case: q, k, v of [batch, heads, length, hd]. */
export interface AttentionCase {
  batch: number;
  heads: number;
  length: number;
  hd: number;
  window?: number;
  dropout?: number;
}

/**
 * How a backend runs a case of its own: `label` joins the check's name, and `around` runs
 * the check (e.g. with blocks the backend would not pick by itself).
 */
export interface AttentionCaseVariant {
  label: string;
  around<T>(fn: () => T): T;
}

const SEED = 1234567;

function describe(c: AttentionCase, variant?: AttentionCaseVariant): string {
  const extra = [c.window ? `window ${c.window}` : 'full causal', c.dropout ? `dropout ${c.dropout}` : '', variant?.label ?? ''];
  return `B ${c.batch} H ${c.heads} T ${c.length} hd ${c.hd}, ${extra.filter(Boolean).join(', ')}`;
}

/** The kernels' dropout mask (attentionDropoutKeep, their hash in JS) scaled by 1 / (1 - rate): [B, H, T, T]. */
function keepMask(c: AttentionCase): Tensor {
  const [t, rate] = [c.length, c.dropout!];
  const values = new Float32Array(c.batch * c.heads * t * t);
  for (let bh = 0; bh < c.batch * c.heads; bh++) {
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < t; j++) values[(bh * t + i) * t + j] = attentionDropoutKeep(SEED, bh, i, j, t, rate) ? 1 / (1 - rate) : 0;
    }
  }
  return tf.tensor4d(values, [c.batch, c.heads, t, t]);
}

/** Composite attention from tfjs ops, with the kernels' dropout mask when the case has dropout. q, k, v: [B, H, T, hd]. */
function composite(c: AttentionCase, keep: Tensor | undefined) {
  return (q: Tensor, k: Tensor, v: Tensor): Tensor => {
    if (!keep) return causalAttentionComposite(q, k, v, { window: c.window, training: false });
    const scores = tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true).mul(1 / Math.sqrt(c.hd)); // [B, H, T, T]
    const probs = tf.softmax(scores.add(causalMask(c.length, c.window)), -1);
    return tf.matMul(tf.mul(probs, keep) as tf.Tensor4D, v as tf.Tensor4D);
  };
}

const options = (c: AttentionCase) => ({ window: c.window, training: Boolean(c.dropout), dropout: c.dropout, seed: SEED });
const plain: AttentionCaseVariant = { label: '', around: (fn) => fn() };

/** causalAttention against the composite (with the kernels' own dropout mask), forward and gradients. */
export function unpackedAttentionCheck(c: AttentionCase, variant: AttentionCaseVariant = plain): ParityCheck {
  return {
    name: `causalAttention ${describe(c, variant)}`,
    kernels: [ATTENTION.name, ATTENTION_GRAD.name],
    run: () =>
      variant.around(() => {
        const shape = [c.batch, c.heads, c.length, c.hd];
        const [q, k, v] = [1, 2, 3].map((seed) => normal(shape, seed));
        const fused = (a: Tensor, b: Tensor, d: Tensor) => causalAttention(a, b, d, options(c));
        const reference = composite(c, c.dropout ? keepMask(c) : undefined);
        return [
          { what: 'O', got: fused(q, k, v), want: reference(q, k, v), tol: 2e-5 },
          ...gradPairs(['dQ', 'dK', 'dV'], [5e-5, 5e-5, 5e-5], fused, reference, [q, k, v], normal(shape, 4)),
        ];
      }),
  };
}

/**
 * The packed kernel against the composite, and (without dropout) against the unpacked
 * kernel, which the packed composite runs: the same arithmetic, addressed differently.
 * With dropout the unpacked kernel is left out (its compiles cost seconds on software
 * GPUs); its hash is the packed kernel's, checked against the JS mask.
 */
export function packedAttentionCheck(c: AttentionCase, variant: AttentionCaseVariant = plain): ParityCheck {
  return {
    name: `packedCausalAttention ${describe(c, variant)}`,
    kernels: [PACKED_ATTENTION.name, PACKED_ATTENTION_GRAD.name, ...(c.dropout ? [] : [ATTENTION.name, ATTENTION_GRAD.name])],
    run: () =>
      variant.around(() => {
        const d = c.heads * c.hd;
        const qkv = normal([c.batch, c.length, 3 * d], 1);
        const weights = normal([c.batch, c.length, d], 2);
        const keep = c.dropout ? keepMask(c) : undefined;
        // [B, T, 3D] -> [B, H, T, hd] each, composite attention, heads merged back to [B, T, D].
        const pure = (x: Tensor) => {
          const [q, k, v] = tf.split(x, 3, -1).map((p) => p.reshape([c.batch, c.length, c.heads, c.hd]).transpose([0, 2, 1, 3]));
          return composite(c, keep)(q, k, v).transpose([0, 2, 1, 3]).reshape([c.batch, c.length, d]);
        };
        const fused = (x: Tensor) => packedCausalAttention(x, c.heads, options(c));
        const unpacked = (x: Tensor) => packedCausalAttentionComposite(x, c.heads, options(c));
        const vsUnpacked: Compared[] = c.dropout
          ? []
          : [
              { what: 'O vs the unpacked kernel', got: fused(qkv), want: unpacked(qkv), tol: 1e-6 },
              ...gradPairs(['dqkv vs the unpacked kernel'], [1e-6], fused, unpacked, [qkv], weights),
            ];
        return [
          ...vsUnpacked,
          { what: 'O vs composite', got: fused(qkv), want: pure(qkv), tol: 2e-5 },
          ...gradPairs(['dqkv vs composite'], [5e-5], fused, pure, [qkv], weights),
        ];
      }),
  };
}

// Kernels compile per head size and dropout (not per T or window), and the packed composite
// runs the unpacked kernel: the packed cases reuse the unpacked cases' programs where they
// can, which keeps shader compiles on software GPUs few.
export const attentionChecks = (): ParityCheck[] =>
  [
    { batch: 1, heads: 2, length: 37, hd: 8 },
    // Several key blocks; hd 10 and 5 not multiples of 4 (scalar rows).
    { batch: 1, heads: 2, length: 37, hd: 16 },
    { batch: 2, heads: 1, length: 21, hd: 10 },
    { batch: 2, heads: 1, length: 21, hd: 5, window: 7 },
    { batch: 1, heads: 2, length: 45, hd: 8, window: 7 },
    { batch: 1, heads: 1, length: 9, hd: 12, window: 64 },
    // T smaller than a block.
    { batch: 2, heads: 2, length: 5, hd: 4 },
    // A wide head: the 8-wide blocks of 32 KiB devices.
    { batch: 1, heads: 1, length: 13, hd: 130 },
    { batch: 1, heads: 2, length: 23, hd: 8, window: 11, dropout: 0.3 },
  ].map((c) => unpackedAttentionCheck(c));

export const packedAttentionChecks = (): ParityCheck[] =>
  [
    { batch: 2, heads: 3, length: 7, hd: 8 },
    { batch: 2, heads: 3, length: 21, hd: 8, window: 5 },
    { batch: 1, heads: 2, length: 33, hd: 5 },
    { batch: 1, heads: 2, length: 33, hd: 5, window: 5 },
    { batch: 2, heads: 2, length: 1, hd: 3 },
    { batch: 1, heads: 3, length: 33, hd: 16, window: 5, dropout: 0.3 },
    { batch: 2, heads: 2, length: 7, hd: 3, dropout: 0.2 },
  ].map((c) => packedAttentionCheck(c));
