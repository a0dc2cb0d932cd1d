import { causalAttention, causalMask, packedCausalAttention, tf, type Tensor } from '@shiftmix/core';
import {
  ATTENTION_GRAD_KERNEL,
  PACKED_ATTENTION_GRAD_KERNEL,
  SHIFTMIX_ATTENTION_KERNEL,
  SHIFTMIX_ATTENTION_PACKED_KERNEL,
  attentionDropoutKeep,
  causalAttentionComposite,
  packedCausalAttentionComposite,
} from '@shiftmix/core/kernels';
import { EXTRA_ATTENTION_BLOCKS, attentionTuning, type AttentionTiles } from '../attention/tiles.js';
import { gradPairs, normal, type Compared, type ParityCheck } from './compare.js';

/** One attention parity case: q, k, v of [batch, heads, length, hd]. */
export interface AttentionCase {
  batch: number;
  heads: number;
  length: number;
  hd: number;
  window?: number;
  dropout?: number;
  /** Blocks other than the device's choice (see SMALL_TILES and EXTRA_TILES). */
  tiles?: AttentionTiles;
}

const SEED = 1234567;
// 16 x 16 blocks for every kernel, so T = 70 spans several blocks with a ragged last one.
const SMALL_TILES: AttentionTiles = { forward: { bq: 16, bk: 16 }, keyGrad: { bk: 16, bq: 16 }, queryGrad: { bq: 16, bk: 16 } };
// The shapes only tuneAttentionTiles picks, which must hold on every driver too.
const EXTRA_TILES: AttentionTiles = {
  forward: EXTRA_ATTENTION_BLOCKS.forward[0],
  keyGrad: EXTRA_ATTENTION_BLOCKS.keyGrad[0],
  queryGrad: EXTRA_ATTENTION_BLOCKS.queryGrad[0],
};

const blocks = ({ forward: f, keyGrad: g, queryGrad: q }: AttentionTiles) => `blocks ${f.bq}x${f.bk}, ${g.bk}x${g.bq}, ${q.bq}x${q.bk}`;

function describe(c: AttentionCase): string {
  const extra = [c.window ? `window ${c.window}` : 'full causal', c.dropout ? `dropout ${c.dropout}` : '', c.tiles ? blocks(c.tiles) : ''];
  return `B ${c.batch} H ${c.heads} T ${c.length} hd ${c.hd}, ${extra.filter(Boolean).join(', ')}`;
}

/** Runs fn with the case's blocks, then gives the kernels back their own choice. */
function withTiles<T>(c: AttentionCase, fn: () => T): T {
  if (c.tiles) attentionTuning.tiles = c.tiles;
  try {
    return fn();
  } finally {
    attentionTuning.tiles = undefined;
  }
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

const unpackedCheck = (c: AttentionCase): ParityCheck => ({
  name: `causalAttention ${describe(c)}`,
  kernels: [SHIFTMIX_ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL],
  run: () =>
    withTiles(c, () => {
      const shape = [c.batch, c.heads, c.length, c.hd];
      const [q, k, v] = [1, 2, 3].map((seed) => normal(shape, seed));
      const fused = (a: Tensor, b: Tensor, d: Tensor) => causalAttention(a, b, d, options(c));
      const reference = composite(c, c.dropout ? keepMask(c) : undefined);
      return [
        { what: 'O', got: fused(q, k, v), want: reference(q, k, v), tol: 2e-5 },
        ...gradPairs(['dQ', 'dK', 'dV'], [5e-5, 5e-5, 5e-5], fused, reference, [q, k, v], normal(shape, 4)),
      ];
    }),
});

/**
 * The packed kernel against the composite, and (without dropout) against the unpacked
 * kernel, which the packed composite runs: the same arithmetic, addressed differently.
 * With dropout the unpacked kernel's own programs are left out (their compiles cost
 * seconds on SwiftShader); its hash is the packed kernel's, checked against the JS mask.
 */
const packedCheck = (c: AttentionCase): ParityCheck => ({
  name: `packedCausalAttention ${describe(c)}`,
  kernels: [SHIFTMIX_ATTENTION_PACKED_KERNEL, PACKED_ATTENTION_GRAD_KERNEL, ...(c.dropout ? [] : [SHIFTMIX_ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL])],
  run: () =>
    withTiles(c, () => {
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
});

// Kernels are compiled per head size, dropout and blocks (not per T or window), and the
// packed composite runs the unpacked kernel: the packed cases reuse the unpacked cases'
// programs where they can, which keeps SwiftShader's shader compiles (most of the time) few.
export const attentionChecks: ParityCheck[] = [
  ...[
    { batch: 1, heads: 2, length: 37, hd: 8 },
    // Several key blocks; hd 10 and 5 not multiples of 4 (scalar rows).
    { batch: 1, heads: 2, length: 37, hd: 16 },
    { batch: 2, heads: 1, length: 21, hd: 10 },
    { batch: 2, heads: 1, length: 21, hd: 5, window: 7 },
    { batch: 1, heads: 2, length: 45, hd: 8, window: 7 },
    { batch: 1, heads: 1, length: 9, hd: 12, window: 64 },
    // T smaller than a block.
    { batch: 2, heads: 2, length: 5, hd: 4 },
    { batch: 1, heads: 1, length: 70, hd: 20, window: 19, tiles: SMALL_TILES },
    { batch: 1, heads: 2, length: 83, hd: 12, tiles: EXTRA_TILES },
    // A wide head: the 8-wide blocks of 32 KiB devices.
    { batch: 1, heads: 1, length: 13, hd: 130 },
    { batch: 1, heads: 2, length: 23, hd: 8, window: 11, dropout: 0.3 },
  ].map(unpackedCheck),
  ...[
    { batch: 2, heads: 3, length: 7, hd: 8 },
    { batch: 2, heads: 3, length: 21, hd: 8, window: 5 },
    { batch: 1, heads: 2, length: 33, hd: 5 },
    { batch: 1, heads: 2, length: 33, hd: 5, window: 5 },
    { batch: 2, heads: 2, length: 1, hd: 3 },
    { batch: 1, heads: 1, length: 70, hd: 16, tiles: SMALL_TILES },
    { batch: 1, heads: 2, length: 70, hd: 5, window: 5, tiles: SMALL_TILES },
    { batch: 1, heads: 3, length: 33, hd: 16, window: 5, dropout: 0.3 },
    { batch: 2, heads: 2, length: 7, hd: 3, dropout: 0.2 },
    { batch: 1, heads: 2, length: 70, hd: 8, window: 19, dropout: 0.3, tiles: SMALL_TILES },
  ].map(packedCheck),
];
