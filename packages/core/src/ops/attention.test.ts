import { beforeAll, describe, expect, it } from 'vitest';
import {
  ATTENTION,
  type CausalAttentionKernelAttrs,
  PACKED_ATTENTION,
  type PackedAttentionKernelAttrs,
  causalAttention,
  causalAttentionComposite,
  packedCausalAttention,
} from '../kernels/index.js';
import { selectBackend } from '../backend.js';
import { tf, type Tensor } from '../tf.js';
import { applyRope, cachedAttention } from './attention.js';

// Naive per-position loop: out[b, h, i] = sum_j softmax_j(q_i . k_j / sqrt(hd)) v_j over
// the visible j (j <= i, i - j < window).
function naiveAttention(q: Float32Array | number[], k: ArrayLike<number>, v: ArrayLike<number>, shape: number[], window?: number): Float32Array {
  const [b, h, t, hd] = shape;
  const out = new Float32Array(b * h * t * hd);
  for (let bh = 0; bh < b * h; bh++) {
    const base = bh * t * hd;
    for (let i = 0; i < t; i++) {
      const visible: number[] = [];
      for (let j = 0; j <= i; j++) if (window === undefined || i - j < window) visible.push(j);
      const scores = visible.map((j) => {
        let s = 0;
        for (let d = 0; d < hd; d++) s += q[base + i * hd + d] * k[base + j * hd + d];
        return s / Math.sqrt(hd);
      });
      const max = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - max));
      const total = weights.reduce((a, c) => a + c, 0);
      visible.forEach((j, n) => {
        for (let d = 0; d < hd; d++) out[base + i * hd + d] += (weights[n] / total) * v[base + j * hd + d];
      });
    }
  }
  return out;
}

const SHAPE = [2, 2, 6, 4];
const random = (seed: number) => tf.randomNormal(SHAPE, 0, 1, 'float32', seed);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('causal attention op', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it.each([undefined, 1, 3])('matches a naive loop (window %s)', (window) => {
    const [q, k, v] = [random(1), random(2), random(3)];
    const out = causalAttention(q, k, v, { window, training: false });
    expect(out.shape).toEqual(SHAPE);
    const expected = naiveAttention(q.dataSync() as Float32Array, k.dataSync(), v.dataSync(), SHAPE, window);
    expect(maxAbsDiff(out.dataSync(), expected)).toBeLessThan(1e-5);
  });

  it('applies dropout only while training, reproducibly for one seed', () => {
    const [q, k, v] = [random(4), random(5), random(6)];
    const plain = causalAttentionComposite(q, k, v, { training: false }).dataSync();
    const evalMode = causalAttention(q, k, v, { dropout: 0.5, seed: 7, training: false }).dataSync();
    expect(maxAbsDiff(evalMode, plain)).toBe(0);
    const a = causalAttention(q, k, v, { dropout: 0.5, seed: 7, training: true }).dataSync();
    const b = causalAttention(q, k, v, { dropout: 0.5, seed: 7, training: true }).dataSync();
    const c = causalAttention(q, k, v, { dropout: 0.5, seed: 8, training: true }).dataSync();
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, plain)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-3);
  });

  it('rejects mismatched shapes, bad windows and dropout without a seed', () => {
    const q = random(1);
    expect(() => causalAttention(q, q, tf.zeros([2, 2, 5, 4]), { training: false })).toThrow(/one shape/);
    expect(() => causalAttention(q, q, q, { window: 0, training: false })).toThrow(/window/);
    expect(() => causalAttention(q, q, q, { dropout: 0.1, training: true })).toThrow(/seed/);
  });

  it('gives the last row of the full attention when one query attends over a cache', () => {
    const [q, k, v] = [random(9), random(10), random(11)];
    const full = causalAttention(q, k, v, { training: false }) as tf.Tensor4D;
    const last = cachedAttention(q.slice([0, 0, 5, 0], [2, 2, 1, 4]), k, v);
    expect(maxAbsDiff(last.dataSync(), full.slice([0, 0, 5, 0], [2, 2, 1, 4]).dataSync())).toBeLessThan(1e-6);
  });

  it('dispatches to a kernel registered under ATTENTION.name', () => {
    const seen: CausalAttentionKernelAttrs[] = [];
    expect(ATTENTION.implementedOn()).toBe(false);
    tf.registerKernel({
      kernelName: ATTENTION.name,
      backendName: 'cpu',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const cpu = backend as unknown as { readSync(id: object): Float32Array; makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo };
        const { q, k, v } = inputs as Record<string, tf.TensorInfo>;
        const typed = attrs as unknown as CausalAttentionKernelAttrs;
        seen.push(typed);
        const out = naiveAttention(cpu.readSync(q.dataId), cpu.readSync(k.dataId), cpu.readSync(v.dataId), q.shape, typed.window || undefined);
        return cpu.makeTensorInfo(q.shape, 'float32', out);
      },
    });
    try {
      const [q, k, v] = [random(1), random(2), random(3)];
      const fused = causalAttention(q, k, v, { window: 2, dropout: 0.3, seed: 5, training: false });
      const reference = causalAttentionComposite(q, k, v, { window: 2, training: false });
      expect(seen).toEqual([{ window: 2, dropoutRate: 0, seed: 0, scale: 0.5 }]);
      expect(maxAbsDiff(fused.dataSync(), reference.dataSync())).toBeLessThan(1e-5);
    } finally {
      tf.unregisterKernel(ATTENTION.name, 'cpu');
    }
    expect(ATTENTION.implementedOn()).toBe(false);
  });
});

