import { describe, expect, it } from 'vitest';
import { AdamW, crossEntropy, dropout, layerNorm, selectBackend, type Tensor, tf } from '@shiftmix/core';
import {
  ADD_LAYER_NORM,
  addLayerNorm,
  BIAS_GELU,
  BIAS_GELU_GRAD,
  biasGelu,
  CROSS_ENTROPY,
  CROSS_ENTROPY_GRAD,
  DROPOUT,
  dropoutReference,
  LAYER_NORM,
  LAYER_NORM_GRAD,
} from '@shiftmix/core/kernels';
import { expectClose, onBoth, values, withGrads } from './parity.test-util.js';

// The native training kernels under wasm against the composites on the pure-JS cpu
// backend (where no fused kernel is registered), forward and gradients.

const rowShapes = [
  [1, 1],
  [3, 5],
  [2, 7, 33],
  [64, 128],
].map((shape) => ({ shape }));

describe('native training kernels under wasm', () => {
  it.each(rowShapes)('layer norm of $shape matches the composite', async ({ shape }) => {
    const dim = shape[shape.length - 1];
    const [expected, actual] = await onBoth(
      withGrads([shape, [dim], [dim]], (x, g, b) => layerNorm(x, g, b)),
      [LAYER_NORM.name, LAYER_NORM_GRAD.name],
    );
    expectClose(actual, expected, 2e-5);
  });

  it.each(rowShapes)('residual add + layer norm of $shape matches add then layer norm', async ({ shape }) => {
    const dim = shape[shape.length - 1];
    // Both outputs feed the loss, as in a block: the sum goes on down the residual stream.
    const f = (x: Tensor, h: Tensor, g: Tensor, b: Tensor) => {
      const { sum, normed } = addLayerNorm(x, h, g, b);
      return tf.add(tf.mul(sum, 0.5), normed);
    };
    const [expected, actual] = await onBoth(withGrads([shape, shape, [dim], [dim]], f), [ADD_LAYER_NORM.name, LAYER_NORM_GRAD.name]);
    expectClose(actual, expected, 2e-5);
  });

  it.each(rowShapes)('bias + GELU of $shape matches the composite', async ({ shape }) => {
    const dim = shape[shape.length - 1];
    const [expected, actual] = await onBoth(
      withGrads([shape, [dim]], (x, b) => biasGelu(x, b)),
      [BIAS_GELU.name, BIAS_GELU_GRAD.name],
    );
    expectClose(actual, expected);
  });

  it.each([
    [[2, 0, 1, -1, 2], 3],
    [[-1, -1], 4],
    [Array.from({ length: 96 }, (_, i) => (i * 7) % 65), 65],
  ])('cross-entropy of targets %o (vocab %i, negative ignored) matches the composite', async (targets, vocab) => {
    const f = () =>
      tf.tidy(() => {
        const logits = tf.tensor(values(targets.length * vocab, 3, 4), [targets.length, vocab]);
        const t = tf.tensor1d(targets, 'int32');
        const { value, grads } = tf.valueAndGrads((l: Tensor) => crossEntropy(l as tf.Tensor2D, t))([logits]);
        return [value, ...grads].map((x) => x.dataSync() as Float32Array);
      });
    const [expected, actual] = await onBoth(f, [CROSS_ENTROPY.name, CROSS_ENTROPY_GRAD.name]);
    expectClose(actual, expected);
  });

  it('makes the loss NaN for a target beyond the vocabulary, as the composite does', async () => {
    const f = () =>
      tf.tidy(() => {
        const logits = tf.tensor(values(6, 4), [2, 3]);
        return [crossEntropy(logits as tf.Tensor2D, tf.tensor1d([1, 3], 'int32')).dataSync() as Float32Array];
      });
    const [expected, actual] = await onBoth(f, [CROSS_ENTROPY.name]);
    expect(expected[0][0]).toBeNaN();
    expect(actual[0][0]).toBeNaN();
  });

  // Three clipped updates of two weights (one decayed matrix, one vector) from the same gradients.
  async function adamwRun(backend: 'cpu' | 'wasm', lossAt?: (step: number) => number) {
    await selectBackend(backend);
    const params = new Map([
      ['w', tf.variable(tf.tensor(values(12, 1), [3, 4]))],
      ['b', tf.variable(tf.tensor(values(4, 2), [4]))],
    ]);
    const opt = new AdamW(params, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
    const reports = [];
    for (let step = 1; step <= 3; step++) {
      const grads = new Map([
        ['w', tf.tensor(values(12, 10 + step, 3), [3, 4])],
        ['b', tf.tensor(values(4, 20 + step, 3), [4])],
      ]);
      const loss = tf.scalar(lossAt ? lossAt(step) : 1);
      reports.push(await opt.clipAndApply(grads, loss, 1e-2, 1));
      tf.dispose([...grads.values(), loss]);
    }
    const out = { fused: opt.fusedOnDevice, reports, weights: [...params.values()].map((p) => p.dataSync() as Float32Array) };
    opt.dispose();
    params.forEach((p) => p.dispose());
    return out;
  }

  it('AdamW with clipping updates as the unfused optimizer does', async () => {
    const expected = await adamwRun('cpu');
    const actual = await adamwRun('wasm');
    expect([expected.fused, actual.fused]).toEqual([false, true]);
    expectClose(actual.weights, expected.weights, 1e-5);
    actual.reports.forEach((r, i) => {
      expect(r.applied).toBe(true);
      expect(r.norm).toBeCloseTo(expected.reports[i].norm, 4);
    });
  });

  it('AdamW changes nothing on a step whose loss is not finite, and stays halted', async () => {
    const expected = await adamwRun('cpu', (step) => (step === 2 ? Number.NaN : 1));
    const actual = await adamwRun('wasm', (step) => (step === 2 ? Number.NaN : 1));
    expect(actual.reports.map((r) => r.applied)).toEqual([true, false, false]);
    expect(expected.reports.map((r) => r.applied)).toEqual([true, false, false]);
    expectClose(actual.weights, expected.weights, 1e-5);
  });
});

describe('native dropout under wasm', () => {
  it.each([
    { shape: [7], rate: 0.5 },
    { shape: [3, 41], rate: 0.2 },
    { shape: [2, 64, 128], rate: 0.1 },
  ])('keeps the hash mask of dropoutReference for $shape at rate $rate, forward and gradient', async ({ shape, rate }) => {
    const f = (fused: boolean) => () =>
      tf.tidy(() => {
        const x = tf.tensor(values(tf.util.sizeFromShape(shape), 3), shape);
        const apply = (t: Tensor) => (fused ? dropout(t, rate, true, 99) : dropoutReference(t, rate, 99));
        const { value, grads } = tf.valueAndGrads((t: Tensor) => tf.sum(tf.mul(apply(t), t)))([x]);
        return [apply(x), value, ...grads].map((t) => t.dataSync() as Float32Array);
      });
    await selectBackend('cpu');
    const expected = f(false)();
    const [, actual] = await onBoth(f(true), [DROPOUT.name]);
    expectClose(actual, expected);
    // About `rate` of the elements are dropped, and none kept is changed but by the scale.
    const dropped = actual[0].filter((v) => v === 0).length / actual[0].length;
    expect(Math.abs(dropped - rate)).toBeLessThan(shape.length > 1 ? 0.05 : 0.5);
  });
});
