import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.js';
import { tensorDifference } from './compare.js';
import { tf } from './tf.js';

describe('tensorDifference', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('finds the worst element and scales it by the expected values', async () => {
    const d = await tensorDifference(tf.tensor1d([1, 2.5, 3]), tf.tensor1d([1, 2, -4]));
    expect(d).toMatchObject({ worst: 7, at: 2, scale: 4, actualValue: 3, expectedValue: -4 });
    expect(d.relative).toBeCloseTo(7 / 5, 12);
    expect((await tensorDifference(tf.tensor1d([5, 6]), tf.tensor1d([5, 6]))).at).toBe(-1);
  });

  it('never lets a NaN hide behind later elements, and matches NaN with NaN', async () => {
    const nan = await tensorDifference(tf.tensor1d([Number.NaN, 1, 1]), tf.tensor1d([0, 1, 1]));
    expect(nan).toMatchObject({ worst: Infinity, at: 0 });
    expect((await tensorDifference(tf.tensor1d([Number.NaN, 1]), tf.tensor1d([Number.NaN, 1]))).worst).toBe(0);
    expect((await tensorDifference(tf.tensor1d([Number.POSITIVE_INFINITY]), tf.tensor1d([Number.POSITIVE_INFINITY]))).worst).toBe(0);
  });

  it('calls different shapes infinitely far apart', async () => {
    expect((await tensorDifference(tf.zeros([2, 3]), tf.zeros([3, 2]))).relative).toBe(Infinity);
  });
});
