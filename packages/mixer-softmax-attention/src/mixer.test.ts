import { linear, selectBackend, tf, type Tensor, type Tensor2D, type Tensor3D } from '@shiftmix/core';
import { PACKED_ATTENTION } from '@shiftmix/core/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SoftmaxAttentionConfig } from './index.js';
import { context, makeMixer } from './test-fixtures.js';

const [B, T, D] = [2, 7, 8];
const input = (seed: number) => tf.randomNormal([B, T, D], 0, 1, 'float32', seed) as Tensor3D;

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const CONFIGS: Array<[string, Partial<SoftmaxAttentionConfig>]> = [
  ['full', {}],
  ['window 3', { window: 3 }],
  ['rope', { rope: true }],
  ['rope + window 2', { rope: true, window: 2 }],
];

describe('softmax-attention mixer', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it.each(CONFIGS)('leaves earlier outputs exactly unchanged when the future changes (%s)', (_, config) => {
    const mixer = makeMixer(config);
    const u = input(1);
    const y = mixer.forward(u, { training: false });
    for (const s of [1, 4, 6]) {
      // Replace positions >= s with other values.
      const keep = tf.range(0, T).less(s).reshape([1, T, 1]).tile([B, 1, D]) as tf.Tensor3D;
      const perturbed = tf.where(keep, u, input(2).mul(10)) as Tensor3D;
      const y2 = mixer.forward(perturbed, { training: false });
      expect(maxAbsDiff(y.slice([0, 0, 0], [B, s, D]), y2.slice([0, 0, 0], [B, s, D]))).toBe(0);
      expect(maxAbsDiff(y.slice([0, s, 0], [B, 1, D]), y2.slice([0, s, 0], [B, 1, D]))).toBeGreaterThan(1e-3);
    }
  });

  it.each([null, 1, 3])('gives output t a gradient exactly from inputs t - window + 1 .. t (window %s)', (window) => {
    const mixer = makeMixer({ window });
    const u = input(3);
    const t = 5;
    const grad = tf.grad((x: Tensor) =>
      mixer
        .forward(x as Tensor3D, { training: false })
        .slice([0, t, 0], [B, 1, D])
        .sum(),
    )(u);
    const perPosition = grad.abs().sum([0, 2]).arraySync() as number[]; // [T]
    const first = window === null ? 0 : t - window + 1;
    perPosition.forEach((g, j) => {
      if (j >= first && j <= t) expect(g).toBeGreaterThan(1e-4);
      else expect(g).toBe(0);
    });
  });

  it('rejects a decode state made for another batch size', () => {
    const mixer = makeMixer({});
    expect(() => mixer.step(tf.zeros([3, D]) as Tensor2D, mixer.initState(B))).toThrow(/initState/);
  });

  it('leaves nothing behind but its output in forward', () => {
    const mixer = makeMixer({ rope: true, window: 2 });
    const u = input(5);
    const before = tf.memory().numTensors;
    const y = mixer.forward(u, { training: false });
    expect(tf.memory().numTensors - before).toBe(1);
    y.dispose();
  });

  it('hands the qkv projection to a packed attention kernel when the backend has one, unless RoPE is on', () => {
    const seen: Array<{ shape: number[]; heads: number; window: number }> = [];
    PACKED_ATTENTION.implement('cpu', ({ inputs, attrs, backend }) => {
      const { shape } = inputs.qkv as tf.TensorInfo;
      seen.push({ shape, heads: Number(attrs!.heads), window: Number(attrs!.window) });
      const size = shape[0] * shape[1] * (shape[2] / 3);
      return (backend as unknown as { makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo }).makeTensorInfo(
        [shape[0], shape[1], shape[2] / 3],
        'float32',
        new Float32Array(size).fill(0.5),
      );
    });
    try {
      const mixer = makeMixer({ window: 3 });
      const y = mixer.forward(input(7), { training: false });
      expect(seen).toEqual([{ shape: [B, T, 3 * D], heads: 2, window: 3 }]);
      // The kernel's output is the merged heads: [B, T, D] straight into the output projection.
      const expected = linear(tf.fill([B, T, D], 0.5), mixer.weights['out.weight'], mixer.weights['out.bias']);
      expect(maxAbsDiff(y, expected)).toBe(0);
      makeMixer({ rope: true }).forward(input(7), { training: false });
      expect(seen).toHaveLength(1);
    } finally {
      tf.unregisterKernel(PACKED_ATTENTION.name, 'cpu');
    }
  });

  it('applies attention dropout only while training, with seeds from the model rng', () => {
    const ctx = context({ dropout: 0.3 });
    const mixer = makeMixer({}, ctx);
    expect(mixer.config.attentionDropout).toBe(0.3);
    const plain = makeMixer({ attentionDropout: 0 });
    const u = input(6);
    const reference = plain.forward(u, { training: false });
    const rngState = ctx.rng.state;
    expect(maxAbsDiff(mixer.forward(u, { training: false }), reference)).toBe(0);
    expect(ctx.rng.state).toBe(rngState);
    const a = mixer.forward(u, { training: true });
    expect(ctx.rng.state).not.toBe(rngState);
    const b = mixer.forward(u, { training: true });
    expect(maxAbsDiff(a, reference)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
    // Rewinding the rng replays the same mask.
    ctx.rng.state = rngState;
    expect(maxAbsDiff(mixer.forward(u, { training: true }), a)).toBe(0);
  });
});