describe('packed causal attention op', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  const [B, T, H, HD] = [2, 5, 3, 2];
  const D = H * HD;
  const packed = (seed: number) => tf.randomNormal([B, T, 3 * D], 0, 1, 'float32', seed);
  // Visits every (b, h, t, e) with its flat index in [B, H, T, hd] and in [B, T, D].
  function eachElement(visit: (heads: number, tokens: number) => void): void {
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          for (let e = 0; e < HD; e++) visit(((b * H + h) * T + t) * HD + e, (b * T + t) * D + h * HD + e);
        }
      }
    }
  }
  // [B, T, 3D] -> part 0, 1 or 2 (q, k, v) as [B, H, T, hd], by index arithmetic rather than tensor ops.
  function unpack(qkv: Float32Array, part: number): Float32Array {
    const out = new Float32Array(B * H * T * HD);
    eachElement((heads, tokens) => (out[heads] = qkv[tokens + Math.floor(tokens / D) * 2 * D + part * D]));
    return out;
  }

  it.each([undefined, 2])('matches a naive loop over the heads read from [q | k | v] (window %s)', (window) => {
    const qkv = packed(1);
    const out = packedCausalAttention(qkv, H, { window, training: false });
    expect(out.shape).toEqual([B, T, D]);
    const values = qkv.dataSync() as Float32Array;
    const heads = naiveAttention(unpack(values, 0), unpack(values, 1), unpack(values, 2), [B, H, T, HD], window); // [B, H, T, hd]
    const got = out.dataSync();
    let worst = 0;
    eachElement((h, t) => (worst = Math.max(worst, Math.abs(got[t] - heads[h]))));
    expect(worst).toBeLessThan(1e-5);
  });

  it('gives exactly the split-and-transpose path, dropout included', () => {
    const qkv = packed(2);
    const options = { window: 3, dropout: 0.4, seed: 11, training: true };
    const [q, k, v] = tf.split(qkv, 3, -1).map((x) => x.reshape([B, T, H, HD]).transpose([0, 2, 1, 3]));
    const split = causalAttention(q, k, v, options).transpose([0, 2, 1, 3]).reshape([B, T, D]);
    expect(maxAbsDiff(packedCausalAttention(qkv, H, options).dataSync(), split.dataSync())).toBe(0);
  });

  it('rejects a projection that is not [B, T, 3D] with D a multiple of heads', () => {
    expect(() => packedCausalAttention(packed(1), 4, { training: false })).toThrow(/heads/);
    expect(() => packedCausalAttention(tf.zeros([B, T, 3 * D, 1]), H, { training: false })).toThrow(/\[B, T, 3D\]/);
    expect(() => packedCausalAttention(packed(1), H, { window: 0, training: false })).toThrow(/window/);
  });

  it('dispatches to a kernel registered under PACKED_ATTENTION.name', () => {
    const seen: PackedAttentionKernelAttrs[] = [];
    expect(PACKED_ATTENTION.implementedOn()).toBe(false);
    tf.registerKernel({
      kernelName: PACKED_ATTENTION.name,
      backendName: 'cpu',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const cpu = backend as unknown as { makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo };
        seen.push(attrs as unknown as PackedAttentionKernelAttrs);
        const [b, t] = (inputs.qkv as tf.TensorInfo).shape;
        return cpu.makeTensorInfo([b, t, D], 'float32', new Float32Array(b * t * D).fill(7));
      },
    });
    try {
      const out = packedCausalAttention(packed(3), H, { window: 4, dropout: 0.2, seed: 9, training: true });
      expect(seen).toEqual([{ window: 4, dropoutRate: 0.2, seed: 9, scale: 1 / Math.sqrt(HD), heads: H }]);
      expect(out.shape).toEqual([B, T, D]);
      expect(out.dataSync().every((x) => x === 7)).toBe(true);
    } finally {
      tf.unregisterKernel(PACKED_ATTENTION.name, 'cpu');
    }
    expect(PACKED_ATTENTION.implementedOn()).toBe(false);
  });
});

