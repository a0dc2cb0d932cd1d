import { ShiftmixError } from '../errors.js';
import { sumAll } from '../layers/norm.js';
import { tf, type Tensor, type Tensor1D, type Tensor2D } from '../tf.js';
import { CROSS_ENTROPY_CASES, crossEntropySeed, crossEntropyTensors, describeCrossEntropyCase } from './cross-entropy-cases.js';
import { defineKernel, type FusedKernel } from './kernel.js';
import { takeForGradient } from './saved.js';
import type { ParityCheck } from './parity.js';

// The loss: mean cross-entropy of the logits against the targets, in a few launches
// instead of some 30 ops. The forward keeps each row's statistics for the backward.

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

const check = (c: (typeof CROSS_ENTROPY_CASES)[number], seed: number): ParityCheck => ({
  name: `crossEntropy ${describeCrossEntropyCase(c)}`,
  kernels: [CROSS_ENTROPY.name, CROSS_ENTROPY_GRAD.name],
  run() {
    const { logits, targets } = crossEntropyTensors(c, seed);
    // dy = 2.5, so the gradient's scaling by dy is checked too.
    const lossAndGrad = (f: typeof crossEntropy) => tf.valueAndGrads((l: Tensor) => tf.mul(f(l as Tensor2D, targets), 2.5))([logits]);
    const got = lossAndGrad(crossEntropy);
    const want = lossAndGrad(crossEntropyComposite);
    return [
      { what: 'loss', got: got.value, want: want.value, tol: 1e-5 },
      { what: 'dlogits', got: got.grads[0], want: want.grads[0], tol: 1e-5 },
    ];
  },
});

export const CROSS_ENTROPY: FusedKernel<Record<string, never>> = defineKernel<Record<string, never>>({
  name: 'ShiftmixCrossEntropy',
  summary: 'mean cross-entropy over rows with 0 <= target < V (negative targets ignored, one >= V makes it NaN)',
  inputs: { logits: 'float32 [N, V]', targets: 'int32 [N]' },
  attrs: {},
  outputs: { loss: '[]' },
  shapes: () => [[]],
  reference: ({ logits, targets }) => crossEntropyComposite(logits as Tensor2D, targets as Tensor1D),
  backward: {
    name: 'ShiftmixCrossEntropyGrad',
    summary: 'dlogits = dy (softmax(logits) - onehot(target)) / valid rows, zero on ignored rows',
    inputs: { dy: 'float32 []', logits: 'float32 [N, V]', targets: 'int32 [N]', stats: "optional, the forward's row statistics" },
    outputs: { dlogits: '[N, V]' },
    shapes: ({ logits }) => [logits],
  },
  gradient: {
    inputs: ['logits', 'targets'],
    outputs: [true],
    backward: ([dy], { inputs: [logits, targets], outputs: [loss] }, _attrs, backward) => {
      const stats = takeForGradient(loss);
      const dlogits = backward.call({ dy, logits, targets, ...(stats ? { stats } : {}) }, {});
      // Targets are integers: tfjs asks for their gradient only if a caller differentiates them.
      return { logits: () => dlogits, targets: () => tf.zerosLike(targets) };
    },
  },
  checks: () => CROSS_ENTROPY_CASES.map((c, i) => check(c, crossEntropySeed(i))),
});

export const CROSS_ENTROPY_GRAD: FusedKernel<Record<string, never>> = CROSS_ENTROPY.backward!;

/**
 * Mean cross-entropy in nats: -mean log softmax(logits)[n, targets[n]] over the valid rows.
 * logits: [N, V], targets: int32 [N] -> scalar.
 *
 * Targets below 0 are ignored (e.g. unqueried positions); the mean divides by
 * max(valid count, 1), so a batch with every target ignored has loss 0 and zero gradients.
 * A target >= V is a data error (a tokenizer that does not match the model): it makes the
 * loss and every gradient NaN, which the trainer reports as a non-finite loss.
 */
export function crossEntropy(logits: Tensor2D, targets: Tensor1D): tf.Scalar {
  checkLossInputs(logits, targets);
  return CROSS_ENTROPY.run<tf.Scalar>({ logits, targets }, {});
}