// wasm is the default CPU backend, so decoding is checked there too.
describe.each(['cpu', 'wasm'] as const)('softmax-attention decoding on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it.each(CONFIGS)('decodes token by token exactly as the full forward pass (%s)', (_, config) => {
    const mixer = makeMixer(config);
    const u = input(4);
    const full = mixer.forward(u, { training: false });
    let state = mixer.initState(B);
    for (let t = 0; t < T; t++) {
      const ut = u.slice([0, t, 0], [B, 1, D]).reshape([B, D]) as Tensor2D;
      const before = tf.memory().numTensors;
      const { y, state: next } = mixer.step(ut, state);
      // y and the two cache tensors are all a step leaves behind.
      expect(tf.memory().numTensors - before).toBe(3);
      expect(next.position).toBe(t + 1);
      const cached = config.window ? Math.min(t + 1, config.window) : t + 1;
      expect(next.tensors.k.shape).toEqual([B, 2, cached, 4]);
      expect(next.tensors.v.shape).toEqual([B, 2, cached, 4]);
      expect(maxAbsDiff(y, full.slice([0, t, 0], [B, 1, D]).reshape([B, D]))).toBeLessThan(1e-4);
      // The old state stays valid for its owner.
      expect(state.tensors.k.isDisposed).toBe(false);
      Object.values(state.tensors).forEach((x) => x.dispose());
      state = next;
    }
  });
});

describe('softmax-attention gradients', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  // Central differences on a few entries of the input and of every weight.
  it.each(CONFIGS)('match central finite differences (%s)', (_, config) => {
    const mixer = makeMixer(config);
    const u = tf.variable(input(8).slice([0, 0, 0], [B, 5, D]));
    const r = tf.randomNormal([B, 5, D], 0, 1, 'float32', 9);
    const loss = () => tf.sum(tf.mul(mixer.forward(u as unknown as Tensor3D, { training: false }), r)) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, [u, ...Object.values(mixer.weights)]);
    const eps = 1e-2;
    const targets: Array<[tf.Variable, string]> = [[u, u.name], ...Object.values(mixer.weights).map((w) => [w, w.name] as [tf.Variable, string])];
    for (const [variable, name] of targets) {
      const analytic = grads[name].dataSync();
      const values = variable.dataSync().slice();
      for (const index of [0, Math.floor(values.length / 3), values.length - 1]) {
        const at = (delta: number) => {
          const moved = values.slice();
          moved[index] += delta;
          variable.assign(tf.tensor(moved, variable.shape));
          return loss().dataSync()[0];
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        variable.assign(tf.tensor(values, variable.shape));
        expect(Math.abs(numeric - analytic[index])).toBeLessThan(2e-3 + 1e-2 * Math.abs(analytic[index]));
      }
    }
  });
});