describe('RoPE', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('rotates each (i, i + hd/2) pair by position * base^(-2i/hd)', () => {
    const x = tf.randomNormal([1, 1, 3, 4], 0, 1, 'float32', 3);
    const xs = x.dataSync();
    const out = applyRope(x, 5, 100).dataSync();
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < 2; i++) {
        const angle = (5 + t) * Math.pow(100, -i / 2);
        const [a, b] = [xs[t * 4 + i], xs[t * 4 + i + 2]];
        expect(out[t * 4 + i]).toBeCloseTo(a * Math.cos(angle) - b * Math.sin(angle), 5);
        expect(out[t * 4 + i + 2]).toBeCloseTo(b * Math.cos(angle) + a * Math.sin(angle), 5);
      }
    }
  });

  it('makes scores depend only on the distance between positions', () => {
    const t = 7;
    // The same query and key vector at every position: only RoPE tells positions apart.
    const q = applyRope(tf.randomNormal([1, 1, 1, 8], 0, 1, 'float32', 1).tile([1, 1, t, 1]), 0);
    const k = applyRope(tf.randomNormal([1, 1, 1, 8], 0, 1, 'float32', 2).tile([1, 1, t, 1]), 0);
    const scores = tf.matMul(q.reshape([t, 8]) as tf.Tensor2D, k.reshape([t, 8]) as tf.Tensor2D, false, true).arraySync() as number[][];
    for (let i = 1; i < t; i++) {
      for (let j = 1; j < t; j++) expect(scores[i][j]).toBeCloseTo(scores[i - 1][j - 1], 4);
    }
    // And it does depend on the distance.
    expect(Math.abs(scores[3][0] - scores[3][3])).toBeGreaterThan(1e-3);
  });

  it('gives a decode step at position p exactly row p of the full-sequence rotation', () => {
    const x = tf.randomNormal([2, 2, 6, 4], 0, 1, 'float32', 4);
    const full = applyRope(x, 0) as Tensor;
    for (const p of [0, 3, 5]) {
      const one = applyRope(x.slice([0, 0, p, 0], [2, 2, 1, 4]), p);
      expect(maxAbsDiff(one.dataSync(), full.slice([0, 0, p, 0], [2, 2, 1, 4]).dataSync())).toBe(0);
    }
  });
});
