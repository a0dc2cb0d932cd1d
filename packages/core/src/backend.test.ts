import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.js';
import { unsortedSegmentSumReference } from './backends/wasm-kernels.js';
import { tf } from './tf.js';

describe('backends', () => {
  it('runs the gather gradient on wasm through the added UnsortedSegmentSum kernel, matching cpu', async () => {
    const run = () => {
      const table = tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ]);
      const ids = tf.tensor1d([1, 3, 1, 0, 1], 'int32');
      const grad = tf.grad((t: tf.Tensor) =>
        tf
          .gather(t, ids)
          .mul(tf.range(0, 10).reshape([5, 2]))
          .sum(),
      )(table);
      return grad.arraySync() as number[][];
    };
    await selectBackend('cpu');
    const onCpu = run();
    const info = await selectBackend('wasm');
    expect(info.backend).toBe('wasm');
    expect(run()).toEqual(onCpu);
    expect(onCpu[1]).toEqual([0 + 4 + 8, 1 + 5 + 9]);
  });

  it('sums segments and drops ids out of range in the reference', () => {
    const out = unsortedSegmentSumReference([1, 2, 3, 4, 5, 6], [3, 2], [2, 0, 5], 3);
    expect(Array.from(out)).toEqual([3, 4, 0, 0, 1, 2]);
  });

  it('explains how to get the tensorflow backend when no tfjs-node is installed', async () => {
    await expect(selectBackend('tensorflow')).rejects.toThrow(/npm install @tensorflow\/tfjs-node/);
  });
});

describe('wasm matmul with transposes', () => {
  it('matches cpu for every transpose combination and batch broadcasting', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[5, 3], [3, 4], false, false],
      [[3, 5], [3, 4], true, false],
      [[5, 3], [4, 3], false, true],
      [[3, 5], [4, 3], true, true],
      [[2, 3, 5], [2, 4, 3], true, true],
      [[2, 5, 3], [3, 4], false, false],
    ];
    const run = () =>
      cases.map(([sa, sb, ta, tb], i) => {
        const a = tf.randomNormal(sa, 0, 1, 'float32', 10 + i);
        const b = tf.randomNormal(sb, 0, 1, 'float32', 20 + i);
        return Array.from(tf.matMul(a, b, ta, tb).dataSync());
      });
    await selectBackend('cpu');
    const onCpu = run();
    await selectBackend('wasm');
    const onWasm = run();
    onCpu.forEach((expected, i) => expected.forEach((v, j) => expect(onWasm[i][j]).toBeCloseTo(v, 4)));
  });
});
