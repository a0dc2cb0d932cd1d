import { Rng, createWeightInit, selectBackend, tf, type Tensor3D } from '@shiftmix/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { softmaxAttentionSpec, type SoftmaxAttention, type SoftmaxAttentionConfig } from './index.js';
import { context, makeMixer } from './test-fixtures.js';

// Rotates (x[i], x[i + hd/2]) by pos * base^(-2i/hd), in place.
function ropeNaive(x: number[], pos: number, base: number): void {
  const half = x.length / 2;
  for (let i = 0; i < half; i++) {
    const angle = pos * Math.pow(base, (-2 * i) / x.length);
    const [a, b] = [x[i], x[i + half]];
    x[i] = a * Math.cos(angle) - b * Math.sin(angle);
    x[i + half] = b * Math.cos(angle) + a * Math.sin(angle);
  }
}

/** The mixer written as loops over batch, position, head and visible key, in doubles. */
function naiveForward(mixer: SoftmaxAttention, u: number[][][]): number[][][] {
  const { dim: d, heads, headDim: hd, config } = mixer;
  const [wqkv, bqkv, wo, bo] = ['qkv.weight', 'qkv.bias', 'out.weight', 'out.bias'].map((n) => mixer.weights[n].dataSync());
  const affine = (x: number[], w: ArrayLike<number>, b: ArrayLike<number>, out: number) =>
    Array.from({ length: out }, (_, c) => x.reduce((s, xi, i) => s + xi * w[i * out + c], b[c]));
  return u.map((seq) => {
    const qkv = seq.map((x) => affine(x, wqkv, bqkv, 3 * d));
    // head h of q, k or v (part 0, 1, 2) at position t, rotated when it is q or k
    const part = (t: number, p: number, h: number) => {
      const x = qkv[t].slice(p * d + h * hd, p * d + (h + 1) * hd);
      if (config.rope && p < 2) ropeNaive(x, t, config.ropeBase);
      return x;
    };
    return seq.map((_, t) => {
      const merged: number[] = [];
      for (let h = 0; h < heads; h++) {
        const q = part(t, 0, h);
        const from = config.window === null ? 0 : Math.max(0, t - config.window + 1);
        const js = Array.from({ length: t - from + 1 }, (_, n) => from + n);
        const scores = js.map((j) => part(j, 1, h).reduce((s, kj, i) => s + kj * q[i], 0) / Math.sqrt(hd));
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const total = e.reduce((a, b) => a + b, 0);
        const out = new Array(hd).fill(0);
        js.forEach((j, n) => part(j, 2, h).forEach((vj, i) => (out[i] += (e[n] / total) * vj)));
        merged.push(...out);
      }
      return affine(merged, wo, bo, d);
    });
  });
}

const CONFIGS: Array<[string, Partial<SoftmaxAttentionConfig>]> = [
  ['full', {}],
  ['window 3', { window: 3 }],
  ['rope', { rope: true, ropeBase: 50 }],
  ['rope + window 2', { rope: true, window: 2 }],
];

describe('softmax-attention against a naive loop', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it.each(CONFIGS)('matches the reference (%s)', (_, config) => {
    const mixer = makeMixer(config);
    const u = tf.randomNormal([2, 6, 8], 0, 1, 'float32', 7) as Tensor3D;
    const y = mixer.forward(u, { training: false });
    expect(y.shape).toEqual([2, 6, 8]);
    const expected = naiveForward(mixer, u.arraySync()).flat(2);
    const got = y.dataSync();
    const worst = expected.reduce((m, e, i) => Math.max(m, Math.abs(e - got[i])), 0);
    expect(worst).toBeLessThan(1e-4);
  });

  it('initializes weights with the model init: qkv normal, output projection scaled, biases zero', () => {
    const mixer = softmaxAttentionSpec.create(context({ dim: 16, heads: 4 }), { rope: false, ropeBase: 10000 }) as SoftmaxAttention;
    const init = createWeightInit(new Rng(1), 2);
    expect(mixer.weights['qkv.weight'].arraySync()).toEqual(init.normal([16, 48]).arraySync());
    expect(mixer.weights['out.weight'].arraySync()).toEqual(init.outputProjection([16, 16]).arraySync());
    expect(mixer.weights['qkv.bias'].sum().dataSync()[0]).toBe(0);
    expect(mixer.weights['out.bias'].abs().sum().dataSync()[0]).toBe(0);
    const sizes = Object.values(mixer.weights).reduce((n, w) => n + w.size, 0);
    expect(sizes).toBe(softmaxAttentionSpec.paramCount(context({ dim: 16, heads: 4 }), mixer.config));
    expect(sizes).toBe(4 * 16 * 16 + 4 * 16);
    mixer.dispose();
  });
});
