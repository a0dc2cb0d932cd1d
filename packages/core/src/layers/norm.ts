import { runFused } from '../kernels/dispatch.js';
import { ADD_LAYER_NORM_KERNEL, LAYER_NORM_KERNEL } from '../kernels/names.js';
import { tf, type Tensor } from '../tf.js';

// Layer norms and the reductions under them, with gradients that broadcast on the device.

type GradFn = (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[];

/** tf.customGrad with the loose typing its callers here need. */
export function withGrad(f: (...inputs: Tensor[]) => { value: Tensor; gradFunc: GradFn }): (...inputs: Tensor[]) => Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (...inputs: Tensor[]) => Tensor;
}

/**
 * Mean over the last axis, kept: x [..., D] -> [..., 1]. Same value as tf.mean, but the
 * gradient is dy / D broadcast by the backend (Tile); tfjs-core's Mean gradient multiplies
 * by `ones(x.shape)`, an array built on the host and uploaded on every backward pass.
 */
export function meanLastAxis(x: Tensor): Tensor {
  const shape = x.shape as number[];
  const n = shape[shape.length - 1];
  return withGrad((input) => ({
    value: tf.mean(input, -1, true),
    gradFunc: (dy) => tf.broadcastTo(tf.div(dy, n), shape),
  }))(x);
}

/** Sum of every element, a scalar; like meanLastAxis, its gradient is a device-side broadcast of dy. */
export function sumAll(x: Tensor): tf.Scalar {
  const shape = x.shape as number[];
  return withGrad((input) => ({
    value: tf.sum(input),
    gradFunc: (dy) => tf.broadcastTo(dy.reshape(shape.map(() => 1)), shape),
  }))(x) as tf.Scalar;
}

/** Whether x (float32) comes with per-channel [D] vectors: what the row kernels take. */
export function rowsFit(x: Tensor, ...vectors: Tensor[]): boolean {
  const dim = (x.shape as number[])[x.rank - 1];
  return x.rank >= 1 && x.dtype === 'float32' && vectors.every((v) => v.rank === 1 && v.shape[0] === dim && v.dtype === 'float32');
}

/** Composite layer norm over the last axis, never dispatched to a fused kernel. */
export function layerNormReference(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const centered = tf.sub(x, meanLastAxis(x)); // [..., D]
  const variance = meanLastAxis(tf.square(centered)); // [..., 1]
  return tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

/**
 * Layer norm over the last axis, as in PyTorch (biased variance, eps 1e-5). x: [..., D],
 * gamma, beta: [D]. One fused kernel when the backend registers LAYER_NORM_KERNEL,
 * else the composite (layerNormReference).
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return runFused(LAYER_NORM_KERNEL, { x, gamma, beta }, { eps }, () => layerNormReference(x, gamma, beta, eps), rowsFit(x, gamma, beta));
}

/**
 * The residual add and the layer norm that follows it: sum = x + h, normed = LN(sum).
 * x, h: [..., D], gamma, beta: [D]. One kernel writes both when the backend registers
 * ADD_LAYER_NORM_KERNEL; elsewhere tf.add then layerNorm, the same values as before.
 */
export function addLayerNorm(x: Tensor, h: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): { sum: Tensor; normed: Tensor } {
  const fits = rowsFit(x, gamma, beta) && h.dtype === 'float32' && tf.util.arraysEqual(x.shape, h.shape);
  // Without the fused kernel: the add, then layerNorm (which may still run fused).
  const unfused = (): Tensor[] => {
    const sum = tf.add(x, h);
    return [sum, layerNorm(sum, gamma, beta, eps)];
  };
  const [sum, normed] = runFused(ADD_LAYER_NORM_KERNEL, { x, h, gamma, beta }, { eps }, unfused, fits);
  return { sum, normed };
}

/** Composite of addLayerNorm, never dispatched to a fused kernel: tf.add then layerNormReference. */
export function addLayerNormReference(x: Tensor, h: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): [Tensor, Tensor] {
  const sum = tf.add(x, h);
  return [sum, layerNormReference(sum, gamma, beta, eps)];
}
