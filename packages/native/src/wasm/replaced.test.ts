import { beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../index.js';
import { Rng, selectBackend, tf } from '@shiftmix/core';

// tfjs kernels the wasm backend replaces (BatchMatMul, Sum, GatherV2, Slice, SplitV, Concat,
// UnsortedSegmentSum), against the
// pure-JS cpu backend, on the cases they take and on those they leave to tfjs.

interface Case {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

const cases: Case[] = [
  { a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  { a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
  { a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
  { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
  { a: [4, 6, 9], b: [4, 9, 2], transposeA: false, transposeB: false },
  { a: [4, 9, 6], b: [4, 2, 9], transposeA: true, transposeB: true },
  { a: [1, 6, 9], b: [4, 9, 2], transposeA: false, transposeB: false },
  { a: [4, 6, 9], b: [9, 2], transposeA: false, transposeB: false },
  { a: [2, 3, 5, 8], b: [2, 3, 8, 5], transposeA: false, transposeB: false },
  { a: [0, 4], b: [4, 3], transposeA: false, transposeB: false },
  { a: [3, 0], b: [0, 2], transposeA: false, transposeB: false },
  { a: [96, 130], b: [130, 67], transposeA: false, transposeB: false },
];

function values(shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.next() * 2 - 1);
}

function product(c: Case): { shape: number[]; data: Float32Array } {
  return tf.tidy(() => {
    const y = tf.matMul(tf.tensor(values(c.a, 1), c.a), tf.tensor(values(c.b, 2), c.b), c.transposeA, c.transposeB);
    return { shape: y.shape, data: y.dataSync() as Float32Array };
  });
}

// The replacements come with the native kernels; without the built addon, say why first.
beforeAll(async () => {
  await selectBackend('wasm');
  expect(loadNative().reason).toBeUndefined();
});

// f on cpu (the reference), then on wasm: the same shape and values.
async function bothWays(f: () => { shape: number[]; data: ArrayLike<number> }): Promise<void> {
  await selectBackend('cpu');
  const expected = f();
  await selectBackend('wasm');
  const actual = f();
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.data.length).toBe(expected.data.length);
  for (let i = 0; i < expected.data.length; i++) expect(actual.data[i]).toBeCloseTo(expected.data[i], 4);
}

describe('BatchMatMul under wasm', () => {
  it.each(cases)('matches cpu for %o', async (c) => {
    await bothWays(() => product(c));
  });

  it('overwrites the output even when the heap held NaN there before', async () => {
    await selectBackend('wasm');
    // Fill freed heap memory with NaN; a GEMM that accumulated into its output would keep it.
    tf.tidy(() => tf.fill([64, 64], Number.NaN).dataSync());
    const y = tf.tidy(() => tf.matMul(tf.ones([64, 8]), tf.ones([8, 64])).dataSync());
    expect(Array.from(y).every((v) => v === 8)).toBe(true);
  });

  it('leaves batch shapes that broadcast on both sides to tfjs', async () => {
    await bothWays(() => product({ a: [2, 1, 3, 4], b: [1, 3, 4, 2], transposeA: false, transposeB: false }));
  });
});

describe('Sum and GatherV2 under wasm', () => {
  it.each([
    { shape: [6, 5], axis: 0, keepDims: false },
    { shape: [2, 3, 4], axis: [0, 1], keepDims: false },
    { shape: [2, 3, 4], axis: [1, 0], keepDims: true },
    { shape: [2, 3, 4], axis: 1, keepDims: false },
    { shape: [2, 3, 4], axis: -1, keepDims: true },
    { shape: [2, 3], axis: [0, 1], keepDims: false },
  ])('sums %o as cpu does', async ({ shape, axis, keepDims }) => {
    await bothWays(() =>
      tf.tidy(() => {
        const y = tf.sum(tf.tensor(values(shape, 3), shape), axis, keepDims);
        return { shape: y.shape, data: y.dataSync() };
      }),
    );
  });

  it.each([
    { table: [5, 3], ids: [4, 0, 0, 2], axis: 0 },
    {
      table: [5, 3],
      ids: [
        [1, 2],
        [3, 4],
      ],
      axis: 0,
    },
    { table: [5, 3], ids: [2, 0], axis: 1 },
  ])('gathers $ids from $table on axis $axis as cpu does', async ({ table, ids, axis }) => {
    await bothWays(() =>
      tf.tidy(() => {
        const y = tf.gather(tf.tensor(values(table, 4), table), tf.tensor(ids, undefined, 'int32'), axis);
        return { shape: y.shape, data: y.dataSync() };
      }),
    );
  });

  it('refuses a token id outside the table with the id named', async () => {
    await selectBackend('wasm');
    expect(() => tf.tidy(() => tf.gather(tf.zeros([4, 2]), tf.tensor1d([1, 4], 'int32')).dataSync())).toThrow(/index 4 is outside the table of 4 rows/);
  });
});

describe('Slice under wasm', () => {
  it.each([
    { shape: [7], begin: [2], size: [4] },
    { shape: [3, 8], begin: [0, 4], size: [3, 4] },
    { shape: [3, 8], begin: [1, 0], size: [-1, 8] },
    { shape: [2, 5, 6], begin: [0, 1, 2], size: [2, 3, 3] },
    { shape: [2, 3, 4, 5], begin: [1, 0, 2, 1], size: [1, 3, 2, 4] },
    { shape: [4, 4], begin: [1, 1], size: [0, 2] },
    { shape: [2, 3, 4, 5], begin: [0, 0, 0, 0], size: [2, 3, 4, 5] },
    { shape: [2, 3, 4, 5], begin: [1, 1, 0, 0], size: [1, 2, 4, 5] },
    { shape: [3, 4, 2, 5], begin: [1, 2, 1, 0], size: [2, 2, 1, 5] },
    { shape: [5, 6], begin: [2, 0], size: [2, 6] },
  ])('slices $size at $begin of $shape as cpu does', async ({ shape, begin, size }) => {
    await bothWays(() =>
      tf.tidy(() => {
        const y = tf.slice(tf.tensor(values(shape, 5), shape), begin, size);
        return { shape: y.shape, data: y.dataSync() };
      }),
    );
  });

  it.each([
    { shape: [3, 8], splits: [5, 3], axis: 1 },
    { shape: [2, 4, 6], splits: 2, axis: 2 },
    { shape: [6, 2], splits: [1, -1, 2], axis: 0 },
  ])('splits $shape into $splits on axis $axis as cpu does', async ({ shape, splits, axis }) => {
    await bothWays(() =>
      tf.tidy(() => {
        const parts = tf.split(tf.tensor(values(shape, 6), shape), splits, axis);
        return { shape: parts.flatMap((p) => p.shape), data: parts.flatMap((p) => Array.from(p.dataSync())) };
      }),
    );
  });

  it('slices int32 as cpu does', async () => {
    await bothWays(() =>
      tf.tidy(() => {
        const y = tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]);
        return { shape: y.shape, data: y.dataSync() };
      }),
    );
  });
});

describe('Concat and UnsortedSegmentSum under wasm', () => {
  it.each([
    {
      shapes: [
        [4, 3, 5],
        [4, 3, 2],
      ],
      axis: 2,
    },
    {
      shapes: [
        [2, 3],
        [2, 1],
        [2, 4],
      ],
      axis: 1,
    },
    {
      shapes: [
        [2, 3, 4],
        [1, 3, 4],
      ],
      axis: 0,
    },
    {
      shapes: [
        [2, 1, 3],
        [2, 4, 3],
        [2, 0, 3],
      ],
      axis: 1,
    },
    { shapes: [[3, 2]], axis: 0 },
  ])('concatenates $shapes on axis $axis as cpu does', async ({ shapes, axis }) => {
    await bothWays(() =>
      tf.tidy(() => {
        const y = tf.concat(
          shapes.map((shape, k) => tf.tensor(values(shape, 7 + k), shape)),
          axis,
        );
        return { shape: y.shape, data: y.dataSync() };
      }),
    );
  });

  it('concatenates int32 bit for bit', async () => {
    await bothWays(() =>
      tf.tidy(() => {
        const y = tf.concat([tf.tensor2d([1, -2, 3, 2 ** 30], [2, 2], 'int32'), tf.tensor2d([7, 8], [2, 1], 'int32')], 1);
        return { shape: y.shape, data: y.dataSync() };
      }),
    );
  });

  it.each([
    { shape: [6, 4], ids: [0, 2, 2, 1, 0, 2], segments: 3 },
    { shape: [4, 2, 3], ids: [4, 0, 4, 1], segments: 5 },
  ])('sums rows of $shape into $segments segments as cpu does', async ({ shape, ids, segments }) => {
    await bothWays(() =>
      tf.tidy(() => {
        const y = tf.unsortedSegmentSum(tf.tensor(values(shape, 9), shape), tf.tensor1d(ids, 'int32'), segments);
        return { shape: y.shape, data: y.dataSync() };
      }),
    );
  });

  it('skips ids outside the table, as the embedding gradient needs', async () => {
    await selectBackend('wasm');
    const y = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor1d([1, 7, -1], 'int32'), 2));
    expect(Array.from(await y.data())).toEqual([0, 0, 1, 2]);
    y.dispose();
  });
});

describe('Identity under wasm', () => {
  it('shares the buffer of the tensor it copies, which outlives the original', async () => {
    await selectBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
  });
});
