import { describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { tf } from '../tf.js';
import { unsortedSegmentSumReference } from './wasm-kernels.js';

// The cpu backend's UnsortedSegmentSum is core's linear loop (tfjs's copies the input per
// segment): the gradient of gather, with the shapes that reach it.
describe("the cpu backend's UnsortedSegmentSum", () => {
  it.each([
    ['rows', [5, 3], [0, 2, 2, 4, 1], 6],
    ['one row', [1, 4], [2], 3],
    ['a vector', [4], [1, 1, 0, 3], 4],
    ['a size-1 inner axis', [3, 1, 2], [0, 0, 1], 2],
  ])('sums %s as the reference does', async (_name, shape, ids, segments) => {
    await selectBackend('cpu');
    const size = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: size }, (_, i) => i + 1);
    const got = tf.unsortedSegmentSum(tf.tensor(values, shape), tf.tensor1d(ids, 'int32'), segments);
    expect(got.shape).toEqual([segments, ...shape.slice(1)]);
    expect(Array.from(await got.data())).toEqual(Array.from(unsortedSegmentSumReference(values, shape, ids, segments, 1)));
    got.dispose();
  });

  it('gives gather its gradient at a large vocabulary in bounded time', async () => {
    await selectBackend('cpu');
    const table = tf.variable(tf.zeros([50257, 4]));
    const ids = tf.tensor2d([[1, 50256, 1]], [1, 3], 'int32');
    const { grads } = tf.variableGrads(() => tf.sum(tf.gather(table, ids)) as tf.Scalar, [table]);
    const grad = await grads[table.name].data();
    expect([grad[4], grad[50256 * 4], grad[0]]).toEqual([2, 1, 0]);
    tf.dispose([table, ids, grads[table.name]]);
  });
});
