import { tf, type Tensor } from '../tf.js';

// GELU, which the FFN's fused bias + GELU kernel (kernels/bias-gelu.ts) must match.

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU, tanh form (GPT-2's); the ONNX export lowers the same formula. */
export function gelu(x: Tensor): Tensor {
  // x * x * x rather than tf.pow: pow and its gradient (which takes logs) are slow on wasm.
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), GELU_C);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}
