import { packedCausalAttention, tf, type Tensor } from '@shiftmix/core';
import { ATTENTION, PACKED_ATTENTION, PACKED_ATTENTION_GRAD, type AttentionCase } from '@shiftmix/core/kernels';
import { describe, expect, it } from 'vitest';
import { expectClose, normal, useAttentionKernels } from '../test-utils.js';

useAttentionKernels();

type Case = AttentionCase & { seed?: number };

const SEED = 987654;

function attrsOf(c: Case): Record<string, number> {
  return { window: c.window ?? 0, dropoutRate: c.dropout ?? 0, seed: c.dropout ? (c.seed ?? SEED) : 0, scale: 1 / Math.sqrt(c.hd), heads: c.heads };
}

// [B, T, 3D] -> q, k, v: [B, H, T, hd], the split the packed kernel saves.
function split(qkv: Tensor, c: Case): Tensor[] {
  return tf.split(qkv, 3, -1).map((x) => x.reshape([c.batch, c.length, c.heads, c.hd]).transpose([0, 2, 1, 3]));
}

// [B, H, T, hd] -> [B, T, D]
function merge(x: Tensor, c: Case): Tensor {
  return x.transpose([0, 2, 1, 3]).reshape([c.batch, c.length, c.heads * c.hd]);
}

const packed = (c: Case) => (qkv: Tensor) => tf.engine().runKernel(PACKED_ATTENTION.name, { qkv }, attrsOf(c)) as Tensor;

const unpacked = (c: Case) => (qkv: Tensor) => {
  const [q, k, v] = split(qkv, c);
  const { heads: _heads, ...attrs } = attrsOf(c);
  return merge(tf.engine().runKernel(ATTENTION.name, { q, k, v }, attrs) as Tensor, c);
};

/** Output and dqkv of `f` for a loss that weighs every output element differently. */
function run(f: (qkv: Tensor) => Tensor, qkv: Tensor, weights: Tensor): [Tensor, Tensor] {
  return [f(qkv), tf.grad((x: Tensor) => tf.sum(tf.mul(f(x), weights)))(qkv)];
}

// Forward and dqkv against the unpacked kernel and the composite, case by case, are
// parity/attention-checks.ts's.
describe('flash attention over the packed projection on webgpu', () => {
  it('is what core dispatches packedCausalAttention to', () => {
    expect(PACKED_ATTENTION.implementedOn()).toBe(true);
  });

  it('recomputes the logsumexp for a gradient of a run outside the tape', async () => {
    const c: Case = { batch: 1, heads: 2, length: 19, hd: 8, window: 4, dropout: 0.25 };
    const qkv = normal([1, 19, 48], 3);
    const dy = normal([1, 19, 16], 4);
    const o = packed(c)(qkv);
    const dqkv = tf.engine().runKernel(PACKED_ATTENTION_GRAD.name, { dy, qkv, o }, attrsOf(c)) as Tensor;
    const [, taped] = run(packed(c), qkv, dy);
    await expectClose(dqkv, taped, 1e-6, 'dqkv');
    tf.dispose([qkv, dy, o, dqkv, taped]);
  });

  it('keeps no tensors after a gradient step through packedCausalAttention', async () => {
    const qkv = normal([2, 9, 24], 5);
    const before = tf.memory().numTensors;
    const options = { window: 3, dropout: 0.1, seed: 42, training: true };
    const grad = tf.grad((x: Tensor) => tf.sum(packedCausalAttention(x, 2, options)))(qkv);
    const y = packedCausalAttention(qkv, 2, options);
    const reference = tf.tidy(() => unpacked({ batch: 2, heads: 2, length: 9, hd: 4, window: 3, dropout: 0.1, seed: 42 })(qkv));
    await expectClose(y, reference, 1e-6, 'O');
    tf.dispose([grad, y, reference]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => packedCausalAttention(normal([2, 9, 20], 6), 3, options)).toThrow(/heads/);
  });
});
