import { runFused } from '../kernels/dispatch.js';
import { dropoutHash, dropoutScale, dropoutThreshold } from '../kernels/dropout-hash.js';
import { BIAS_GELU_KERNEL, DROPOUT_KERNEL } from '../kernels/names.js';
import { tf, type Tensor } from '../tf.js';
import { rowsFit } from './norm.js';

// Elementwise layers: GELU with its bias, and dropout.

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU, tanh form (GPT-2's); the ONNX export lowers the same formula. */
export function gelu(x: Tensor): Tensor {
  // x * x * x rather than tf.pow: pow and its gradient (which takes logs) are slow on wasm.
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), GELU_C);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** Composite gelu(x + b), never dispatched to a fused kernel. */
export function biasGeluReference(x: Tensor, b: Tensor): Tensor {
  return gelu(tf.add(x, b));
}

/**
 * gelu(x + b), x: [..., H], b: [H]: one elementwise kernel when the backend registers
 * BIAS_GELU_KERNEL, else tf.add then gelu (the values of linear(x, w, b) then gelu).
 */
export function biasGelu(x: Tensor, b: Tensor): Tensor {
  return runFused(BIAS_GELU_KERNEL, { x, b }, {}, () => biasGeluReference(x, b), rowsFit(x, b));
}

/**
 * Inverted dropout with an explicit seed: the same seed gives the same mask. When the
 * backend registers DROPOUT_KERNEL (webgpu, and wasm with @shiftmix/native) the mask is a
 * hash of (seed, index), the same on both (dropoutReference); elsewhere it is tf.dropout,
 * whose mask is drawn on the host and differs for the same seed.
 */
export function dropout<T extends Tensor>(x: T, rate: number, training: boolean, seed: number): T {
  if (!training || rate <= 0) return x;
  return runFused(DROPOUT_KERNEL, { x }, { rate, seed }, () => tf.dropout(x, rate, undefined, seed) as T, rate < 1 && x.dtype === 'float32');
}

/** DROPOUT_KERNEL's values from tfjs ops: the hash mask (dropoutHash) made on the host. */
export function dropoutReference(x: Tensor, rate: number, seed: number): Tensor {
  const threshold = dropoutThreshold(rate);
  const scale = dropoutScale(rate);
  const mask = Float32Array.from({ length: x.size }, (_, i) => (dropoutHash(seed, i) >= threshold ? scale : 0));
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape)));
}
