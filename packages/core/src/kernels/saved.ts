import { tf, type Tensor } from '../tf.js';

// What a fused forward kernel computed for its backward (attention's logsumexp, the loss's
// row statistics), keyed by the forward output's dataId until the gradient takes it. A
// kernel's outputs are its contract with the ops, so these travel beside them; an output
// never differentiated releases its entry when the tensor is collected.
const saved = new WeakMap<object, tf.TensorInfo>();
const release = new FinalizationRegistry<() => void>((free) => free());

// A planned step (train/plan) sees these too: a trace records them as the kernel's hidden
// outputs, and a replay keeps them (the observer returns true) for the calls that read them.
let observer: ((extra: tf.TensorInfo) => boolean) | undefined;

/** Sets (or, with undefined, clears) what is told of every tensor kept for a gradient. */
export function observeKeptForGradient(fn: ((extra: tf.TensorInfo) => boolean) | undefined): void {
  observer = fn;
}

function recording(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

/**
 * Keeps `extra` for the gradient of forward output `output` while a tape records, else
 * frees it at once. `free` releases extra's memory on its backend.
 */
export function keepForGradient(output: tf.TensorInfo, extra: tf.TensorInfo, free: () => void): void {
  if (observer?.(extra)) return;
  if (!recording()) return free();
  saved.set(output.dataId, extra);
  release.register(output.dataId, free, output.dataId);
}

/** What keepForGradient kept for forward output `output`, as a tensor of the current scope, if anything. */
export function takeForGradient(output: Tensor): Tensor | undefined {
  const info = saved.get(output.dataId);
  if (!info) return undefined;
  saved.delete(output.dataId);
  release.unregister(output.dataId);
  return tf.engine().makeTensorFromTensorInfo(info);
}
