import { tf, type Tensor } from '../tf.js';

// The reductions under the layer norms and the loss, with gradients that broadcast on the
// device (the norms themselves are fused kernels: kernels/layer-norm.ts).

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
