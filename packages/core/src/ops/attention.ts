import { ShiftmixError } from '../errors.js';
import { tf, type Tensor } from '../tf.js';

// The parts of attention that are not the fused kernel (kernels/attention.ts): the mask its
// composite adds, the decode step over a KV cache, and rotary positions.

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
