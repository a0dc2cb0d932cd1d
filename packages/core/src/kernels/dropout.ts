import { tf, type Tensor } from '../tf.js';
import { dropoutHash, dropoutScale, dropoutThreshold } from './dropout-hash.js';
import { defineKernel, type FusedKernel } from './kernel.js';
import { normal, type ParityCheck } from './parity.js';

// Inverted dropout whose mask is a hash of (seed, index): the same mask on every backend
// that implements it, and no mask tensor to keep for the backward, which is the same
// kernel on dy.

type DropoutAttrs = { rate: number; seed: number };

/** The kernel's values from tfjs ops: the hash mask made on the host. */
export function dropoutReference(x: Tensor, rate: number, seed: number): Tensor {
  const threshold = dropoutThreshold(rate);
  const scale = dropoutScale(rate);
  const mask = Float32Array.from({ length: x.size }, (_, i) => (dropoutHash(seed, i) >= threshold ? scale : 0));
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape)));
}

// [2, 8, 12]: the vec4 path; [3, 5, 7]: the scalar path. The kernel multiplies x by the f32
// scale once, as the reference does, so both are exact (tolerance 0).
const CASES = [
  { shape: [2, 8, 12], rate: 0.3, seed: 1234 },
  { shape: [3, 5, 7], rate: 0.25, seed: 99 },
];

export const DROPOUT: FusedKernel<DropoutAttrs> = defineKernel<DropoutAttrs>({
  name: 'ShiftmixDropout',
  summary: 'inverted dropout whose mask is a hash of (seed, index); its gradient is itself on dy',
  inputs: { x: 'float32, any shape' },
  attrs: { rate: 'in [0, 1)', seed: 'the mask seed' },
  outputs: { y: 'x * keep / (1 - rate)' },
  shapes: ({ x }) => [x],
  reference: ({ x }, { rate, seed }) => dropoutReference(x, rate, seed),
  // Without the kernel, tf.dropout: its mask is drawn on the host and differs for the same seed.
  composite: ({ x }, { rate, seed }) => tf.dropout(x, rate, undefined, seed),
  fits: ({ x }, { rate }) => rate < 1 && x.dtype === 'float32',
  gradient: {
    backward: ([dy], _saved, attrs) => ({ x: () => DROPOUT.call({ x: dy }, attrs) }),
  },
  checks: () =>
    CASES.map(({ shape, rate, seed }): ParityCheck => ({
      name: `dropout ${JSON.stringify(shape)} rate ${rate} seed ${seed}`,
      kernels: [DROPOUT.name],
      run() {
        const x = tf.add(tf.abs(normal(shape, 1)), 0.5);
        const w = normal(shape, 3);
        const mask = dropoutReference(tf.onesLike(x), rate, seed);
        const [dx] = tf.grads((t: Tensor) => tf.sum(tf.mul(dropout(t, rate, true, seed), w)))([x]);
        return [
          { what: 'forward vs the JS hash', got: dropout(x, rate, true, seed), want: tf.mul(x, mask), tol: 0 },
          { what: 'dx vs the JS hash', got: dx, want: tf.mul(w, mask), tol: 0 },
        ];
      },
    })),
});

/**
 * Inverted dropout with an explicit seed: the same seed gives the same mask. Where the
 * backend implements DROPOUT (webgpu, and wasm with @shiftmix/native) the mask is a hash of
 * (seed, index), the same on both (dropoutReference); elsewhere it is tf.dropout's.
 */
export function dropout<T extends Tensor>(x: T, rate: number, training: boolean, seed: number): T {
  if (!training || rate <= 0) return x;
  return DROPOUT.run<T>({ x }, { rate, seed });
}
