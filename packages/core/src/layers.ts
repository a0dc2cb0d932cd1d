import { tf, type Tensor, type Tensor3D, type Variable } from './tf.js';

/** A variable holding `initial`; the initial tensor is freed (tf.variable keeps its own copy). */
export function variableFrom(initial: Tensor): Variable {
  const v = tf.variable(initial);
  initial.dispose();
  return v;
}

/** x: [..., in] @ w: [in, out] (+ b: [out]) -> [..., out], for any rank of x. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const shape = x.shape as number[];
  const inDim = shape[shape.length - 1];
  const outDim = (w.shape as number[])[1];
  const flat = x.reshape([-1, inDim]) as tf.Tensor2D;
  let y: Tensor = tf.matMul(flat, w as tf.Tensor2D);
  if (b) y = tf.add(y, b);
  return y.reshape([...shape.slice(0, -1), outDim]);
}

/** Layer norm over the last axis, as in PyTorch (biased variance, eps 1e-5). */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const axis = x.shape.length - 1;
  const { mean, variance } = tf.moments(x, axis, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU, tanh form (GPT-2's); the ONNX export lowers the same formula. */
export function gelu(x: Tensor): Tensor {
  // x * x * x rather than tf.pow: pow and its gradient (which takes logs) are slow on wasm.
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), GELU_C);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** Inverted dropout with an explicit seed (tfjs reuses a mask when the seed repeats). */
export function dropout<T extends Tensor>(x: T, rate: number, training: boolean, seed: number): T {
  if (!training || rate <= 0) return x;
  return tf.dropout(x, rate, undefined, seed) as T;
}

/** (S_s x)[:, t] = x[:, t - s] for t >= s, else 0. x: [B, T, C]. */
export function shiftTime(x: Tensor3D, shift: number): Tensor3D {
  const [b, t, c] = x.shape;
  if (shift === 0) return x;
  if (shift >= t) return tf.zeros([b, t, c]);
  return tf.pad(x, [[0, 0], [shift, 0], [0, 0]]).slice([0, 0, 0], [b, t, c]) as Tensor3D;
}
