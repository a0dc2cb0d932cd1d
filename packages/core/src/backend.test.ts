import { describe, expect, it } from 'vitest';
import { chooseAuto, selectBackend, type BackendProvider } from './backend.js';
import { unsortedSegmentSumReference } from './backends/wasm-kernels.js';
import { tf } from './tf.js';

/** A webgpu provider whose probe answers `probe`; activate is never reached by chooseAuto. */
function fakeProvider(probe: Awaited<ReturnType<BackendProvider['probe']>> | Error): BackendProvider {
  return {
    probe: () => (probe instanceof Error ? Promise.reject(probe) : Promise.resolve(probe)),
    activate: () => Promise.reject(new Error('not in this test')),
  };
}

describe('auto', () => {
  it('takes a hardware adapter, never a software one, and says why wasm won where a GPU may be', async () => {
    expect(await chooseAuto(false, undefined)).toEqual({ use: 'wasm' });
    expect(await chooseAuto(true, fakeProvider({ available: true, software: false, adapter: 'NVIDIA H100' }))).toEqual({ use: 'webgpu' });
    expect(await chooseAuto(true, undefined)).toEqual({
      use: 'wasm',
      note: 'this machine may have a GPU, but @shiftmix/webgpu is not installed (npm install @shiftmix/webgpu to train on it)',
    });
    expect(await chooseAuto(true, fakeProvider({ available: true, software: true, adapter: 'SwiftShader' }))).toEqual({
      use: 'wasm',
      note: 'the only WebGPU adapter is software (SwiftShader), slower than wasm; --backend webgpu forces it',
    });
    expect((await chooseAuto(true, fakeProvider({ available: false, software: false, reason: 'no adapter' }))).note).toBe(
      'no WebGPU adapter is usable (no adapter); --backend webgpu forces it',
    );
    expect((await chooseAuto(true, fakeProvider(new Error('Dawn crashed')))).note).toMatch(/no WebGPU adapter is usable \(Dawn crashed\)/);
  });
});

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
