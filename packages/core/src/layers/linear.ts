import { tf, type Tensor, type Variable } from '../tf.js';
import { withGrad } from './norm.js';

// Weights and the products that read them: variables, linear maps, the token embedding.

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

// Backends on which a one-hot matmul beats gather's UnsortedSegmentSum gradient.
const ONE_HOT_GRAD_BACKENDS = new Set(['webgpu', 'webgl']);
/** Largest vocabulary for which the one-hot gradient is used (it builds an [N, V] matrix). */
export const ONE_HOT_GRAD_MAX_VOCAB = 1024;

/**
 * table[tokens] (gather on axis 0) whose gradient is oneHot(tokens, V)^T @ dy, one matmul.
 * table: [V, D], tokens: int32 [...] -> [..., D].
 */
export function embedOneHotGrad(table: Tensor, tokens: Tensor): Tensor {
  const [vocab, dim] = table.shape as number[];
  const count = tokens.size;
  return withGrad((t, ids) => ({
    value: tf.gather(t, ids),
    gradFunc: (dy) => {
      const hot = tf.oneHot(ids.reshape([count]) as tf.Tensor1D, vocab, 1, 0, 'float32') as tf.Tensor2D; // [N, V]
      const dTable = tf.matMul(hot, dy.reshape([count, dim]) as tf.Tensor2D, true, false); // [V, D]
      return [dTable, tf.zerosLike(ids)];
    },
  }))(table, tokens);
}

/**
 * Token embedding table[tokens]: on GPU backends with a small vocabulary the gradient is
 * a one-hot matmul (embedOneHotGrad), elsewhere gather's own (UnsortedSegmentSum).
 */
export function embed(table: Tensor, tokens: Tensor): Tensor {
  const oneHot = ONE_HOT_GRAD_BACKENDS.has(tf.getBackend()) && table.shape[0] <= ONE_HOT_GRAD_MAX_VOCAB;
  return oneHot ? embedOneHotGrad(table, tokens) : tf.gather(table, tokens);
}
