import { ShiftmixError } from '../errors.js';
import { dropout } from '../layers.js';
import { hasKernel, runFused } from '../kernels/dispatch.js';
import { SHIFTMIX_ATTENTION_KERNEL, SHIFTMIX_ATTENTION_PACKED_KERNEL } from '../kernels/names.js';
import { tf, type Tensor } from '../tf.js';

export { SHIFTMIX_ATTENTION_KERNEL, SHIFTMIX_ATTENTION_PACKED_KERNEL };

export interface CausalAttentionKernelAttrs {
  /** Sliding window size; 0 means full causal attention. */
  window: number;
  /** Attention dropout rate on the probabilities; 0 when not training. */
  dropoutRate: number;
  /** Seed of the dropout mask, 0 when dropoutRate is 0. */
  seed: number;
  /** Score scale, 1 / sqrt(hd). */
  scale: number;
}

export interface CausalAttentionOptions {
  /** Position t attends to t - window + 1 .. t; undefined or null means every earlier position. */
  window?: number | null;
  /** Dropout rate on the attention probabilities (applied only when training). */
  dropout?: number;
  /** Seed of the dropout mask; required when training with dropout > 0. */
  seed?: number;
  training: boolean;
}

// Added to masked scores: large enough that exp underflows to exactly 0 in fp32, finite so
// no backend produces NaN from -inf arithmetic.
const MASKED = -1e9;

/**
 * Additive mask [T, T]: 0 where query i may see key j (j <= i and i - j < window), else
 * a large negative number. Built from tfjs ops so it stays on the active backend.
 */
export function causalMask(length: number, window?: number | null): Tensor {
  return tf.tidy(() => {
    const reach = window ?? length;
    const distance = tf.sub(tf.range(0, length, 1, 'int32').reshape([-1, 1]), tf.range(0, length, 1, 'int32')); // [T, T], i - j
    const visible = tf.logicalAnd(tf.greaterEqual(distance, 0), tf.less(distance, reach));
    return tf.where(visible, tf.zeros([length, length]), tf.fill([length, length], MASKED));
  });
}

function checkInputs(q: Tensor, k: Tensor, v: Tensor, options: CausalAttentionOptions): void {
  if (q.rank !== 4 || !tf.util.arraysEqual(q.shape, k.shape) || !tf.util.arraysEqual(q.shape, v.shape)) {
    throw new ShiftmixError(
      `causalAttention needs q, k and v of one shape [B, H, T, hd], got ${JSON.stringify([q.shape, k.shape, v.shape])}`,
      'Split the heads before calling it: reshape [B, T, D] to [B, T, H, hd] and transpose to [B, H, T, hd]',
      'E_SHAPE',
    );
  }
  checkOptions(options);
}

function checkOptions(options: CausalAttentionOptions): void {
  const { window } = options;
  if (window != null && !(Number.isInteger(window) && window >= 1)) {
    throw new ShiftmixError(`attention window must be an integer >= 1, got ${window}`, 'Pass a positive window, or none for full causal attention', 'E_CONFIG');
  }
  const rate = options.dropout ?? 0;
  if (options.training && rate > 0 && options.seed === undefined) {
    throw new ShiftmixError('attention dropout needs a seed while training', 'Pass seed (e.g. from the model rng) with dropout > 0', 'E_CONFIG');
  }
}

/**
 * Reference causal attention from tfjs ops: softmax(q k^T / sqrt(hd) + mask) v, with
 * dropout on the probabilities while training. q, k, v: [B, H, T, hd] -> [B, H, T, hd].
 */
export function causalAttentionComposite(q: Tensor, k: Tensor, v: Tensor, options: CausalAttentionOptions): Tensor {
  checkInputs(q, k, v, options);
  const [, , t, hd] = q.shape;
  const rate = options.dropout ?? 0;
  return tf.tidy(() => {
    const scores = tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true).mul(1 / Math.sqrt(hd)); // [B, H, T, T]
    const probs = tf.softmax(scores.add(causalMask(t, options.window)), -1);
    const dropped = dropout(probs, rate, options.training, options.seed ?? 0);
    return tf.matMul(dropped as tf.Tensor4D, v as tf.Tensor4D); // [B, H, T, hd]
  });
}

/** True when the active backend has a fused attention kernel registered. */
export function hasFusedAttention(): boolean {
  return hasKernel(SHIFTMIX_ATTENTION_KERNEL);
}

/**
 * Causal multi-head attention, q, k, v: [B, H, T, hd] -> [B, H, T, hd]. Runs the fused
 * kernel registered under SHIFTMIX_ATTENTION_KERNEL on the active backend when there is
 * one, else the composite reference.
 */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor, options: CausalAttentionOptions): Tensor {
  checkInputs(q, k, v, options);
  const rate = options.training ? (options.dropout ?? 0) : 0;
  const attrs: CausalAttentionKernelAttrs = {
    window: options.window ?? 0,
    dropoutRate: rate,
    seed: rate > 0 ? (options.seed ?? 0) : 0,
    scale: 1 / Math.sqrt((q.shape as number[])[3]),
  };
  return runFused(SHIFTMIX_ATTENTION_KERNEL, { q, k, v }, { ...attrs }, () => causalAttentionComposite(q, k, v, options));
}

