import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FUSION_BLEND, HSM_AB, fusionBlend, hsmAbMix } from './index.js';
import { selectBackend } from '../backend.js';
import { tf, type Tensor1D, type Tensor3D } from '../tf.js';
import { channelGroups } from '../schedule.js';

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Naive loop for S on a flat [B, T, D] array: channel c of group g reads t - shifts[g]. */
function naiveShift(x: ArrayLike<number>, [b, t, d]: number[], shifts: number[]): Float32Array {
  const groupOf: number[] = [];
  channelGroups(d, shifts.length).forEach(({ start, size }, g) => {
    for (let c = start; c < start + size; c++) groupOf[c] = g;
  });
  const out = new Float32Array(b * t * d);
  for (let i = 0; i < b; i++) {
    for (let p = 0; p < t; p++) {
      for (let c = 0; c < d; c++) {
        const q = p - shifts[groupOf[c]];
        out[(i * t + p) * d + c] = q >= 0 ? x[(i * t + q) * d + c] : 0;
      }
    }
  }
  return out;
}

function naiveAb(u: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, shape: number[], shifts: number[]): Float32Array {
  const su = naiveShift(u, shape, shifts);
  const d = shape[2];
  return su.map((s, i) => a[i % d] * u[i] + b[i % d] * s);
}

function naiveBlend(g: ArrayLike<number>, v: ArrayLike<number>, shape: number[], shifts: number[]): Float32Array {
  const sv = naiveShift(v, shape, shifts);
  return sv.map((s, i) => g[i] * v[i] + (1 - g[i]) * s);
}

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('composite ops', () => {
  const shifts = [1, 2, 5];
  it('hsmAbMix computes a * U + b * S(U)', () => {
    const u = tf.randomNormal([2, 6, 7], 0, 1, 'float32', 1) as Tensor3D;
    const a = tf.randomNormal([7], 0, 1, 'float32', 2) as Tensor1D;
    const b = tf.randomNormal([7], 0, 1, 'float32', 3) as Tensor1D;
    const want = tf.tensor3d(naiveAb(u.dataSync(), a.dataSync(), b.dataSync(), u.shape, shifts), u.shape);
    expect(maxAbsDiff(hsmAbMix(u, a, b, shifts), want)).toBeLessThan(1e-6);
  });

  it('fusionBlend computes G * V + (1 - G) * S(V)', () => {
    const g = tf.sigmoid(tf.randomNormal([2, 6, 7], 0, 2, 'float32', 4)) as Tensor3D;
    const v = tf.randomNormal([2, 6, 7], 0, 1, 'float32', 5) as Tensor3D;
    const want = tf.tensor3d(naiveBlend(g.dataSync(), v.dataSync(), v.shape, shifts), v.shape);
    expect(maxAbsDiff(fusionBlend(g, v, shifts), want)).toBeLessThan(1e-6);
  });
});

describe('fused kernel dispatch', () => {
  const calls: { name: string; shifts: number[] }[] = [];
  const registered: string[] = [];

  /** A toy cpu kernel that computes the op with the naive loops and records its call. */
  function registerToy(name: string, inputNames: string[], compute: (values: Float32Array[], shape: number[], shifts: number[]) => Float32Array): void {
    tf.registerKernel({
      kernelName: name,
      backendName: 'cpu',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const shifts = (attrs as unknown as { shifts: number[] }).shifts;
        calls.push({ name, shifts });
        const cpu = backend as unknown as {
          readSync(id: unknown): Float32Array;
          makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
        };
        const values = inputNames.map((key) => cpu.readSync((inputs[key] as tf.TensorInfo).dataId));
        const shape = (inputs[inputNames[inputNames.length - 1]] as tf.TensorInfo).shape;
        return cpu.makeTensorInfo(shape, 'float32', compute(values, shape, shifts));
      },
    });
    registered.push(name);
  }

  afterEach(() => {
    for (const name of registered.splice(0)) tf.unregisterKernel(name, 'cpu');
    calls.length = 0;
  });

  it('runs a registered hsm-ab kernel with the shifts as attribute', () => {
    registerToy(HSM_AB.name, ['a', 'b', 'u'], ([a, b, u], shape, s) => naiveAb(u, a, b, shape, s));
    expect(HSM_AB.implementedOn()).toBe(true);
    const u = tf.randomNormal([1, 5, 4], 0, 1, 'float32', 6) as Tensor3D;
    const a = tf.tensor1d([1, 2, 3, 4]);
    const b = tf.tensor1d([-1, 0.5, 2, 1]);
    const fused = hsmAbMix(u, a, b, [1, 3]);
    expect(calls).toEqual([{ name: HSM_AB.name, shifts: [1, 3] }]);
    tf.unregisterKernel(registered.pop() as string, 'cpu');
    expect(HSM_AB.implementedOn()).toBe(false);
    expect(maxAbsDiff(fused, hsmAbMix(u, a, b, [1, 3]))).toBeLessThan(1e-6);
    expect(calls).toHaveLength(1);
  });

  it('runs a registered fusion-blend kernel', () => {
    registerToy(FUSION_BLEND.name, ['g', 'v'], ([g, v], shape, s) => naiveBlend(g, v, shape, s));
    const g = tf.sigmoid(tf.randomNormal([1, 5, 4], 0, 1, 'float32', 7)) as Tensor3D;
    const v = tf.randomNormal([1, 5, 4], 0, 1, 'float32', 8) as Tensor3D;
    const fused = fusionBlend(g, v, [2]);
    expect(calls).toEqual([{ name: FUSION_BLEND.name, shifts: [2] }]);
    tf.unregisterKernel(registered.pop() as string, 'cpu');
    expect(maxAbsDiff(fused, fusionBlend(g, v, [2]))).toBeLessThan(1e-6);
  });
});
