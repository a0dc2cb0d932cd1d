import { ShiftmixError } from './errors.js';
import { sumAll } from './layers.js';
import { runFused } from './kernels/dispatch.js';
import { CROSS_ENTROPY_KERNEL } from './kernels/names.js';
import { tf, type Tensor1D, type Tensor2D } from './tf.js';

export { CROSS_ENTROPY_KERNEL };

function checkLossInputs(logits: Tensor2D, targets: Tensor1D): void {
  const ok =
    logits?.rank === 2 &&
    logits.dtype === 'float32' &&
    logits.shape[1] >= 1 &&
    targets?.rank === 1 &&
    targets.dtype === 'int32' &&
    targets.shape[0] === logits.shape[0];
  if (!ok) {
    const describe = (t: tf.Tensor | undefined) => (t ? `${t.dtype} [${t.shape.join(', ')}]` : 'nothing');
    throw new ShiftmixError(
      `crossEntropy needs float32 logits [N, V] with V >= 1 and int32 targets [N], got logits ${describe(logits)} and targets ${describe(targets)}`,
      'Flatten the batch first: logits.reshape([-1, V]) and targets.reshape([-1])',
      'E_INPUT',
    );
  }
}

/**
 * Mean cross-entropy in nats: -mean log softmax(logits)[n, targets[n]] over the valid rows.
 * logits: [N, V], targets: int32 [N] -> scalar.
 *
 * Targets below 0 are ignored (e.g. unqueried positions); the mean divides by
 * max(valid count, 1), so a batch with every target ignored has loss 0 and zero gradients.
 * A target >= V is a data error (a tokenizer that does not match the model): it makes the
 * loss and every gradient NaN, which the trainer reports as a non-finite loss.
 *
 * When the active backend registers CROSS_ENTROPY_KERNEL the loss and its gradient are
 * that kernel's (a few launches instead of some 30 ops); elsewhere crossEntropyComposite.
 */
export function crossEntropy(logits: Tensor2D, targets: Tensor1D): tf.Scalar {
  checkLossInputs(logits, targets);
  return runFused(CROSS_ENTROPY_KERNEL, { logits, targets }, {}, () => crossEntropyComposite(logits, targets));
}

/** crossEntropy from tfjs ops on any backend: the reference the fused kernels are tested against. */
export function crossEntropyComposite(logits: Tensor2D, targets: Tensor1D): tf.Scalar {
  checkLossInputs(logits, targets);
  return tf.tidy(() => {
    const vocab = logits.shape[1];
    const logp = tf.logSoftmax(logits); // [N, V]
    const valid = tf.greaterEqual(targets, 0);
    const inRange = tf.less(targets, vocab);
    // Picks logp[n, y_n] from the flat [N * V] view: no [N, V] one-hot for large vocabularies.
    const index = tf.add(tf.range(0, targets.size * vocab, vocab, 'int32'), tf.where(tf.logicalAnd(valid, inRange), targets, tf.zerosLike(targets)));
    // 1 for valid rows, 0 for ignored ones, NaN for targets >= V (so the mean is NaN).
    const mask = tf.where(inRange, tf.cast(valid, 'float32'), tf.fill(targets.shape, Number.NaN));
    const picked = sumAll(tf.mul(tf.gather(logp.reshape([-1]), index), mask));
    return tf.div(tf.neg(picked), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}