export interface PackedAttentionKernelAttrs extends CausalAttentionKernelAttrs {
  /** Number of heads H; hd = D / H. */
  heads: number;
}

function checkPacked(qkv: Tensor, heads: number): [number, number, number] {
  const [b, t, c] = qkv.shape as number[];
  if (qkv.rank !== 3 || !(Number.isInteger(heads) && heads >= 1) || c % (3 * heads) !== 0) {
    throw new ShiftmixError(
      `packedCausalAttention needs qkv [B, T, 3D] with D a multiple of heads, got shape ${JSON.stringify(qkv.shape)} and ${heads} heads`,
      'Pass the fused projection [q | k | v] of a [B, T, D] input and a head count that divides D',
      'E_SHAPE',
    );
  }
  return [b, t, c / 3];
}

/**
 * The reference of packedCausalAttention: split [q | k | v], heads to [B, H, T, hd],
 * causalAttention, heads merged back. qkv: [B, T, 3D] -> [B, T, D].
 */
export function packedCausalAttentionComposite(qkv: Tensor, heads: number, options: CausalAttentionOptions): Tensor {
  const [b, t, d] = checkPacked(qkv, heads);
  return tf.tidy(() => {
    const [q, k, v] = tf.split(qkv, 3, -1).map((x) => x.reshape([b, t, heads, d / heads]).transpose([0, 2, 1, 3])); // [B, H, T, hd]
    const attended = causalAttention(q, k, v, options); // [B, H, T, hd]
    return attended.transpose([0, 2, 1, 3]).reshape([b, t, d]);
  });
}

/** True when the active backend has a fused packed-attention kernel registered. */
export function hasPackedAttention(): boolean {
  return hasKernel(SHIFTMIX_ATTENTION_PACKED_KERNEL);
}

/**
 * Causal multi-head attention straight from a fused projection, qkv: [B, T, 3D] ->
 * [B, T, D]: the kernel registered under SHIFTMIX_ATTENTION_PACKED_KERNEL reads the heads
 * in place (no split, no transposes); without one, the composite (which still uses the
 * backend's SHIFTMIX_ATTENTION_KERNEL when there is one).
 */
export function packedCausalAttention(qkv: Tensor, heads: number, options: CausalAttentionOptions): Tensor {
  const [, , d] = checkPacked(qkv, heads);
  checkOptions(options);
  const rate = options.training ? (options.dropout ?? 0) : 0;
  const attrs: PackedAttentionKernelAttrs = {
    window: options.window ?? 0,
    dropoutRate: rate,
    seed: rate > 0 ? (options.seed ?? 0) : 0,
    scale: 1 / Math.sqrt(d / heads),
    heads,
  };
  return runFused(SHIFTMIX_ATTENTION_PACKED_KERNEL, { qkv }, { ...attrs }, () => packedCausalAttentionComposite(qkv, heads, options));
}

/**
 * Attention of one new query per sequence over a KV cache that holds exactly the keys
 * it may see (decode step). q: [B, H, 1, hd], k, v: [B, H, S, hd] -> [B, H, 1, hd].
 */
export function cachedAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  return tf.tidy(() => {
    const hd = (q.shape as number[])[3];
    const scores = tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true).mul(1 / Math.sqrt(hd)); // [B, H, 1, S]
    return tf.matMul(tf.softmax(scores, -1) as tf.Tensor4D, v as tf.Tensor4D);
  });
}

/**
 * RoPE tables for positions start .. start + length - 1: cos and sin [length, hd], each
 * frequency base^(-2i/hd) written twice (rotate-half layout). Angles are computed in
 * double precision in JS, so a decode step at position p gets exactly the row p of the
 * full-sequence table.
 */
export function ropeTables(start: number, length: number, headDim: number, base = 10000): { cos: Tensor; sin: Tensor } {
  if (headDim % 2 !== 0) {
    throw new ShiftmixError(`RoPE needs an even head dimension, got ${headDim}`, 'Choose heads so that dim / heads is even', 'E_CONFIG');
  }
  const half = headDim / 2;
  const cos = new Float32Array(length * headDim);
  const sin = new Float32Array(length * headDim);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const angle = (start + t) * Math.pow(base, (-2 * i) / headDim);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[t * headDim + i] = cos[t * headDim + i + half] = c;
      sin[t * headDim + i] = sin[t * headDim + i + half] = s;
    }
  }
  return { cos: tf.tensor2d(cos, [length, headDim]), sin: tf.tensor2d(sin, [length, headDim]) };
}

/**
 * Rotary position embedding, rotate-half convention: x * cos + [-x2, x1] * sin, where x1
 * and x2 are the two halves of the head dimension. x: [B, H, T, hd], its positions
 * starting at `start` (0 for a full sequence, state.position in a decode step).
 */
export function applyRope(x: Tensor, start: number, base = 10000): Tensor {
  const [, , t, hd] = x.shape;
  return tf.tidy(() => {
    const { cos, sin } = ropeTables(start, t, hd, base); // [T, hd]
    const [x1, x2] = tf.split(x, 2, -1); // [B, H, T, hd / 2] each
    const rotated = tf.concat([tf.neg(x2), x1], -1);
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
  });
}
