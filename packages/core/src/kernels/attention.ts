import { ShiftmixError } from '../errors.js';
import { causalMask } from '../ops/attention.js';
import { tf, type Tensor } from '../tf.js';
import { dropout } from './dropout.js';
import { defineKernel, type FusedKernel } from './kernel.js';
import { takeForGradient } from './saved.js';
import { attentionChecks, packedAttentionChecks } from './attention-checks.js';

// Causal softmax attention, flash-style: never the [T, T] scores in memory. Two layouts: q,
// k and v with the heads split ([B, H, T, hd]), or read in place from the fused projection
// [q | k | v] ([B, T, 3D]) with the heads merged on output. The forward keeps each row's
// logsumexp for the backward.

export interface CausalAttentionKernelAttrs {
  /** Sliding window size; 0 means full causal attention. */
  window: number;
  /** Attention dropout rate on the probabilities; 0 when not training. */
  dropoutRate: number;
  /** Seed of the dropout mask, 0 when dropoutRate is 0. */
  seed: number;
  /** Score scale, 1 / sqrt(hd). */
  scale: number;
}

export interface PackedAttentionKernelAttrs extends CausalAttentionKernelAttrs {
  /** Number of heads H; hd = D / H. */
  heads: number;
}

export interface CausalAttentionOptions {
  /** Position t attends to t - window + 1 .. t; undefined or null means every earlier position. */
  window?: number | null;
  /** Dropout rate on the attention probabilities (applied only when training). */
  dropout?: number;
  /** Seed of the dropout mask; required when training with dropout > 0. */
  seed?: number;
  training: boolean;
}

function checkInputs(q: Tensor, k: Tensor, v: Tensor, options: CausalAttentionOptions): void {
  if (q.rank !== 4 || !tf.util.arraysEqual(q.shape, k.shape) || !tf.util.arraysEqual(q.shape, v.shape)) {
    throw new ShiftmixError(
      `causalAttention needs q, k and v of one shape [B, H, T, hd], got ${JSON.stringify([q.shape, k.shape, v.shape])}`,
      'Split the heads before calling it: reshape [B, T, D] to [B, T, H, hd] and transpose to [B, H, T, hd]',
      'E_SHAPE',
    );
  }
  checkOptions(options);
}

function checkOptions(options: CausalAttentionOptions): void {
  const { window } = options;
  if (window != null && !(Number.isInteger(window) && window >= 1)) {
    throw new ShiftmixError(`attention window must be an integer >= 1, got ${window}`, 'Pass a positive window, or none for full causal attention', 'E_CONFIG');
  }
  const rate = options.dropout ?? 0;
  if (options.training && rate > 0 && options.seed === undefined) {
    throw new ShiftmixError('attention dropout needs a seed while training', 'Pass seed (e.g. from the model rng) with dropout > 0', 'E_CONFIG');
  }
}

function checkPacked(qkv: Tensor, heads: number): [number, number, number] {
  const [b, t, c] = qkv.shape as number[];
  if (qkv.rank !== 3 || !(Number.isInteger(heads) && heads >= 1) || c % (3 * heads) !== 0) {
    throw new ShiftmixError(
      `packedCausalAttention needs qkv [B, T, 3D] with D a multiple of heads, got shape ${JSON.stringify(qkv.shape)} and ${heads} heads`,
      'Pass the fused projection [q | k | v] of a [B, T, D] input and a head count that divides D',
      'E_SHAPE',
    );
  }
  return [b, t, c / 3];
}

/** The options a kernel's attributes stand for. */
const optionsOf = (a: CausalAttentionKernelAttrs): CausalAttentionOptions => ({
  window: a.window || null,
  dropout: a.dropoutRate,
  seed: a.seed,
  training: true,
});

/** The kernel attributes of a call: dropout only while training, the scale of head size hd. */
function kernelAttrs(options: CausalAttentionOptions, hd: number): CausalAttentionKernelAttrs {
  const rate = options.training ? (options.dropout ?? 0) : 0;
  return { window: options.window ?? 0, dropoutRate: rate, seed: rate > 0 ? (options.seed ?? 0) : 0, scale: 1 / Math.sqrt(hd) };
}

/**
 * Reference causal attention from tfjs ops: softmax(q k^T / sqrt(hd) + mask) v, with
 * dropout on the probabilities while training. q, k, v: [B, H, T, hd] -> [B, H, T, hd].
 */
export function causalAttentionComposite(q: Tensor, k: Tensor, v: Tensor, options: CausalAttentionOptions): Tensor {
  checkInputs(q, k, v, options);
  const [, , t, hd] = q.shape;
  const rate = options.dropout ?? 0;
  return tf.tidy(() => {
    const scores = tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true).mul(1 / Math.sqrt(hd)); // [B, H, T, T]
    const probs = tf.softmax(scores.add(causalMask(t, options.window)), -1);
    const dropped = dropout(probs, rate, options.training, options.seed ?? 0);
    return tf.matMul(dropped as tf.Tensor4D, v as tf.Tensor4D); // [B, H, T, hd]
  });
}

/**
 * The reference of packedCausalAttention: split [q | k | v], heads to [B, H, T, hd],
 * causalAttention, heads merged back. qkv: [B, T, 3D] -> [B, T, D].
 */
