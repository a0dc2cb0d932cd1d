import { tf, type Tensor } from '../tf.js';

/** sqrt(sum over all gradients of sum(g^2)), as a scalar tensor the caller disposes. */
export function globalNorm(grads: Iterable<Tensor>): tf.Scalar {
  return tf.tidy(() => {
    const squares = [...grads].map((g) => tf.sum(tf.square(g)));
    if (squares.length === 0) return tf.scalar(0);
    return tf.sqrt(squares.length === 1 ? squares[0] : tf.addN(squares)) as tf.Scalar;
  });
}

/**
 * The factor that brings a gradient of global norm `norm` down to `maxNorm`, as
 * PyTorch's clip_grad_norm_ computes it (1e-6 guards a zero norm); 1 when no clipping
 * is needed or `maxNorm` is 0 (clipping off).
 */
export function clipScale(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/** Clipped copies of `grads` and their global norm before clipping; the caller disposes both. */
export async function clipByGlobalNorm(grads: Map<string, Tensor>, maxNorm: number): Promise<{ grads: Map<string, Tensor>; norm: number }> {
  const normTensor = globalNorm(grads.values());
  const norm = (await normTensor.data())[0];
  normTensor.dispose();
  const scale = clipScale(norm, maxNorm);
  const clipped = new Map<string, Tensor>();
  for (const [name, g] of grads) clipped.set(name, tf.mul(g, scale));
  return { grads: clipped, norm };
}
