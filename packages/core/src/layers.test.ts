import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.js';
import { embed, embedOneHotGrad, layerNorm, meanLastAxis, sumAll } from './layers.js';
import { tf, type Tensor } from './tf.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

function maxAbsDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** The previous layer norm, through tf.moments (tfjs-core's Mean gradient). */
function layerNormMoments(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const { mean, variance } = tf.moments(x, x.shape.length - 1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

describe('device-side reductions', () => {
  it('meanLastAxis and sumAll match tf.mean and tf.sum in value and gradient', () => {
    const x = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([2, 3, 1], 0, 1, 'float32', 2);
    expect(maxAbsDiff(meanLastAxis(x), tf.mean(x, -1, true))).toBeLessThan(1e-6);
    const [gotMean] = tf.grads((t: Tensor) => tf.sum(tf.mul(meanLastAxis(t), w)))([x]);
    const [wantMean] = tf.grads((t: Tensor) => tf.sum(tf.mul(tf.mean(t, -1, true), w)))([x]);
    expect(maxAbsDiff(gotMean, wantMean)).toBeLessThan(1e-6);
    const wx = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 3);
    expect(Math.abs(sumAll(x).dataSync()[0] - tf.sum(x).dataSync()[0])).toBeLessThan(1e-5);
    const [gotSum] = tf.grads((t: Tensor) => tf.mul(sumAll(tf.mul(t, wx)), 3))([x]);
    const [wantSum] = tf.grads((t: Tensor) => tf.mul(tf.sum(tf.mul(t, wx)), 3))([x]);
    expect(maxAbsDiff(gotSum, wantSum)).toBeLessThan(1e-6);
  });

  it('layerNorm equals the tf.moments composite in value and in all three gradients', () => {
    const dim = 7;
    const x = tf.randomNormal([3, 4, dim], 0.5, 2, 'float32', 4);
    const gamma = tf.randomNormal([dim], 1, 0.3, 'float32', 5);
    const beta = tf.randomNormal([dim], 0, 0.3, 'float32', 6);
    const w = tf.randomNormal([3, 4, dim], 0, 1, 'float32', 7); // makes dy differ per element
    expect(maxAbsDiff(layerNorm(x, gamma, beta), layerNormMoments(x, gamma, beta))).toBeLessThan(1e-5);
    const loss = (ln: typeof layerNorm) => (a: Tensor, g: Tensor, b: Tensor) => tf.sum(tf.mul(ln(a, g, b), w));
    const got = tf.grads(loss(layerNorm))([x, gamma, beta]);
    const want = tf.grads(loss(layerNormMoments))([x, gamma, beta]);
    got.forEach((g, i) => expect(maxAbsDiff(g, want[i]), `gradient ${i}`).toBeLessThan(1e-5));
  });
});

describe('embedding with a one-hot gradient', () => {
  it('has gather values and the gradient of gather, repeated tokens included', () => {
    const table = tf.randomNormal([11, 6], 0, 1, 'float32', 8);
    const tokens = tf.tensor2d(
      [
        [1, 4, 4, 0],
        [10, 1, 1, 1],
      ],
      [2, 4],
      'int32',
    );
    const w = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 9);
    expect(maxAbsDiff(embedOneHotGrad(table, tokens), tf.gather(table, tokens))).toBe(0);
    const [got] = tf.grads((t: Tensor) => tf.sum(tf.mul(embedOneHotGrad(t, tokens), w)))([table]);
    const [want] = tf.grads((t: Tensor) => tf.sum(tf.mul(tf.gather(t, tokens), w)))([table]);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    expect(got.slice([2, 0], [1, 6]).abs().max().dataSync()[0]).toBe(0); // token 2 never appears
  });

  it('embed keeps gather on cpu', () => {
    const table = tf.randomNormal([5, 3], 0, 1, 'float32', 10);
    const tokens = tf.tensor1d([0, 4, 2], 'int32');
    expect(maxAbsDiff(embed(table, tokens), tf.gather(table, tokens))).toBe(0);
  });
});