export function packedCausalAttentionComposite(qkv: Tensor, heads: number, options: CausalAttentionOptions): Tensor {
  const [b, t, d] = checkPacked(qkv, heads);
  return tf.tidy(() => {
    const [q, k, v] = tf.split(qkv, 3, -1).map((x) => x.reshape([b, t, heads, d / heads]).transpose([0, 2, 1, 3])); // [B, H, T, hd]
    const attended = causalAttention(q, k, v, options); // [B, H, T, hd]
    return attended.transpose([0, 2, 1, 3]).reshape([b, t, d]);
  });
}

const ATTRS = { window: 'sliding window, 0: every earlier position', dropoutRate: 'on the probabilities', seed: 'mask seed', scale: '1 / sqrt(hd)' };

export const ATTENTION: FusedKernel<CausalAttentionKernelAttrs> = defineKernel<CausalAttentionKernelAttrs>({
  name: 'ShiftmixAttention',
  summary: 'causal softmax attention, heads split, with dropout on the probabilities by attentionDropoutKeep',
  inputs: { q: 'float32 [B, H, T, hd]', k: 'float32 [B, H, T, hd]', v: 'float32 [B, H, T, hd]' },
  attrs: ATTRS,
  outputs: { o: '[B, H, T, hd]' },
  shapes: ({ q }) => [q],
  reference: ({ q, k, v }, a) => causalAttentionComposite(q, k, v, optionsOf(a)),
  backward: {
    name: 'ShiftmixAttentionGrad',
    summary: "dq, dk, dv of causal attention from the forward's output and logsumexp (recomputed when absent)",
    inputs: { dy: 'float32 [B, H, T, hd]', q: 'as dy', k: 'as dy', v: 'as dy', o: 'the forward output', lse: 'optional, float32 [B, H, T]' },
    outputs: { dq: '[B, H, T, hd]', dk: '[B, H, T, hd]', dv: '[B, H, T, hd]' },
    shapes: ({ q }) => [q, q, q],
  },
  gradient: {
    inputs: ['q', 'k', 'v'],
    outputs: [true],
    backward: ([dy], { inputs: [q, k, v], outputs: [o] }, attrs, backward) => {
      const lse = takeForGradient(o);
      const [dq, dk, dv] = backward.call<Tensor[]>({ dy, q, k, v, o, ...(lse ? { lse } : {}) }, attrs);
      return { q: () => dq, k: () => dk, v: () => dv };
    },
  },
  checks: () => attentionChecks(),
});

export const ATTENTION_GRAD: FusedKernel<CausalAttentionKernelAttrs> = ATTENTION.backward!;

export const PACKED_ATTENTION: FusedKernel<PackedAttentionKernelAttrs> = defineKernel<PackedAttentionKernelAttrs>({
  name: 'ShiftmixAttentionPacked',
  summary: 'causal attention read from the fused projection [q | k | v], heads merged on output',
  inputs: { qkv: 'float32 [B, T, 3D]' },
  attrs: { ...ATTRS, heads: 'H, with D = H * hd' },
  outputs: { o: '[B, T, D]' },
  shapes: ({ qkv: [b, t, c] }) => [[b, t, c / 3]],
  reference: ({ qkv }, a) => packedCausalAttentionComposite(qkv, a.heads, optionsOf(a)),
  backward: {
    name: 'ShiftmixAttentionPackedGrad',
    summary: 'dqkv of packed causal attention, [dq | dk | dv] in the layout of qkv',
    inputs: { dy: 'float32 [B, T, D]', qkv: 'float32 [B, T, 3D]', o: 'the forward output', lse: 'optional, float32 [B, H, T]' },
    outputs: { dqkv: '[B, T, 3D]' },
    shapes: ({ qkv }) => [qkv],
  },
  gradient: {
    inputs: ['qkv'],
    outputs: [true],
    backward: ([dy], { inputs: [qkv], outputs: [o] }, attrs, backward) => {
      const lse = takeForGradient(o);
      const dqkv = backward.call({ dy, qkv, o, ...(lse ? { lse } : {}) }, attrs);
      return { qkv: () => dqkv };
    },
  },
  checks: () => packedAttentionChecks(),
});

export const PACKED_ATTENTION_GRAD: FusedKernel<PackedAttentionKernelAttrs> = PACKED_ATTENTION.backward!;

/**
 * Causal multi-head attention, q, k, v: [B, H, T, hd] -> [B, H, T, hd]. One kernel where
 * the backend implements ATTENTION, else the composite reference.
 */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor, options: CausalAttentionOptions): Tensor {
  checkInputs(q, k, v, options);
  return ATTENTION.run({ q, k, v }, kernelAttrs(options, (q.shape as number[])[3]));
}

/**
 * Causal multi-head attention straight from a fused projection, qkv: [B, T, 3D] ->
 * [B, T, D]: PACKED_ATTENTION reads the heads in place (no split, no transposes); without
 * it, the composite (which still takes ATTENTION where the backend has it).
 */
export function packedCausalAttention(qkv: Tensor, heads: number, options: CausalAttentionOptions): Tensor {
  const [, , d] = checkPacked(qkv, heads);
  checkOptions(options);
  return PACKED_ATTENTION.run({ qkv }, { ...kernelAttrs(options, d / heads), heads });
}
