import { tf } from '../tf.js';

/**
 * Runs the fused kernel `name` when the active backend registers it and `fits` (the inputs
 * suit it: dtypes, shapes), else `reference()`, the composite it must match. The one way
 * core's ops reach a backend's fused kernels.
 */
export function runFused<T extends tf.Tensor | tf.Tensor[]>(
  name: string,
  inputs: tf.NamedTensorMap,
  attrs: Record<string, unknown>,
  reference: () => T,
  fits = true,
): T {
  if (fits && hasKernel(name)) return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as T;
  return reference();
}

/** True when the active backend registers the kernel `name`. */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
